import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clock, describeResult, parseAgentArgs } from '../../../functions/cli/commands/agent.js';
import { convoy } from '../../support/cli.js';
import { tempDir } from '../../support/temp.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

/** A stand-in for the Convoy API: records each request and answers with the next canned reply. */
let server: Server;
let url: string;
let seen: Seen[];
let replies: { status: number; body: unknown }[];
let state: string;
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        authorization: request.headers.authorization,
        body: body ? JSON.parse(body) : undefined,
      });
      const reply = replies.shift() ?? { status: 500, body: { error: { message: 'no reply queued' } } };
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  replies = [];
  // Each test remembers its leases in a folder of its own.
  state = tempDir('convoy-agent-state-');
  process.env.XDG_STATE_HOME = state;
  for (const name of ['CONVOY_TOKEN', 'CONVOY_URL', 'CONVOY_AGENT', 'CONVOY_PROJECT'])
    delete process.env[name];
});

const as = () => ['--url', url, '--project', 'demo', '--agent', 'alpha', '--token', 'cvy_agent'];
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const claimed = (expiresAt = inAnHour()) => ({
  status: 200,
  body: {
    task: { id: 'api-auth', title: 'Auth endpoints', status: 'in_progress', unblocks: ['docs'] },
    lease: { id: 'L1A2B3C4D5E6F7G8H9J0K', expiresAt },
  },
});
const transitioned = (id: string, status: string, changed = true, phases = {}) => ({
  status: 200,
  body: { task: { id, status, blocked: false }, changed, phases },
});

describe('convoy agent next', () => {
  it('shows no lease expiry for a task the plan gives the agent: that lease never lapses', async () => {
    // Prepare: a lease claimed two hours ago on alpha's own task.
    const reply = claimed(new Date(Date.now() - 2 * 60 * 60 * 1000).toISOString());
    replies.push({ ...reply, body: { ...reply.body, task: { ...reply.body.task, agent: 'alpha' } } });

    // Act
    const result = await convoy('agent', 'next', ...as());

    // Assess
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('✓ claimed api-auth "Auth endpoints" (lease L1A2B3… yours by the plan)\n');
  });

  it('claims the next ready task, prints it with its lease, and remembers the lease (0600)', async () => {
    // Prepare
    const expiresAt = inAnHour();
    replies.push(claimed(expiresAt));

    // Act
    const result = await convoy('agent', 'next', ...as());

    // Assess
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/plans/demo/agents/alpha/claim',
        authorization: 'Bearer cvy_agent',
        body: {},
      },
    ]);
    expect(result.stdout).toBe(
      `✓ claimed api-auth "Auth endpoints" (lease L1A2B3… until ${clock(expiresAt)})\n`,
    );
    const dir = join(state, 'convoy', 'leases');
    const [file] = readdirSync(dir);
    expect(statSync(join(dir, file as string)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(join(dir, file as string), 'utf8'))).toMatchObject({
      url,
      project: 'demo',
      agent: 'alpha',
      task: 'api-auth',
      lease: 'L1A2B3C4D5E6F7G8H9J0K',
    });
  });

  it('claims the task named by --task or as an argument', async () => {
    // Prepare
    replies.push(claimed(), claimed());

    // Act
    const byOption = await convoy('agent', 'next', '--task', 'api-auth', ...as());
    const byArgument = await convoy('agent', 'next', 'api-auth', ...as());

    // Assess
    expect([byOption.code, byArgument.code]).toEqual([0, 0]);
    expect(seen.map((request) => request.body)).toEqual([{ task: 'api-auth' }, { task: 'api-auth' }]);
  });

  it('says what the agent waits for when nothing is ready, and remembers nothing', async () => {
    // Prepare
    replies.push({
      status: 200,
      body: {
        task: null,
        reason: 'waits for api-1 (in_progress, bob)',
        waitingFor: [{ task: 'api-1', status: 'in_progress', holder: 'bob' }],
      },
    });

    // Act
    const result = await convoy('agent', 'next', ...as());

    // Assess
    expect(result).toMatchObject({ code: 0, stdout: 'nothing ready: waits for api-1 (in_progress, bob)\n' });
    expect(() => readdirSync(join(state, 'convoy', 'leases'))).toThrow();
  });

  it('prints the API’s answer as it is with --json', async () => {
    // Prepare
    const reply = claimed();
    replies.push(reply);

    // Act
    const result = await convoy('agent', 'next', ...as(), '--json');

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(reply.body);
  });
});

describe('convoy agent writes on a claimed task', () => {
  it('sends the remembered lease with start, block, unblock and done, then forgets it', async () => {
    // Prepare
    replies.push(claimed());
    await convoy('agent', 'next', ...as());
    replies.push(
      transitioned('api-auth', 'in_progress', false),
      {
        status: 200,
        body: { task: { id: 'api-auth', blocked: true, blockedReason: 'no DB' }, changed: true },
      },
      { status: 200, body: { task: { id: 'api-auth', blocked: false }, changed: true, phases: {} } },
      transitioned('api-auth', 'done', true, { build: 'done', ship: 'active' }),
      transitioned('api-auth', 'done', false),
    );

    // Act
    const start = await convoy('agent', 'start', 'api-auth', ...as());
    const block = await convoy('agent', 'block', 'api-auth', '--reason', 'no DB', ...as());
    const unblock = await convoy('agent', 'unblock', 'api-auth', ...as());
    const done = await convoy('agent', 'done', 'api-auth', '--note', 'merged', ...as());
    const again = await convoy('agent', 'done', 'api-auth', ...as());

    // Assess
    expect(seen.slice(1).map((request) => [request.method, request.url, request.body])).toEqual([
      [
        'POST',
        '/v1/plans/demo/tasks/api-auth/transitions',
        { to: 'in_progress', lease: 'L1A2B3C4D5E6F7G8H9J0K' },
      ],
      ['POST', '/v1/plans/demo/tasks/api-auth/blocker', { reason: 'no DB', lease: 'L1A2B3C4D5E6F7G8H9J0K' }],
      ['DELETE', '/v1/plans/demo/tasks/api-auth/blocker', { lease: 'L1A2B3C4D5E6F7G8H9J0K' }],
      [
        'POST',
        '/v1/plans/demo/tasks/api-auth/transitions',
        { to: 'done', note: 'merged', lease: 'L1A2B3C4D5E6F7G8H9J0K' },
      ],
      // done forgot the lease
      ['POST', '/v1/plans/demo/tasks/api-auth/transitions', { to: 'done' }],
    ]);
    expect(start.stdout).toBe('api-auth is already in_progress; nothing changed\n');
    expect(block.stdout).toBe('✓ blocked api-auth: no DB\n');
    expect(unblock.stdout).toBe('✓ unblocked api-auth\n');
    expect(done.stdout).toBe('✓ done api-auth; phase build done, phase ship active\n');
    expect(again.stdout).toBe('api-auth is already done; nothing changed\n');
  });

  it('sends --lease instead of the remembered one', async () => {
    // Prepare
    replies.push(claimed());
    await convoy('agent', 'next', ...as());
    replies.push(transitioned('api-auth', 'done'));

    // Act
    await convoy('agent', 'done', 'api-auth', '--lease', 'LOTHER', ...as());

    // Assess
    expect(seen[1]?.body).toEqual({ to: 'done', lease: 'LOTHER' });
  });

  it('sends no lease remembered for another agent', async () => {
    // Prepare
    replies.push(claimed());
    await convoy('agent', 'next', ...as());
    replies.push(transitioned('api-auth', 'in_progress'));

    // Act
    await convoy(
      'agent',
      'start',
      'api-auth',
      '--url',
      url,
      '--project',
      'demo',
      '--agent',
      'beta',
      '--token',
      't',
    );

    // Assess
    expect(seen[1]?.body).toEqual({ to: 'in_progress' });
  });

  it('exits 1 with the server’s message on lease_lost, and forgets the stale lease', async () => {
    // Prepare
    replies.push(claimed());
    await convoy('agent', 'next', ...as());
    const lost = {
      status: 409,
      body: { error: { code: 'lease_lost', message: 'task api-auth is claimed by beta until 15:00' } },
    };
    replies.push(lost, lost);

    // Act
    const first = await convoy('agent', 'done', 'api-auth', ...as());
    const second = await convoy('agent', 'done', 'api-auth', ...as());

    // Assess
    expect(first.code).toBe(1);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(/^error: 409 task api-auth is claimed by beta until 15:00\n/);
    expect(first.stderr).toMatch(/no longer valid and is forgotten.*convoy agent next --task api-auth/);
    expect(seen[2]?.body).toEqual({ to: 'done' });
    expect(second.stderr).toMatch(
      /this machine remembers no lease for api-auth: if alpha holds its claim, pass --lease ID/,
    );
  });

  it('gives a claim back with release and forgets its lease', async () => {
    // Prepare
    replies.push(claimed());
    await convoy('agent', 'next', ...as());
    replies.push({ status: 200, body: { task: { id: 'api-auth', status: 'todo' }, released: true } });

    // Act
    const result = await convoy('agent', 'release', 'api-auth', ...as());

    // Assess
    expect(seen[1]).toMatchObject({
      method: 'POST',
      url: '/v1/plans/demo/tasks/api-auth/release',
      body: { lease: 'L1A2B3C4D5E6F7G8H9J0K' },
    });
    expect(result.stdout).toBe('✓ released api-auth: it is ready for another agent to claim\n');
    expect(readdirSync(join(state, 'convoy', 'leases'))).toEqual([]);
  });
});

describe('convoy agent progress', () => {
  it('sends a heartbeat naming the one task whose lease it remembers', async () => {
    // Prepare
    replies.push(claimed());
    await convoy('agent', 'next', ...as());
    replies.push({ status: 200, body: { agent: { id: 'alpha' } } });

    // Act
    const result = await convoy(
      'agent',
      'progress',
      '--completion',
      '40',
      '--risk',
      'yellow',
      '--note',
      'halfway',
      ...as(),
    );

    // Assess
    expect(seen[1]).toMatchObject({
      method: 'POST',
      url: '/v1/plans/demo/agents/alpha/heartbeat',
      body: { task: 'api-auth', completion: 40, risk: 'yellow', note: 'halfway' },
    });
    expect(result.stdout).toBe('✓ heartbeat from alpha on api-auth (40%, risk yellow)\n');
  });

  it('sends a plain heartbeat when it remembers no lease', async () => {
    // Prepare
    replies.push({ status: 200, body: { agent: { id: 'alpha' } } });

    // Act
    const result = await convoy('agent', 'progress', ...as());

    // Assess
    expect(seen[0]?.body).toEqual({});
    expect(result.stdout).toBe('✓ heartbeat from alpha\n');
  });
});

describe('convoy agent handoff', () => {
  it('confirms each --check item and names every --to task', async () => {
    // Prepare
    replies.push({ status: 201, body: { handoff: { task: 'api', to: ['docs', 'sdk'] }, created: true } });

    // Act
    const result = await convoy(
      'agent',
      'handoff',
      'api',
      '--to',
      'docs, sdk',
      '--check',
      'Code compiles without errors',
      '--check',
      'All tests pass',
      '--notes',
      'see README',
      ...as(),
    );

    // Assess
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1/plans/demo/handoffs',
      body: {
        task: 'api',
        to: ['docs', 'sdk'],
        checklist: { 'Code compiles without errors': true, 'All tests pass': true },
        notes: 'see README',
      },
    });
    expect(result.stdout).toBe('✓ handed off api to docs, sdk\n');
  });

  it('reads the plan’s checklist for --all-checked', async () => {
    // Prepare
    replies.push(
      { status: 200, body: { items: ['Code compiles', 'Tests pass'], template: {} } },
      { status: 200, body: { handoff: { task: 'api', to: ['docs'] }, created: false } },
    );

    // Act
    const result = await convoy('agent', 'handoff', 'api', '--to', 'docs', '--all-checked', ...as());

    // Assess
    expect(seen.map((request) => [request.method, request.url])).toEqual([
      ['GET', '/v1/plans/demo/handoff-checklist'],
      ['POST', '/v1/plans/demo/handoffs'],
    ]);
    expect(seen[1]?.body).toMatchObject({ checklist: { 'Code compiles': true, 'Tests pass': true } });
    expect(result.stdout).toBe('the handoff of api to docs was already recorded; nothing changed\n');
  });
});

describe('convoy agent usage', () => {
  it.each([
    [[], /name an action/],
    [['claim'], /unknown action claim; expected one of next, start/],
    [['start'], /name the task: convoy agent start TASK/],
    [['block', 'api'], /say what blocks it/],
    [['handoff', 'api'], /--to T2\[,T3\]/],
    [
      ['handoff', 'api', '--to', 'b', '--check', 'x', '--all-checked'],
      /--check items or --all-checked, not both/,
    ],
    [['progress', '--completion', '150'], /--completion must be a number from 0 to 100, got 150/],
    [['progress', '--completion', 'half'], /--completion must be a number from 0 to 100, got half/],
    [['progress', '--risk', 'purple'], /--risk must be one of green, yellow, red, got purple/],
    [['done', 'api', '--reason', 'x'], /--reason goes with block, not done/],
    [['next', '--completion', '5'], /--completion goes with progress, not next/],
    [['next', 'a', '--task', 'b'], /two tasks named: a and --task b/],
    [['done', 'a', 'b'], /unexpected argument b/],
  ])('refuses %j with a usage error and sends nothing', async (args, message) => {
    // Act
    const result = await convoy('agent', ...args, ...as());

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(seen).toEqual([]);
  });

  it('asks for a token when none is given', async () => {
    // Act
    const result = await convoy('agent', 'next', '--url', url, '--project', 'demo', '--agent', 'alpha');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no token: set CONVOY_TOKEN/);
  });

  it('takes the URL, token, project and agent from the environment', async () => {
    // Prepare
    Object.assign(process.env, {
      CONVOY_URL: url,
      CONVOY_TOKEN: 'cvy_env',
      CONVOY_PROJECT: 'envp',
      CONVOY_AGENT: 'gamma',
    });
    replies.push({ status: 200, body: { task: null, reason: 'no task is ready' } });

    // Act
    const result = await convoy('agent', 'next');

    // Assess
    expect(result.code).toBe(0);
    expect(seen[0]).toMatchObject({
      url: '/v1/plans/envp/agents/gamma/claim',
      authorization: 'Bearer cvy_env',
    });
  });

  it('parses without I/O: the body each action sends', () => {
    expect(parseAgentArgs(['start', 'api'], { note: 'go' })).toEqual({
      action: 'start',
      task: 'api',
      body: { to: 'in_progress', note: 'go' },
    });
    expect(parseAgentArgs(['progress', 'api'], { completion: '0' }).body).toEqual({
      task: 'api',
      completion: 0,
    });
    expect(parseAgentArgs(['handoff', 'api'], { to: 'b', note: 'n' }).body).toEqual({
      task: 'api',
      to: ['b'],
      checklist: {},
      notes: 'n',
    });
  });
});

describe('describeResult', () => {
  it('prints the server’s reason as it is when it already says nothing is ready, and no title equal to the id', () => {
    const next = parseAgentArgs(['next'], {});
    const now = new Date(2026, 0, 5, 9, 0);
    const lease = { id: 'Labcdef0123', expiresAt: new Date(2026, 0, 5, 9, 30).toISOString() };
    expect(
      describeResult(next, 'gamma', { task: null as never, reason: 'nothing is ready for gamma: x' }),
    ).toBe('nothing is ready for gamma: x');
    expect(
      describeResult(next, 'gamma', { task: { id: 'docs', title: 'docs' }, lease }, undefined, now),
    ).toBe('✓ claimed docs (lease Labcde… until 09:30)');
  });
});

describe('clock', () => {
  it('shows a time today as HH:MM and another day with its date, in local time', () => {
    const now = new Date(2026, 0, 5, 9, 0);
    expect(clock(new Date(2026, 0, 5, 14, 32).toISOString(), now)).toBe('14:32');
    expect(clock(new Date(2026, 0, 6, 8, 5).toISOString(), now)).toBe('2026-01-06 08:05');
  });
});
