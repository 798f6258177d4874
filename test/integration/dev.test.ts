import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DevStartError, startDev } from '../../functions/local/dev-runtime.js';
import { MINIMAL_PLAN } from '../fixtures/plans.js';
import { until } from '../support/wait.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-dev-'));
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, MINIMAL_PLAN);
  return { dir, planFile, dataDir: join(dir, 'data'), stateDir: join(dir, '.convoy') };
}

const call = async (url: string, token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const GATED_PLAN = `version: 1
project: { id: gated, timezone: UTC, start: 2026-01-05 }
people: [{ id: lead }]
agents: [{ id: alpha, owner: lead }]
phases:
  - id: build
    gate: build-gate
    tasks: [{ id: api, agent: alpha, estimate: 1d }]
  - id: ship
    dependsOn: [build]
    tasks: [{ id: release, agent: alpha, estimate: 1d }]
gates:
  - id: build-gate
    criteria: [{ go: "coverage.unit >= 80" }]
    approvers: [lead]
`;

describe('convoy dev', () => {
  it('resumes a gate that waited for a decision when it stopped, so the decision still lands after a restart', async () => {
    // Prepare: no coverage, so the gate is NO-GO and waits for the approver.
    const ws = workspace();
    writeFileSync(ws.planFile, GATED_PLAN);
    const options = {
      planFile: ws.planFile,
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    };
    const first = await startDev({ ...options, port: await freePort() });
    const admin = first.tokens.admin;
    for (const to of ['in_progress', 'done'])
      await call(first.url, admin, 'POST', '/v1/plans/gated/tasks/api/transitions', { to });
    const gateOf = async (url: string) =>
      ((await call(url, admin, 'GET', '/v1/plans/gated/gates')).body.gates as { status: string }[])[0]
        ?.status;
    await until(async () => (await gateOf(first.url)) === 'awaiting-decision');
    await first.stop();

    // Act
    const second = await startDev({ ...options, port: await freePort() });
    await until(async () => (await gateOf(second.url)) === 'awaiting-decision');
    const decided = await call(second.url, admin, 'POST', '/v1/plans/gated/gates/build-gate/decision', {
      decision: 'advance',
    });
    await until(async () => (await gateOf(second.url)) === 'passed');
    const status = await call(second.url, admin, 'GET', '/v1/plans/gated/status');
    await second.stop();

    // Assess
    expect(decided.status).toBe(200);
    expect(status.body.phases).toEqual([
      expect.objectContaining({ id: 'build', status: 'passed' }),
      expect.objectContaining({ id: 'ship', status: 'active' }),
    ]);
  });

  it('prints when each schedule fires next, and runs them on a fast clock', async () => {
    // Prepare: 100,000 times real time, so the next working day's 09:00 standup is seconds away.
    const ws = workspace();
    const lines: string[] = [];

    // Act
    const dev = await startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: (l) => lines.push(l),
      clockSpeed: 100_000,
    });
    const ran = () => lines.some((line) => /^schedule demo\/standup at \S+: standup ran/.test(line));
    await until(ran);
    await dev.stop();

    // Assess
    expect(
      lines.some((line) =>
        /^schedule standup \(standup\): next \w{3} \d{1,2} \w{3}( \d{4})? 09:00 E[SD]T \(America\/New_York\)$/.test(line),
      ),
    ).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^clock: 100000× real time/));
    expect(ran()).toBe(true);
  });

  it('serves the plan with tokens for the admin, every agent and every person, and keeps all state across a restart', async () => {
    // Prepare
    const ws = workspace();
    const lines: string[] = [];
    const first = await startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: (l) => lines.push(l),
    });
    const tokens = JSON.parse(readFileSync(first.tokensFile, 'utf8'));
    await call(first.url, tokens.agents.alpha, 'POST', '/v1/plans/demo/tasks/task-1a/transitions', {
      to: 'in_progress',
    });
    await call(first.url, tokens.agents.alpha, 'POST', '/v1/plans/demo/metrics', { name: 'tps', value: 42 });
    await first.stop();

    // Act
    const second = await startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: (l) => lines.push(l),
    });
    const status = await call(second.url, second.tokens.admin, 'GET', '/v1/plans/demo/status');
    const reused = JSON.parse(readFileSync(second.tokensFile, 'utf8'));
    await second.stop();

    // Assess
    expect(Object.keys(tokens.agents)).toEqual(['alpha', 'beta']);
    expect(Object.keys(tokens.people)).toEqual(['pm']);
    expect(statSync(first.tokensFile).mode & 0o777).toBe(0o600);
    expect(reused).toEqual(tokens);
    expect(status.status).toBe(200);
    expect(
      (status.body.tasks as { id: string; status: string }[]).find((t) => t.id === 'task-1a')?.status,
    ).toBe('in_progress');
    expect((status.body.metrics as Record<string, { value: number }>).tps?.value).toBe(42);
    expect(lines).toContain('plan demo unchanged (version 1); state kept from the last run');
    expect(lines.some((line) => / POST \/v1\/plans\/demo\/tasks\/task-1a\/transitions 200 /.test(line))).toBe(
      true,
    );
    expect(lines.join('\n')).not.toContain(tokens.admin);
    const devJson = JSON.parse(readFileSync(join(ws.stateDir, 'dev.json'), 'utf8'));
    expect(devJson).toMatchObject({ url: second.url, project: 'demo', tokensFile: second.tokensFile });
  });

  it('refuses to start with a clear message when the port is taken, before starting DynamoDB Local', async () => {
    // Prepare
    const ws = workspace();
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));

    // Act
    const start = startDev({
      planFile: ws.planFile,
      port,
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    });

    // Assess
    await expect(start).rejects.toThrow(
      new DevStartError(
        `port ${port} is already in use (another convoy dev?); stop it or choose another port with --port ${port + 1}`,
      ),
    );
    blocker.close();
  });

  it('refuses to start on an invalid plan, listing its problems', async () => {
    // Prepare
    const ws = workspace();
    writeFileSync(
      ws.planFile,
      MINIMAL_PLAN.replace('    owner: pm\n  - id: beta', '    owner: pmm\n  - id: beta'),
    );

    // Act
    const start = startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    });

    // Assess
    await expect(start).rejects.toThrow(
      /the plan is invalid; fix these and start again:\n.*plan\.yaml:10:12: agents\[0\]\.owner: unknown person "pmm"/,
    );
  });

  it('refuses to start with a clear message when a setting is out of range', async () => {
    // Prepare
    const ws = workspace();
    process.env.CONVOY_JIRA_REQUESTS_PER_MINUTE = '2000';

    // Act
    const start = startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    });

    // Assess
    try {
      await expect(start).rejects.toThrow(
        new DevStartError(
          'CONVOY_JIRA_REQUESTS_PER_MINUTE must be a whole number from 1 to 1000, got "2000"',
        ),
      );
    } finally {
      delete process.env.CONVOY_JIRA_REQUESTS_PER_MINUTE;
    }
  });
});
