import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { convoy } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

/**
 * `api` may be claimed by alpha or beta (a pool), `docs` by anyone once `api` is done, `ops` is
 * beta's by the plan.
 */
const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents:
  - { id: alpha, owner: pm }
  - { id: beta, owner: pm }
  - { id: gamma, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, title: Auth endpoints, pool: [alpha, beta], estimate: 1d }
      - { id: docs, estimate: 1d, dependsOn: [api] }
      - { id: ops, agent: beta, estimate: 1d }
handoff: [All tests pass]
`;

let api: TestApi;
let counter = 0;
const saved = process.env.XDG_STATE_HOME;

beforeAll(async () => {
  api = await startTestApi();
  // The leases convoy agent remembers, in a folder of this file's own.
  process.env.XDG_STATE_HOME = tempDir('convoy-agent-cli-');
});
afterAll(async () => {
  if (saved === undefined) delete process.env.XDG_STATE_HOME;
  else process.env.XDG_STATE_HOME = saved;
  await api?.close();
});

async function project() {
  const id = `ac-${++counter}`;
  await api.apply(plan(id));
  return {
    id,
    alpha: await api.token('agent', id, 'alpha'),
    beta: await api.token('agent', id, 'beta'),
    gamma: await api.token('agent', id, 'gamma'),
  };
}

/** `convoy agent …` with only a URL and an agent token: the agent and project come from the token. */
const agent = (token: string, ...args: string[]) =>
  convoy('agent', ...args, '--url', api.url, '--token', token);

/** Who holds a task's claim and until when, as the task read answers an admin. */
const claimOf = async (project: string, task: string) =>
  (
    await api.call<{ holder?: string; lease?: { expiresAt: string } }>(
      'GET',
      `/v1/plans/${project}/tasks/${task}`,
    )
  ).body;

describe('convoy agent against a running Convoy', () => {
  it('runs an agent’s loop with only its token: next → progress → done, the lease sent for it', async () => {
    // Prepare
    const p = await project();

    // Act
    const next = await agent(p.alpha, 'next');
    const claimedAt = await claimOf(p.id, 'api');
    const progress = await agent(p.alpha, 'progress', '--completion', '60', '--risk', 'green');
    const renewed = await claimOf(p.id, 'api');
    const intruder = await agent(p.beta, 'done', 'api');
    const done = await agent(p.alpha, 'done', 'api', '--note', 'merged');
    const after = await api.call<{ status: string; assignee?: string }>('GET', `/v1/plans/${p.id}/tasks/api`);

    // Assess
    expect(next).toMatchObject({ code: 0, stderr: '' });
    expect(next.stdout).toMatch(
      /^✓ claimed api "Auth endpoints" \(lease L\w{5}… until [\d-]*\s?\d\d:\d\d\)\n$/,
    );
    expect(claimedAt.holder).toBe('alpha');
    expect(progress).toMatchObject({ code: 0, stdout: '✓ heartbeat from alpha on api (60%, risk green)\n' });
    expect(Date.parse(renewed.lease?.expiresAt ?? '')).toBeGreaterThan(
      Date.parse(claimedAt.lease?.expiresAt ?? ''),
    );
    expect(intruder.code).toBe(1);
    expect(intruder.stderr).toMatch(/^error: 409 task api is claimed by alpha/);
    expect(done).toMatchObject({ code: 0, stdout: '✓ done api\n', stderr: '' });
    expect(after.body).toMatchObject({ status: 'done', assignee: 'alpha' });
  });

  it('starts a task the plan assigns, releases a claim, and exits 1 with the server’s message', async () => {
    // Prepare
    const p = await project();
    await agent(p.alpha, 'next');
    await agent(p.alpha, 'done', 'api');

    // Act
    const start = await agent(p.beta, 'start', 'ops');
    const docs = await agent(p.alpha, 'next');
    const release = await agent(p.alpha, 'release', 'docs');
    const notMine = await agent(p.alpha, 'next', '--task', 'ops');
    const retaken = await agent(p.gamma, 'next', '--json');

    // Assess
    expect(start).toMatchObject({ code: 0, stdout: '✓ started ops (in_progress)\n' });
    expect(docs.stdout).toMatch(/^✓ claimed docs /);
    expect(release).toMatchObject({
      code: 0,
      stdout: '✓ released docs: it is ready for another agent to claim\n',
    });
    expect(notMine.code).toBe(1);
    expect(notMine.stderr).toMatch(
      /^error: 409 agent alpha may not claim task ops: the plan assigns it to beta/,
    );
    expect(JSON.parse(retaken.stdout)).toMatchObject({
      task: { id: 'docs', status: 'in_progress' },
      lease: { id: expect.stringMatching(/^L/) },
    });
  });

  it('acts for an agent named by --agent with a person or admin token, and asks for --agent without it', async () => {
    // Prepare
    const p = await project();
    const pm = await api.token('person', p.id, 'pm');

    // Act
    const unnamed = await agent(pm, 'next');
    const forAlpha = await agent(pm, 'next', '--agent', 'alpha');
    const admin = await agent(api.admin, 'progress', '--agent', 'alpha', '--project', p.id);
    const adminUnnamed = await agent(api.admin, 'next', '--project', p.id);

    // Assess
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toMatch(
      /the token acts as person pm, not as an agent: pass --agent ID or set CONVOY_AGENT/,
    );
    expect(forAlpha.stdout).toMatch(/^✓ claimed api "Auth endpoints"/);
    expect(admin).toMatchObject({ code: 0, stdout: '✓ heartbeat from alpha on api\n' }); // the claim pm made for alpha, remembered
    expect(adminUnnamed.stderr).toMatch(/the token acts as an admin, not as an agent/);
  });

  it('the convoy binary, with CONVOY_URL and CONVOY_TOKEN only, says what a waiting agent waits for', async () => {
    // Prepare
    const p = await project();
    await agent(p.alpha, 'next');
    const bin = fileURLToPath(new URL('../../bin/convoy.mjs', import.meta.url));
    const cwd = tempDir('convoy-agent-cwd-');

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'agent', 'next'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        XDG_STATE_HOME: cwd,
        CONVOY_URL: api.url,
        CONVOY_TOKEN: p.gamma,
      },
    });

    // Assess
    expect(stdout).toBe('nothing is ready for gamma: its next tasks wait for api (in_progress, alpha)\n');
  });
});
