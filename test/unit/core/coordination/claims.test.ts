import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../../../functions/adapters/dynamodb/coordination-store.js';
import { memoryStores } from '../../../../functions/adapters/memory/index.js';
import { claimTask, expireClaims, releaseTask } from '../../../../functions/core/coordination/claims.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordHandoff,
  recordHeartbeat,
  setBlocker,
  transitionTask,
} from '../../../../functions/core/coordination/commands.js';
import { globsOverlap } from '../../../../functions/core/coordination/globs.js';
import {
  acquireLease,
  expireLeases,
  listLeases,
  releaseLease,
} from '../../../../functions/core/coordination/leases.js';
import { getTask, listTasks } from '../../../../functions/core/coordination/tasks.js';
import { ConflictError, LeaseConflictError, LeaseLostError } from '../../../../functions/core/errors.js';
import { validPlan } from '../../../fixtures/plans.js';

// A pool of three agents, tasks with and without an agent, a resource with paths; the build phase
// starts active (it depends on nothing).
const PLAN = `version: 1
project: { id: pool, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm }, { id: ops }]
agents:
  - { id: a1, owner: pm, heartbeat: 10m }
  - { id: a2, owner: pm, lease: 1h }
  - { id: a3, owner: ops }
resources:
  - { id: db, owner: a3, paths: ["db/migrations/**"] }
handoff: [tests pass]
phases:
  - id: build
    tasks:
      - { id: long, estimate: 5d }
      - { id: short, estimate: 1d }
      - { id: after-short, estimate: 1d, dependsOn: [short], pool: [a1, a2] }
      - { id: mine, estimate: 1d, agent: a3 }
      - { id: schema, estimate: 1d, pool: [a2, a3], touches: [db] }
`;

const admin = { kind: 'admin' } as const;
const agent = (id: string) => ({ kind: 'agent', id }) as const;
let now: Date;
let ports: CoordinationPorts;

const minutes = (n: number) => {
  now = new Date(now.getTime() + n * 60_000);
};

beforeEach(async () => {
  now = new Date('2026-03-02T09:00:00Z');
  const { store, outbox } = memoryStores();
  ports = { store, outbox, clock: { now: () => now }, ids: timeOrderedIds };
  await applyPlan(ports, { project: 'pool', plan: validPlan(PLAN), actor: admin });
});

describe('claiming tasks', () => {
  it('gives the ready task with the least slack first, in progress with a lease, and the same one again on a retry', async () => {
    // Act
    const first = await claimTask(ports, { project: 'pool', agent: 'a1', actor: agent('a1') });
    const again = await claimTask(ports, { project: 'pool', agent: 'a1', actor: agent('a1') });

    // Assess: `long` is on the critical path (no slack); the retry takes nothing new.
    expect(first.task?.id).toBe('long');
    expect(first.task?.status).toBe('in_progress');
    expect(first.task?.holder).toBe('a1');
    expect(first.lease?.expiresAt).toBe('2026-03-02T09:20:00.000Z'); // twice the 10m heartbeat
    expect(first.task?.lease?.id).toBe(first.lease?.id);
    expect(again.lease?.id).toBe(first.lease?.id);
    const trail = await ports.store.listEvents('pool', { type: 'task.claimed', limit: 10 });
    expect(trail.events).toHaveLength(1);
  });

  it('never gives one task to two agents racing for it', async () => {
    // Act: every agent claims at once.
    const results = await Promise.all(
      ['a1', 'a2', 'a3'].map((id) => claimTask(ports, { project: 'pool', agent: id, actor: agent(id) })),
    );

    // Assess: three different tasks, each held by the agent that got it.
    const claimed = results.map((result) => result.task?.id);
    expect(new Set(claimed).size).toBe(3);
    const { tasks } = await listTasks(ports, { project: 'pool', viewer: admin, status: 'in_progress' });
    expect(tasks.map((task) => `${task.id}:${task.holder}`).sort()).toEqual(
      results.map((result, index) => `${result.task?.id}:a${index + 1}`).sort(),
    );
  });

  it('tells an agent with nothing ready what its work waits for and on whom', async () => {
    // Prepare: a1 takes long, a2 short, a3 holds schema; after-short waits for short.
    await claimTask(ports, { project: 'pool', agent: 'a1', task: 'long', actor: agent('a1') });
    await claimTask(ports, { project: 'pool', agent: 'a2', task: 'short', actor: agent('a2') });
    await claimTask(ports, { project: 'pool', agent: 'a2', task: 'schema', actor: agent('a2') });

    // Act
    const none = await claimTask(ports, { project: 'pool', agent: 'a1', actor: agent('a1') });
    const fresh = await claimTask(ports, { project: 'pool', agent: 'a3', actor: agent('a3') });

    // Assess: a1 still works on long, so it gets long back; a3 gets its own task.
    expect(none.task?.id).toBe('long');
    expect(fresh.task?.id).toBe('mine');
    await transitionTask(ports, {
      project: 'pool',
      task: 'long',
      to: 'done',
      lease: none.lease?.id,
      actor: agent('a1'),
    });
    const waiting = await claimTask(ports, { project: 'pool', agent: 'a1', actor: agent('a1') });
    expect(waiting.task).toBeNull();
    expect(waiting.reason).toContain('short (in_progress, a2)');
    expect(waiting.waitingFor).toEqual([{ task: 'short', status: 'in_progress', holder: 'a2' }]);
  });

  it('refuses a task outside the agent’s pool, or one not ready', async () => {
    await expect(
      claimTask(ports, { project: 'pool', agent: 'a3', task: 'after-short', actor: agent('a3') }),
    ).rejects.toThrow(/may not claim task after-short: its pool is a1, a2/);
    await expect(
      claimTask(ports, { project: 'pool', agent: 'a1', task: 'after-short', actor: agent('a1') }),
    ).rejects.toThrow(/not ready to claim: it waits for short \(todo\)/);
    await expect(claimTask(ports, { project: 'pool', agent: 'a1', actor: agent('a2') })).rejects.toThrow(
      /may not claim tasks of agent a1/,
    );
  });
});

describe('fencing with the lease', () => {
  it('lets only the current lease move, block or hand off a claimed task', async () => {
    // Prepare
    const claim = await claimTask(ports, { project: 'pool', agent: 'a1', task: 'short', actor: agent('a1') });
    const lease = claim.lease?.id as string;

    // Act / Assess: another agent of the pool, or the holder without its lease, is refused with 409 lease_lost.
    await expect(
      transitionTask(ports, { project: 'pool', task: 'short', to: 'done', actor: agent('a2') }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      transitionTask(ports, {
        project: 'pool',
        task: 'short',
        to: 'in_review',
        lease: 'Lwrong',
        actor: agent('a1'),
      }),
    ).rejects.toThrow(/lease Lwrong on task short is no longer current: you hold it/);
    await expect(
      setBlocker(ports, { project: 'pool', task: 'short', reason: 'x', actor: agent('a1') }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      recordHandoff(ports, {
        project: 'pool',
        task: 'short',
        to: ['after-short'],
        checklist: { 'tests pass': true },
        actor: agent('a1'),
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    const blocked = await setBlocker(ports, {
      project: 'pool',
      task: 'short',
      reason: 'x',
      lease,
      actor: agent('a1'),
    });
    expect(blocked.task.blocked).toBe(true);
    // The owner steers without a lease.
    await setBlocker(ports, {
      project: 'pool',
      task: 'short',
      reason: null,
      actor: { kind: 'person', id: 'pm' },
    });
    const done = await transitionTask(ports, {
      project: 'pool',
      task: 'short',
      to: 'done',
      lease,
      actor: agent('a1'),
    });
    expect(done.task.claim).toBeUndefined();
    expect(done.task.assignee).toBe('a1');
    // After done, the old lease is no longer current.
    await expect(
      setBlocker(ports, { project: 'pool', task: 'short', reason: 'y', lease, actor: agent('a1') }),
    ).rejects.toThrow(/done/);
  });

  it('makes an agent claim a pool task before starting it by hand', async () => {
    await expect(
      transitionTask(ports, { project: 'pool', task: 'short', to: 'in_progress', actor: agent('a1') }),
    ).rejects.toBeInstanceOf(ConflictError);
    // A task the plan assigns works as before, without a claim.
    const started = await transitionTask(ports, {
      project: 'pool',
      task: 'mine',
      to: 'in_progress',
      actor: agent('a3'),
    });
    expect(started.task.status).toBe('in_progress');
  });
});

describe('lease expiry and release', () => {
  /** a3 working on `mine`: a heartbeat naming it every 15 minutes, `beats` times. */
  const workOnMine = async (beats: number) => {
    for (let beat = 0; beat < beats; beat++) {
      minutes(15);
      await recordHeartbeat(ports, { project: 'pool', agent: 'a3', task: 'mine', actor: agent('a3') });
    }
  };

  it('leaves a claim on a task the plan assigns to its agent alone: no renewal written, never released', async () => {
    // Prepare: a3 claims `mine`, which the plan gives it (a3's lease is the default 30 minutes).
    const claim = await claimTask(ports, { project: 'pool', agent: 'a3', task: 'mine', actor: agent('a3') });
    const claimed = (await ports.store.getTasks('pool', ['mine'])).get('mine');

    // Act: heartbeats naming it for two hours, then the monitor.
    await workOnMine(8);
    const released = await expireClaims(ports, 'pool');
    const done = await transitionTask(ports, {
      project: 'pool',
      task: 'mine',
      to: 'done',
      lease: claim.lease?.id,
      actor: agent('a3'),
    });

    // Assess: the heartbeats wrote nothing on the task, the claim stayed and its lease still worked.
    expect(claimed?.claim?.agent).toBe('a3');
    expect(released).toEqual([]);
    expect(done.task).toMatchObject({ status: 'done', version: (claimed?.version ?? 0) + 1 });
  });

  it('keeps a claim its holder works on when a new plan takes the task from it, heartbeats renewing it from then', async () => {
    // Prepare: a3 claims `mine` (the plan's for it) and works on it for two hours without renewals.
    const claim = await claimTask(ports, { project: 'pool', agent: 'a3', task: 'mine', actor: agent('a3') });
    await workOnMine(8);

    // Act: the plan makes `mine` a pool task; the monitor ticks; a3 works on for another hour.
    await applyPlan(ports, {
      project: 'pool',
      plan: validPlan(
        PLAN.replace('{ id: mine, estimate: 1d, agent: a3 }', '{ id: mine, estimate: 1d, pool: [a1, a3] }'),
      ),
      actor: admin,
    });
    const released: string[] = [];
    for (let beat = 0; beat < 4; beat++) {
      released.push(...(await expireClaims(ports, 'pool')));
      await workOnMine(1);
    }
    released.push(...(await expireClaims(ports, 'pool')));
    const done = await transitionTask(ports, {
      project: 'pool',
      task: 'mine',
      to: 'done',
      lease: claim.lease?.id,
      actor: agent('a3'),
    });

    // Assess
    expect(released).toEqual([]);
    expect(done.task.status).toBe('done');
  });

  it('renews a claim with heartbeats naming the task, and releases it when they stop', async () => {
    // Prepare: a1's lease is 20 minutes.
    const claim = await claimTask(ports, { project: 'pool', agent: 'a1', task: 'short', actor: agent('a1') });
    minutes(15);
    await recordHeartbeat(ports, { project: 'pool', agent: 'a1', task: 'short', actor: agent('a1') });
    minutes(15);

    // Act: 30 minutes after the claim, but 15 after the heartbeat: still held.
    expect(await expireClaims(ports, 'pool')).toEqual([]);
    minutes(6);
    const released = await expireClaims(ports, 'pool');

    // Assess: back to todo, the next claim gets it, the stale lease is lost.
    expect(released).toEqual(['short']);
    const view = await getTask(ports, { project: 'pool', task: 'short', viewer: admin });
    expect(view).toMatchObject({ status: 'todo', ready: true, assignee: 'a1' });
    expect(view.holder).toBeUndefined();
    const next = await claimTask(ports, { project: 'pool', agent: 'a2', task: 'short', actor: agent('a2') });
    expect(next.task?.holder).toBe('a2');
    await expect(
      transitionTask(ports, {
        project: 'pool',
        task: 'short',
        to: 'done',
        lease: claim.lease?.id,
        actor: agent('a1'),
      }),
    ).rejects.toThrow(/held.*a2|a2 holds it/);
    const trail = await ports.store.listEvents('pool', { type: 'task.released', limit: 5 });
    expect(trail.events[0]?.data).toMatchObject({ agent: 'a1', reason: 'expired' });
  });

  it('keeps a task the plan assigns with its agent when the claim lapses', async () => {
    await claimTask(ports, { project: 'pool', agent: 'a3', task: 'mine', actor: agent('a3') });
    minutes(120);
    expect(await expireClaims(ports, 'pool')).toEqual([]);
  });

  it('gives a claim back on release, and a second release changes nothing', async () => {
    const claim = await claimTask(ports, {
      project: 'pool',
      agent: 'a2',
      task: 'schema',
      actor: agent('a2'),
    });
    expect((await listLeases(ports, { project: 'pool' })).leases).toHaveLength(1);

    const first = await releaseTask(ports, {
      project: 'pool',
      task: 'schema',
      lease: claim.lease?.id,
      actor: agent('a2'),
    });
    const second = await releaseTask(ports, {
      project: 'pool',
      task: 'schema',
      actor: { kind: 'person', id: 'pm' },
    });

    expect(first.released).toBe(true);
    expect(first.task.status).toBe('todo');
    expect(second.released).toBe(false);
    // The shared lease the claim took on db ended with it.
    expect((await listLeases(ports, { project: 'pool' })).leases).toEqual([]);
  });
});

describe('resource leases', () => {
  it('refuses an exclusive lease over another holder’s overlapping paths, naming holder and expiry', async () => {
    const held = await acquireLease(ports, {
      project: 'pool',
      actor: agent('a1'),
      paths: ['src/**'],
      mode: 'shared',
      task: 'long',
    });

    await expect(
      acquireLease(ports, {
        project: 'pool',
        actor: agent('a2'),
        paths: ['src/api/*.ts'],
        mode: 'exclusive',
      }),
    ).rejects.toThrow(new RegExp(`lease of agent:a1 for task long .* until ${held.expiresAt}`));
    // Shared beside shared is fine; paths that cannot meet never conflict.
    await acquireLease(ports, {
      project: 'pool',
      actor: agent('a2'),
      paths: ['src/api/*.ts'],
      mode: 'shared',
    });
    await acquireLease(ports, { project: 'pool', actor: agent('a3'), paths: ['docs/**'], mode: 'exclusive' });
    const conflicts = await ports.store.listEvents('pool', { type: 'resource.conflict', limit: 5 });
    expect(conflicts.events).toHaveLength(1);
  });

  it('lets the owner take its resource anyway, and a claim touching it then waits', async () => {
    await acquireLease(ports, { project: 'pool', actor: agent('a2'), resource: 'db', mode: 'shared' });

    const owned = await acquireLease(ports, {
      project: 'pool',
      actor: agent('a3'),
      resource: 'db',
      mode: 'exclusive',
    });

    expect(owned.paths).toEqual(['db/migrations/**']);
    const conflicts = await ports.store.listEvents('pool', { type: 'resource.conflict', limit: 5 });
    expect(conflicts.events[0]?.data).toMatchObject({ overridden: true, holder: 'agent:a2' });
    await expect(
      claimTask(ports, { project: 'pool', agent: 'a2', task: 'schema', actor: agent('a2') }),
    ).rejects.toBeInstanceOf(LeaseConflictError);
  });

  it('expires leases on time, and releases only for their holder', async () => {
    const lease = await acquireLease(ports, {
      project: 'pool',
      actor: agent('a2'),
      paths: ['a/**'],
      mode: 'exclusive',
      ttlSeconds: 120,
    });
    await expect(releaseLease(ports, { project: 'pool', id: lease.id, actor: agent('a1') })).rejects.toThrow(
      /only its holder/,
    );
    minutes(3);
    expect(await expireLeases(ports, 'pool')).toEqual([lease.id]);
    expect((await listLeases(ports, { project: 'pool' })).leases).toEqual([]);
    await expect(releaseLease(ports, { project: 'pool', id: lease.id, actor: agent('a2') })).rejects.toThrow(
      /not active/,
    );
  });

  it('refuses bad requests with what is wrong', async () => {
    await expect(
      acquireLease(ports, { project: 'pool', actor: agent('a1'), mode: 'shared' }),
    ).rejects.toThrow(/exactly one of/);
    await expect(
      acquireLease(ports, { project: 'pool', actor: agent('a1'), paths: ['../etc/**'], mode: 'shared' }),
    ).rejects.toThrow(/paths\[0\]: invalid path glob/);
    await expect(
      acquireLease(ports, { project: 'pool', actor: agent('a1'), resource: 'dbb', mode: 'shared' }),
    ).rejects.toThrow(/did you mean "db"/);
    await expect(
      acquireLease(ports, {
        project: 'pool',
        actor: agent('a1'),
        paths: ['x'],
        mode: 'shared',
        ttlSeconds: 5,
      }),
    ).rejects.toThrow(/ttl/);
  });
});

describe('globsOverlap', () => {
  it.each([
    ['src/**', 'src/api/*.ts', true],
    ['src/*.ts', 'docs/**', false],
    ['src/*.ts', 'src/api/x.ts', false],
    ['src/**/*.ts', 'src/a/b/c.ts', true],
    ['src/**/*.ts', 'src/x.js', false],
    ['a/**/b', 'a/b', true],
    ['*.ts', '*.js', false],
    ['a?c', 'abc', true],
    ['*a*', '*b*', true],
  ])('%s and %s overlap: %s', (a, b, expected) => {
    expect(globsOverlap(a, b)).toBe(expected);
    expect(globsOverlap(b, a)).toBe(expected);
  });
});
