import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMonitor } from '../../functions/core/rhythm/run-monitor.js';
import { startTestApi, type TestApi } from '../support/api.js';

/**
 * Claims, fencing and resource leases (#13) through the real HTTP server and handlers on DynamoDB
 * Local, with a clock the tests move forward (the handlers and the monitor share it).
 */

const MINUTE = 60_000;
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };

let api: TestApi;
let counter = 0;

beforeAll(async () => {
  api = await startTestApi({ deps: (ports) => ({ ...ports, clock }) });
}, 60_000);
afterAll(async () => {
  await api?.close();
});

interface Lease {
  id: string;
  holder: string;
  mode: string;
  paths: string[];
  resource?: string;
  task?: string;
  expiresAt: string;
}
interface TaskView {
  id: string;
  status: string;
  ready: boolean;
  holder?: string;
  assignee?: string;
  lease?: { id?: string; expiresAt: string };
  dependsOn: { id: string; status: string }[];
  unblocks: string[];
  deliverables: string[];
  handoffChecklist: string[];
  jira?: string;
}
interface ClaimResult {
  task: TaskView | null;
  lease?: { id: string; expiresAt: string };
  reason?: string;
}
interface ApiError {
  error: {
    code: string;
    message: string;
    holder?: { agent: string; expiresAt: string };
    conflict?: { lease: string; holder: string; task?: string; expiresAt: string };
  };
}

/** A fresh project per test, with tokens for the agents named. */
async function project(body: (id: string) => string, agents: readonly string[]) {
  const id = `c-${++counter}`;
  await api.apply(body(id));
  const tokens = Object.fromEntries(
    await Promise.all(agents.map(async (agent) => [agent, await api.token('agent', id, agent)] as const)),
  );
  return { id, path: (suffix: string) => `/v1/plans/${id}${suffix}`, tokens };
}

const claim = (p: { path: (s: string) => string }, agent: string, token: string, task?: string) =>
  api.call<ClaimResult>('POST', p.path(`/agents/${agent}/claim`), {
    token,
    body: task === undefined ? {} : { task },
  });

/** Runs the heartbeat monitor (with its claim and lease expiries) as the schedule does each minute. */
const monitorTick = () => runMonitor(api.deps, 'heartbeats');

describe('claims under a race', () => {
  it('gives 20 ready tasks to exactly 20 of 50 agents claiming at once, none twice, and the others a reason', async () => {
    // Prepare: 50 agents, 20 unassigned tasks in one active phase.
    const agents = Array.from({ length: 50 }, (_, i) => `a${i + 1}`);
    const p = await project(
      (id) => `version: 1
project: { id: ${id}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents:
${agents.map((agent) => `  - { id: ${agent}, owner: pm }`).join('\n')}
phases:
  - id: build
    tasks:
${Array.from({ length: 20 }, (_, i) => `      - { id: t${i + 1}, estimate: 1d }`).join('\n')}
`,
      agents,
    );

    // Act
    const results = await Promise.all(agents.map((agent) => claim(p, agent, p.tokens[agent] as string)));

    // Assess
    expect(results.map((result) => result.status)).toEqual(agents.map(() => 200));
    const won = results.filter((result) => result.body.task !== null);
    const lost = results.filter((result) => result.body.task === null);
    expect(won).toHaveLength(20);
    expect(new Set(won.map((result) => result.body.task?.id)).size).toBe(20);
    expect(new Set(won.map((result) => result.body.lease?.id)).size).toBe(20);
    for (const result of lost)
      expect(result.body.reason).toMatch(
        /every open task it may take is claimed or in progress|just claimed by other agents/,
      );
    // The store agrees: each task in progress, held by the agent the answer named.
    const { body } = await api.call<{ tasks: TaskView[] }>('GET', p.path('/tasks?status=in_progress'));
    const holders = new Map(body.tasks.map((task) => [task.id, task.holder]));
    expect(holders.size).toBe(20);
    agents.forEach((agent, index) => {
      const task = results[index]?.body.task;
      if (task) expect(holders.get(task.id)).toBe(agent);
    });
    const claimed = await api.call<{ events: unknown[] }>(
      'GET',
      p.path('/events?type=task.claimed&limit=100'),
    );
    expect(claimed.body.events).toHaveLength(20);
  }, 60_000);
});

/** Two pool agents, a task for either, a resource with path globs. */
const POOL = (id: string) => `version: 1
project: { id: ${id}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }, { id: ops }]
agents:
  - { id: x1, owner: pm, lease: 10m }
  - { id: x2, owner: pm, lease: 10m }
  - { id: x3, owner: ops }
resources:
  - { id: db, owner: x3, paths: ["db/migrations/**"] }
handoff: [Tests pass]
phases:
  - id: build
    tasks:
      - { id: api, estimate: 2d, pool: [x1, x2], jira: PAY-7, deliverables: [src/api] }
      - { id: docs, estimate: 1d, dependsOn: [api], pool: [x1, x2] }
      - { id: site, estimate: 1d, dependsOn: [docs] }
      - { id: schema, estimate: 1d, touches: [db] }
`;

describe('claim leases expire', () => {
  it('releases a task whose lease ran out on the monitor tick, and the next claim gets it', async () => {
    // Prepare
    const p = await project(POOL, ['x1', 'x2']);
    const first = await claim(p, 'x1', p.tokens.x1 as string, 'api');
    expect(first.body.task?.status).toBe('in_progress');
    const taken = await claim(p, 'x2', p.tokens.x2 as string, 'api');

    // Act: x1 stays silent past its 10-minute lease; the monitor ticks.
    offset += 11 * MINUTE;
    const outcome = await monitorTick();
    const next = await claim(p, 'x2', p.tokens.x2 as string);

    // Assess: taken while held (409), then released with task.released (expired), then x2's.
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((taken.body as unknown as ApiError).error.message).toContain('claimed by x1');
    expect(outcome.outcomes.find((o) => o.project === p.id)?.released).toEqual(['api']);
    expect(next.status).toBe(200);
    expect(next.body.task).toMatchObject({ id: 'api', status: 'in_progress', holder: 'x2' });
    expect(next.body.lease?.id).not.toBe(first.body.lease?.id);
    const released = await api.call<{ events: { subject: string; data: { reason: string } }[] }>(
      'GET',
      p.path('/events?type=task.released'),
    );
    expect(released.body.events).toMatchObject([
      { subject: 'api', data: { reason: 'expired', agent: 'x1' } },
    ]);
  });
});

describe('fencing', () => {
  it('answers a write with a stale lease 409 lease_lost naming the holder, in the body or If-Match', async () => {
    // Prepare: x1 claims, gives it back; x2 claims it.
    const p = await project(POOL, ['x1', 'x2']);
    const old = await claim(p, 'x1', p.tokens.x1 as string, 'api');
    const oldLease = old.body.lease?.id as string;
    const released = await api.call('POST', p.path('/tasks/api/release'), {
      token: p.tokens.x1 as string,
      body: { lease: oldLease },
    });
    const current = await claim(p, 'x2', p.tokens.x2 as string, 'api');
    const lease = current.body.lease?.id as string;

    // Act
    const stale = await api.call<ApiError>('POST', p.path('/tasks/api/transitions'), {
      token: p.tokens.x1 as string,
      body: { to: 'in_review', lease: oldLease },
    });
    const staleHeader = await api.call<ApiError>('POST', p.path('/tasks/api/blocker'), {
      token: p.tokens.x1 as string,
      body: { reason: 'stuck' },
      headers: { 'if-match': `"${oldLease}"` },
    });
    const none = await api.call<ApiError>('POST', p.path('/tasks/api/transitions'), {
      token: p.tokens.x1 as string,
      body: { to: 'in_review' },
    });
    const disagree = await api.call<ApiError>('POST', p.path('/tasks/api/transitions'), {
      token: p.tokens.x2 as string,
      body: { to: 'in_review', lease },
      headers: { 'if-match': `"${oldLease}"` },
    });
    const byHolder = await api.call('POST', p.path('/tasks/api/blocker'), {
      token: p.tokens.x2 as string,
      body: { reason: 'waiting for keys' },
      headers: { 'if-match': `"${lease}"` },
    });
    const unblocked = await api.call('DELETE', p.path('/tasks/api/blocker'), {
      token: p.tokens.x2 as string,
      body: { lease },
    });
    const byAdmin = await api.call('POST', p.path('/tasks/api/transitions'), { body: { to: 'in_review' } });

    // Assess
    expect(released).toMatchObject({ status: 200, body: { released: true, task: { status: 'todo' } } });
    for (const response of [stale, staleHeader, none]) {
      expect(response.status).toBe(409);
      expect(response.body.error).toMatchObject({
        code: 'lease_lost',
        holder: { agent: 'x2', expiresAt: current.body.lease?.expiresAt },
      });
      expect(response.body.error.message).toContain('x2');
    }
    expect(disagree).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(disagree.body.error.message).toMatch(/^body\.lease: .*If-Match/);
    expect(byHolder).toMatchObject({ status: 200, body: { task: { blocked: true } } });
    expect(unblocked).toMatchObject({ status: 200, body: { task: { blocked: false } } });
    // People and admins steer without a lease.
    expect(byAdmin).toMatchObject({ status: 200, body: { task: { status: 'in_review' } } });
  });

  it('lets an agent claim only for itself, and release only with its lease', async () => {
    // Prepare
    const p = await project(POOL, ['x1', 'x2']);

    // Act
    const forOther = await claim(p, 'x2', p.tokens.x1 as string, 'api');
    const mine = await claim(p, 'x1', p.tokens.x1 as string, 'api');
    const byOther = await api.call<ApiError>('POST', p.path('/tasks/api/release'), {
      token: p.tokens.x2 as string,
      body: {},
    });
    const withoutLease = await api.call<ApiError>('POST', p.path('/tasks/api/release'), {
      token: p.tokens.x1 as string,
    });
    const withLease = await api.call('POST', p.path('/tasks/api/release'), {
      token: p.tokens.x1 as string,
      headers: { 'if-match': mine.body.lease?.id as string },
    });
    const again = await api.call('POST', p.path('/tasks/api/release'));

    // Assess
    expect(forOther.status).toBe(403);
    expect(byOther.status).toBe(403);
    expect(withoutLease).toMatchObject({ status: 409, body: { error: { code: 'lease_lost' } } });
    expect(withLease).toMatchObject({ status: 200, body: { released: true, task: { status: 'todo' } } });
    expect(again).toMatchObject({ status: 200, body: { released: false } });
  });
});

describe('resource leases', () => {
  it('refuses an exclusive lease over an overlapping glob with 409 naming holder, task and expiry; shared ones coexist', async () => {
    // Prepare
    const p = await project(POOL, ['x1', 'x2', 'x3']);
    const exclusive = await api.call<{ lease: Lease }>('POST', p.path('/leases'), {
      token: p.tokens.x1 as string,
      body: { paths: ['src/**'], mode: 'exclusive', ttl: '30m', task: 'api' },
    });

    // Act
    const overlapping = await api.call<ApiError>('POST', p.path('/leases'), {
      token: p.tokens.x2 as string,
      body: { paths: ['src/api/*.ts'], mode: 'shared' },
    });
    const apart = await api.call<{ lease: Lease }>('POST', p.path('/leases'), {
      token: p.tokens.x2 as string,
      body: { paths: ['docs/**'], mode: 'shared', ttl: 120 },
    });
    const sharedToo = await api.call('POST', p.path('/leases'), {
      token: p.tokens.x3 as string,
      body: { paths: ['docs/*.md'], mode: 'shared' },
    });
    const exclusiveOverShared = await api.call<ApiError>('POST', p.path('/leases'), {
      token: p.tokens.x3 as string,
      body: { paths: ['docs/guide.md'], mode: 'exclusive' },
    });
    const listed = await api.call<{ leases: Lease[] }>('GET', p.path('/leases'), {
      token: p.tokens.x2 as string,
    });

    // Assess
    expect(exclusive.status).toBe(201);
    expect(exclusive.body.lease).toMatchObject({
      holder: 'agent:x1',
      paths: ['src/**'],
      mode: 'exclusive',
      task: 'api',
    });
    expect(Date.parse(exclusive.body.lease.expiresAt) - clock.now().getTime()).toBeGreaterThan(29 * MINUTE);
    expect(overlapping.status).toBe(409);
    expect(overlapping.body.error).toMatchObject({
      code: 'lease_conflict',
      conflict: {
        lease: exclusive.body.lease.id,
        holder: 'agent:x1',
        task: 'api',
        expiresAt: exclusive.body.lease.expiresAt,
      },
    });
    expect(overlapping.body.error.message).toContain('agent:x1');
    expect(overlapping.body.error.message).toContain('api');
    expect(overlapping.body.error.message).toContain(exclusive.body.lease.expiresAt);
    expect(apart.status).toBe(201);
    expect(sharedToo.status).toBe(201);
    expect(exclusiveOverShared).toMatchObject({ status: 409, body: { error: { code: 'lease_conflict' } } });
    expect(listed.body.leases.map((lease) => lease.holder).sort()).toEqual([
      'agent:x1',
      'agent:x2',
      'agent:x3',
    ]);
    const conflicts = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=resource.conflict'));
    expect(conflicts.body.events).toHaveLength(2);
  });

  it('lets a lease expire, after which the paths are free, and ends one early only for its holder', async () => {
    // Prepare
    const p = await project(POOL, ['x1', 'x2']);
    const short = await api.call<{ lease: Lease }>('POST', p.path('/leases'), {
      token: p.tokens.x1 as string,
      body: { resource: 'db', mode: 'exclusive', ttl: '1m' },
    });
    const other = await api.call<{ lease: Lease }>('POST', p.path('/leases'), {
      token: p.tokens.x1 as string,
      body: { paths: ['lib/**'], mode: 'exclusive', ttl: '2h' },
    });

    // Act
    const blocked = await api.call('POST', p.path('/leases'), {
      token: p.tokens.x2 as string,
      body: { paths: ['db/migrations/001.sql'], mode: 'shared' },
    });
    offset += 2 * MINUTE;
    const listedAfter = await api.call<{ leases: Lease[] }>('GET', p.path('/leases'));
    const tick = await monitorTick();
    const free = await api.call('POST', p.path('/leases'), {
      token: p.tokens.x2 as string,
      body: { paths: ['db/migrations/001.sql'], mode: 'exclusive' },
    });
    const byOther = await api.call('DELETE', p.path(`/leases/${other.body.lease.id}`), {
      token: p.tokens.x2 as string,
    });
    const byHolder = await api.call('DELETE', p.path(`/leases/${other.body.lease.id}`), {
      token: p.tokens.x1 as string,
    });
    const twice = await api.call('DELETE', p.path(`/leases/${other.body.lease.id}`));
    const malformed = await api.call<ApiError>('DELETE', p.path('/leases/not-a-lease'));

    // Assess
    expect(short.body.lease).toMatchObject({ resource: 'db', paths: ['db/migrations/**'] });
    expect(blocked.status).toBe(409);
    expect(listedAfter.body.leases.map((lease) => lease.id)).toEqual([other.body.lease.id]);
    expect(tick.outcomes.find((o) => o.project === p.id)?.expiredLeases).toEqual([short.body.lease.id]);
    expect(free.status).toBe(201);
    expect(byOther.status).toBe(403);
    expect(byHolder).toMatchObject({
      status: 200,
      body: { released: true, lease: { id: other.body.lease.id } },
    });
    expect(twice.status).toBe(404);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/^path\.id: /);
    const expired = await api.call<{ events: { subject: string }[] }>(
      'GET',
      p.path('/events?type=lease.expired'),
    );
    expect(expired.body.events.map((event) => event.subject)).toEqual([short.body.lease.id]);
  });

  it('refuses bad lease requests with a 400 naming the field', async () => {
    // Prepare
    const p = await project(POOL, ['x1']);
    const send = (body: unknown) =>
      api.call<ApiError>('POST', p.path('/leases'), { token: p.tokens.x1 as string, body });

    // Act
    const both = await send({ resource: 'db', paths: ['x/**'], mode: 'shared' });
    const neither = await send({ mode: 'shared' });
    const tooLong = await send({ paths: ['a/**'], mode: 'shared', ttl: '25h' });
    const notDuration = await send({ paths: ['a/**'], mode: 'shared', ttl: 'soon' });
    const badGlob = await send({ paths: ['../etc/**'], mode: 'shared' });
    const unknownResource = await send({ resource: 'cache', mode: 'shared' });

    // Assess
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/^body: name exactly one of resource/);
    expect(neither.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/^body\.ttl: a lease lives 60 s \(1m\) to 86400 s \(24h\)/);
    expect(notDuration.body.error.message).toMatch(/^body\.ttl: "soon" is not a duration/);
    expect(badGlob).toMatchObject({ status: 400 });
    expect(badGlob.body.error.message).toMatch(/^paths\[0\]: invalid path glob/);
    expect(unknownResource).toMatchObject({ status: 404 });
  });
});

describe('reading tasks', () => {
  it('filters tasks by status, phase, agent and readiness, and shows one task with its dependencies, what it unblocks and its holder', async () => {
    // Prepare: x1 claims api; docs waits for it.
    const p = await project(POOL, ['x1', 'x2']);
    const claimed = await claim(p, 'x1', p.tokens.x1 as string, 'api');
    const ids = async (query: string) =>
      (await api.call<{ tasks: TaskView[] }>('GET', p.path(`/tasks${query}`))).body.tasks.map((t) => t.id);

    // Act
    const all = await ids('');
    const ready = await ids('?ready=true');
    const notReady = await ids('?ready=false');
    const inProgress = await ids('?status=in_progress');
    const byPhase = await ids('?phase=build&status=todo');
    const forX2 = await ids('?agent=x2&ready=true');
    const forX1 = await ids('?agent=x1');
    const asHolder = await api.call<TaskView>('GET', p.path('/tasks/api'), { token: p.tokens.x1 as string });
    const asOther = await api.call<TaskView>('GET', p.path('/tasks/api'), { token: p.tokens.x2 as string });
    const asAdmin = await api.call<TaskView>('GET', p.path('/tasks/api'));
    const docs = await api.call<TaskView>('GET', p.path('/tasks/docs'));
    const unknown = await api.call<ApiError>('GET', p.path('/tasks/apii'));
    const badQuery = await api.call<ApiError>('GET', p.path('/tasks?ready=yes'));
    const unknownAgent = await api.call<ApiError>('GET', p.path('/tasks?agent=x9'));

    // Assess
    expect(all.sort()).toEqual(['api', 'docs', 'schema', 'site']);
    expect(ready).toEqual(['schema']);
    expect(notReady.sort()).toEqual(['api', 'docs', 'site']);
    expect(inProgress).toEqual(['api']);
    expect(byPhase.sort()).toEqual(['docs', 'schema', 'site']);
    expect(forX2).toEqual(['schema']);
    expect(forX1).toEqual(['api']);
    expect(asHolder.body).toMatchObject({
      id: 'api',
      status: 'in_progress',
      holder: 'x1',
      assignee: 'x1',
      lease: { id: claimed.body.lease?.id, expiresAt: claimed.body.lease?.expiresAt },
      dependsOn: [],
      unblocks: ['docs'],
      deliverables: ['src/api'],
      handoffChecklist: ['Tests pass'],
      jira: 'PAY-7',
      ready: false,
    });
    expect(asOther.body.lease).toEqual({ expiresAt: claimed.body.lease?.expiresAt });
    expect(asAdmin.body.lease).toEqual({ expiresAt: claimed.body.lease?.expiresAt });
    expect(docs.body).toMatchObject({
      dependsOn: [{ id: 'api', status: 'in_progress' }],
      unblocks: ['site'],
      ready: false,
    });
    expect(docs.body.holder).toBeUndefined();
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('api');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.message).toMatch(/^query\.ready: /);
    expect(unknownAgent.status).toBe(404);
  });
});
