import { beforeEach, describe, expect, it } from 'vitest';
import type {
  AuditEvent,
  PhaseState,
  ResourceLease,
  TaskState,
} from '../../functions/core/coordination/model.js';
import { type DomainEvent, domainEvent } from '../../functions/core/domain-events.js';
import { UnprocessableError, ValidationError, VersionConflictError } from '../../functions/core/errors.js';
import type { Escalation } from '../../functions/core/escalations/model.js';
import type { GateDecision } from '../../functions/core/gates/decision.js';
import type { GateState } from '../../functions/core/gates/state.js';
import type { OutboxCommand } from '../../functions/core/integrations/model.js';
import type {
  ChartArchive,
  CoordinationStore,
  EscalationStore,
  GateStore,
  IdempotencyStore,
  Outbox,
  RateLimiter,
  StoredToken,
  TokenStore,
} from '../../functions/core/ports.js';
import { MINIMAL_PLAN, validPlan } from '../fixtures/plans.js';

/** One implementation of every store port, fresh and empty, sharing one table as deployed. */
export interface ContractStores {
  readonly store: CoordinationStore;
  readonly escalations: EscalationStore;
  readonly gates: GateStore;
  readonly outbox: Outbox;
  readonly tokens: TokenStore;
  readonly idempotency: IdempotencyStore;
  readonly charts: ChartArchive;
  limiter(options: { name: string; capacity: number; windowMs: number }): RateLimiter;
  /** The domain event item of this id that a store's transaction wrote (what the stream carries), if any. */
  publishedEvent(id: string): Promise<DomainEvent | undefined>;
}

const PLAN = validPlan(MINIMAL_PLAN);
const T0 = '2026-01-05T09:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

let sequence = 0;
const event = (type: string, when = T0, fields: Partial<AuditEvent> = {}): AuditEvent => ({
  id: `${when}#${String(++sequence).padStart(6, '0')}`,
  type,
  at: when,
  actor: 'admin',
  ...fields,
});
const task = (id: string, version: number, fields: Partial<TaskState> = {}): TaskState => ({
  id,
  status: 'todo',
  blocked: false,
  updatedAt: T0,
  updatedBy: 'admin',
  version,
  ...fields,
});
const phase = (id: string, version: number, fields: Partial<PhaseState> = {}): PhaseState => ({
  id,
  status: 'pending',
  updatedAt: T0,
  version,
  ...fields,
});
const escalation = (project: string, subject: string, fields: Partial<Escalation> = {}): Escalation => ({
  id: `security:${subject}:${fields.openedAt ?? T0}`,
  project,
  rule: 'security',
  kind: 'event',
  subject,
  dedupKey: `security:${subject}`,
  status: 'open',
  level: 1,
  targets: ['lead'],
  openedAt: T0,
  levelSince: T0,
  dueAt: at(60),
  occurrences: 1,
  reason: 'security.critical',
  history: [],
  version: 1,
  ...fields,
});
const slack = (key: string): OutboxCommand => ({
  kind: 'slack',
  channel: '#convoy',
  key,
  message: { text: key, blocks: [] },
});
const gate = (id: string, version: number, fields: Partial<GateState> = {}): GateState => ({
  gate: id,
  phase: 'phase-1',
  attempt: 1,
  status: 'evaluating',
  updatedAt: T0,
  version,
  ...fields,
});
const decision = (gateId: string, attempt: number, note: string): GateDecision =>
  ({
    gate: gateId,
    phase: 'phase-1',
    attempt,
    decision: 'GO',
    evaluation: { decision: 'GO', criteria: [] },
    note,
    at: T0,
  }) as unknown as GateDecision;
const token = (id: string, createdAt: string, project?: string): StoredToken => ({
  id,
  role: project === undefined ? 'admin' : 'agent',
  ...(project === undefined ? {} : { project, subject: 'alpha' }),
  createdAt,
  verifier: `v-${id}`,
  seal: `s-${id}`,
});

/** What a call rejected with (undefined when it succeeded), awaited at once so no rejection goes unhandled. */
const failure = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error,
  );

/** Every page of a paged list, following the cursors to the end. */
async function allPages<T>(
  read: (cursor?: string) => Promise<{ items: T[]; cursor?: string }>,
): Promise<{ pages: T[][]; items: T[] }> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 100);
  return { pages, items: pages.flat() };
}

/**
 * The behaviour every implementation of the store ports shares: test/contract/memory-stores.test.ts
 * runs it on the in-memory stores, test/contract/dynamodb-stores.test.ts on the DynamoDB adapters
 * over DynamoDB Local. A use-case test on the in-memory stores is as good as one on DynamoDB for
 * everything this suite checks.
 */
export function describeStoreContract(name: string, create: () => Promise<ContractStores>): void {
  describe(`${name}: store contract`, () => {
    let s: ContractStores;
    beforeEach(async () => {
      s = await create();
    });

    describe('CoordinationStore plans', () => {
      it('stores the first plan at version 1 and lists its project', async () => {
        // Act
        const saved = await s.store.savePlan('demo', PLAN, 0, {
          at: T0,
          by: 'admin',
          event: event('plan.applied'),
        });

        // Assess
        expect(saved).toMatchObject({ project: 'demo', version: 1, appliedAt: T0, appliedBy: 'admin' });
        expect(await s.store.currentPlan('demo')).toEqual({
          project: 'demo',
          version: 1,
          plan: PLAN,
          appliedAt: T0,
          appliedBy: 'admin',
        });
        expect(await s.store.listProjects()).toEqual(['demo']);
        const snapshot = await s.store.snapshot('demo');
        expect(snapshot?.plan.version).toBe(1);
        expect(snapshot?.tasks.size).toBe(0);
        expect((await s.store.listEvents('demo', { limit: 10 })).events.map((e) => e.type)).toEqual([
          'plan.applied',
        ]);
      });

      it('knows no plan, snapshot or project before the first apply', async () => {
        expect(await s.store.currentPlan('nobody')).toBeUndefined();
        expect(await s.store.snapshot('nobody')).toBeUndefined();
        expect(await s.store.listProjects()).toEqual([]);
      });

      it('refuses a plan saved over a version that is no longer current, writing nothing', async () => {
        // Prepare
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
        await s.store.savePlan('demo', PLAN, 1, { at: at(1), by: 'admin', event: event('plan.applied') });

        // Act
        const stale = await failure(
          s.store.savePlan('demo', PLAN, 1, {
            at: at(2),
            by: 'pm',
            event: event('plan.applied'),
          }),
        );
        const again = await failure(
          s.store.savePlan('demo', PLAN, 0, {
            at: at(2),
            by: 'pm',
            event: event('plan.applied'),
          }),
        );

        // Assess
        expect(stale).toBeInstanceOf(VersionConflictError);
        expect(again).toBeInstanceOf(VersionConflictError);
        expect(await s.store.currentPlan('demo')).toMatchObject({ version: 2, appliedAt: at(1) });
        expect((await s.store.listEvents('demo', { limit: 10 })).events).toHaveLength(2);
      });

      it('applies no plan whose event id is already in the trail (all or nothing)', async () => {
        // Prepare
        const applied = event('plan.applied');
        await s.store.appendEvents('demo', [applied]);

        // Act
        const saving = await failure(
          s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: applied }),
        );

        // Assess
        expect(saving).toBeInstanceOf(VersionConflictError);
        expect(await s.store.currentPlan('demo')).toBeUndefined();
        expect(await s.store.listProjects()).toEqual([]);
      });

      it('counts the changes of a plan version: the publisher adds, a new version starts again at 0', async () => {
        // Prepare
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
        const first = await s.store.changes('demo');

        // Act
        await s.store.bumpChanges('demo', 2);
        await s.store.bumpChanges('demo', 1);
        const bumped = await s.store.changes('demo');
        await s.store.savePlan('demo', PLAN, 1, { at: at(1), by: 'admin', event: event('plan.applied') });
        const reapplied = await s.store.changes('demo');

        // Assess
        expect(first).toEqual({ version: 1, changes: 0 });
        expect(bumped).toEqual({ version: 1, changes: 3 });
        expect(reapplied).toEqual({ version: 2, changes: 0 });
        expect(await s.store.currentPlan('demo')).toMatchObject({ version: 2, plan: PLAN });
      });

      it('has no change counter without a plan, and bumping one creates no plan', async () => {
        // Act
        await s.store.bumpChanges('nobody', 1);

        // Assess
        expect(await s.store.changes('nobody')).toBeUndefined();
        expect(await s.store.currentPlan('nobody')).toBeUndefined();
        expect(await s.store.listProjects()).toEqual([]);
      });

      it('lists every project with a plan, in key order', async () => {
        for (const project of ['b', 'a', 'c'])
          await s.store.savePlan(project, PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
        expect(await s.store.listProjects()).toEqual(['a', 'b', 'c']);
      });
    });

    describe('CoordinationStore commits', () => {
      beforeEach(async () => {
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
      });

      it('creates, reads and updates tasks and phases on their versions', async () => {
        // Act
        await s.store.commit('demo', {
          tasks: [
            { next: task('task-1a', 1), expectedVersion: 0 },
            { next: task('task-1b', 1), expectedVersion: 0 },
          ],
          phases: [{ next: phase('phase-1', 1), expectedVersion: 0 }],
          events: [event('task.created')],
        });
        await s.store.commit('demo', {
          tasks: [
            { next: task('task-1a', 2, { status: 'in_progress', startedAt: at(5) }), expectedVersion: 1 },
          ],
          phases: [{ next: phase('phase-1', 2, { status: 'active' }), expectedVersion: 1 }],
          events: [event('task.started', at(5))],
        });

        // Assess
        const tasks = await s.store.getTasks('demo', ['task-1a', 'task-1b', 'task-1a', 'nope']);
        expect([...tasks.keys()].sort()).toEqual(['task-1a', 'task-1b']);
        expect(tasks.get('task-1a')).toEqual(task('task-1a', 2, { status: 'in_progress', startedAt: at(5) }));
        expect(await s.store.getPhase('demo', 'phase-1')).toEqual(phase('phase-1', 2, { status: 'active' }));
        expect(await s.store.getPhase('demo', 'phase-2')).toBeUndefined();
        const context = await s.store.getTaskContext('demo', ['task-1b'], 'phase-1');
        expect(context.phase).toEqual(phase('phase-1', 2, { status: 'active' }));
        expect([...context.tasks.values()]).toEqual([task('task-1b', 1)]);
        expect(await s.store.getTaskContext('demo', ['task-2a'], 'phase-2')).toEqual({
          tasks: new Map(),
          done: 0,
        });
        const snapshot = await s.store.snapshot('demo');
        expect(snapshot?.tasks.get('task-1b')).toEqual(task('task-1b', 1));
        expect(snapshot?.phases.get('phase-1')?.status).toBe('active');
      });

      it('writes nothing of a commit one of whose writes is stale', async () => {
        // Prepare
        await s.store.commit('demo', {
          tasks: [{ next: task('task-1a', 1), expectedVersion: 0 }],
          events: [],
        });

        // Act
        const stale = await failure(
          s.store.commit('demo', {
            tasks: [
              { next: task('task-1b', 1), expectedVersion: 0 },
              { next: task('task-1a', 3, { status: 'done' }), expectedVersion: 2 },
            ],
            phases: [{ next: phase('phase-1', 1), expectedVersion: 0 }],
            handoffs: [{ id: `${T0}#h1`, task: 'task-1a', to: ['beta'], checklist: {}, at: T0, by: 'alpha' }],
            events: [event('task.done')],
          }),
        );
        const createdTwice = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1a', 1), expectedVersion: 0 }],
            events: [],
          }),
        );

        // Assess
        expect(stale).toBeInstanceOf(VersionConflictError);
        expect(createdTwice).toBeInstanceOf(VersionConflictError);
        expect([...(await s.store.getTasks('demo', ['task-1a', 'task-1b'])).values()]).toEqual([
          task('task-1a', 1),
        ]);
        expect(await s.store.getPhase('demo', 'phase-1')).toBeUndefined();
        expect(await s.store.listHandoffs('demo', '0')).toEqual([]);
        expect((await s.store.listEvents('demo', { type: 'task.done', limit: 10 })).events).toEqual([]);
      });

      it('refuses an event or handoff id that is already stored, and the commit with it', async () => {
        // Prepare
        const handoff = {
          id: `${T0}#h1`,
          task: 'task-1a',
          to: ['beta'],
          checklist: { tests: true },
          at: T0,
          by: 'alpha',
        };
        const recorded = event('task.done');
        await s.store.commit('demo', { handoffs: [handoff], events: [recorded] });

        // Act
        const sameEvent = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1a', 1), expectedVersion: 0 }],
            events: [recorded],
          }),
        );
        const sameHandoff = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1a', 1), expectedVersion: 0 }],
            handoffs: [handoff],
            events: [],
          }),
        );

        // Assess
        expect(sameEvent).toBeInstanceOf(VersionConflictError);
        expect(sameHandoff).toBeInstanceOf(VersionConflictError);
        expect((await s.store.getTasks('demo', ['task-1a'])).size).toBe(0);
        expect(await s.store.listHandoffs('demo', '0')).toEqual([handoff]);
      });

      it('refuses a commit that writes one item twice or holds more than 100 items, writing nothing', async () => {
        // Act
        const twice = await failure(
          s.store.commit('demo', {
            tasks: [
              { next: task('task-1a', 1), expectedVersion: 0 },
              { next: task('task-1a', 1), expectedVersion: 0 },
            ],
            events: [event('task.created')],
          }),
        );
        const tooMany = await failure(
          s.store.commit('demo', {
            events: Array.from({ length: 101 }, () => event('note')),
          }),
        );

        // Assess
        // DynamoDB refuses the first with a ValidationException, DynamoDB Local by cancelling the transaction.
        expect(twice).toBeInstanceOf(Error);
        expect((tooMany as Error).message).toMatch(/at most 100/);
        expect((await s.store.getTasks('demo', ['task-1a'])).size).toBe(0);
        expect((await s.store.listEvents('demo', { limit: 200 })).events).toHaveLength(1);
      });

      it('keeps what it stores apart from the objects written and read', async () => {
        // Prepare
        const written = { ...task('task-1a', 1), tags: ['a'] } as TaskState & { tags: string[] };
        await s.store.commit('demo', { tasks: [{ next: written, expectedVersion: 0 }], events: [] });

        // Act
        written.tags.push('written');
        const read = (await s.store.getTasks('demo', ['task-1a'])).get('task-1a') as typeof written;
        read.tags.push('read');
        const snapshot = await s.store.snapshot('demo');
        (snapshot?.tasks.get('task-1a') as { status: string }).status = 'done';

        // Assess
        expect((await s.store.getTasks('demo', ['task-1a'])).get('task-1a')).toMatchObject({
          status: 'todo',
          tags: ['a'],
        });
      });

      it('drops fields written as undefined, as the document client does', async () => {
        await s.store.commit('demo', {
          tasks: [{ next: task('task-1a', 1, { blockedReason: undefined }), expectedVersion: 0 }],
          events: [],
        });
        expect(Object.keys((await s.store.getTasks('demo', ['task-1a'])).get('task-1a') ?? {})).not.toContain(
          'blockedReason',
        );
      });

      it('writes a change’s outbox entries, done counts and down marks with it, and none of them when it is refused', async () => {
        // Prepare
        const command: OutboxCommand = { kind: 'transition', issue: 'DEMO-1', status: 'Done' };
        const now = new Date(at(1));
        await s.store.recordHeartbeat('demo', 'alpha', { at: at(0) });

        // Act
        await s.store.commit('demo', {
          tasks: [{ next: task('task-1a', 1, { status: 'done' }), expectedVersion: 0 }],
          events: [event('task.transitioned')],
          doneCounts: [{ phase: 'phase-1', delta: 1 }],
          outbox: { entries: [{ id: 'first', project: 'demo', command }], now },
        });
        const stale = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1a', 1, { status: 'done' }), expectedVersion: 0 }],
            events: [event('task.transitioned')],
            doneCounts: [{ phase: 'phase-1', delta: 1 }],
            outbox: { entries: [{ id: 'second', project: 'demo', command }], now },
          }),
        );
        await s.store.commit('demo', {
          agentsDown: [{ agent: 'alpha', at: at(30), lastHeartbeatAt: at(0) }],
          events: [event('agent.down')],
        });
        const downTwice = await failure(
          s.store.commit('demo', {
            agentsDown: [{ agent: 'alpha', at: at(31), lastHeartbeatAt: at(0) }],
            events: [event('agent.down')],
          }),
        );
        const tooBig = await failure(
          s.store.commit('demo', {
            events: [event('note')],
            outbox: {
              entries: Array.from({ length: 100 }, (_, index) => ({
                id: `many-${index}`,
                project: 'demo',
                command,
              })),
              now,
            },
          }),
        );

        // Assess
        expect(stale).toBeInstanceOf(VersionConflictError);
        expect(downTwice).toBeInstanceOf(VersionConflictError);
        expect(tooBig).toBeInstanceOf(UnprocessableError);
        expect((tooBig as Error).message).toMatch(/at most 100 items/);
        expect((await s.outbox.due(new Date(at(60)), 200)).map((entry) => entry.id)).toEqual(['first']);
        expect(await s.store.countDone('demo', 'phase-1', 0)).toBe(1);
        expect((await s.store.getTaskContext('demo', ['task-1a'], 'phase-1')).done).toBe(1);
        expect((await s.store.snapshot('demo'))?.agents.get('alpha')?.downSince).toBe(at(30));
      });

      it('counts a phase’s done tasks up and down', async () => {
        expect(await s.store.countDone('demo', 'phase-1', 1)).toBe(1);
        expect(await s.store.countDone('demo', 'phase-1', 1)).toBe(2);
        expect(await s.store.countDone('demo', 'phase-1', -1)).toBe(1);
        expect(await s.store.countDone('demo', 'phase-2', 0)).toBe(0);
      });

      it('lists handoffs since a time, oldest first', async () => {
        // Prepare
        const handoffs = [at(30), at(10), at(20)].map((when, index) => ({
          id: `${when}#h${index}`,
          task: 'task-1a',
          to: ['beta'],
          checklist: {},
          at: when,
          by: 'alpha',
        }));
        await s.store.commit('demo', { handoffs, events: [] });

        // Act
        const since = await s.store.listHandoffs('demo', at(20));

        // Assess
        expect(since.map((handoff) => handoff.at)).toEqual([at(20), at(30)]);
        expect(await s.store.listHandoffs('demo', '0')).toHaveLength(3);
      });
    });

    describe('CoordinationStore claims and resource leases', () => {
      const claim = { agent: 'alpha', lease: 'L0123456789abcdef', at: T0, expiresAt: at(10) };
      const lease = (id: string, fields: Partial<ResourceLease> = {}): ResourceLease => ({
        id,
        holder: 'agent:alpha',
        paths: ['src/**'],
        mode: 'exclusive',
        acquiredAt: T0,
        expiresAt: at(30),
        ...fields,
      });
      beforeEach(async () => {
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
      });

      it('keeps a project’s leases as one set on its version, written with the rest of a commit or not at all', async () => {
        // Prepare
        const empty = await s.store.getLeases('demo');
        await s.store.commit('demo', {
          leases: { next: { leases: [lease('L1', { task: 'task-1a' })], version: 1 }, expectedVersion: 0 },
          events: [event('lease.acquired')],
        });

        // Act: a stale lease set fails the task write with it, and a stale task the lease set.
        const staleLeases = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1a', 1), expectedVersion: 0 }],
            leases: { next: { leases: [lease('L2')], version: 1 }, expectedVersion: 0 },
            events: [event('lease.acquired')],
          }),
        );
        await s.store.commit('demo', {
          tasks: [{ next: task('task-1b', 1), expectedVersion: 0 }],
          events: [],
        });
        const staleTask = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1b', 1), expectedVersion: 0 }],
            leases: { next: { leases: [], version: 2 }, expectedVersion: 1 },
            events: [event('lease.released')],
          }),
        );
        await s.store.commit('demo', {
          leases: {
            next: { leases: [lease('L1', { task: 'task-1a' }), lease('L3', { mode: 'shared' })], version: 2 },
            expectedVersion: 1,
          },
          events: [],
        });

        // Assess
        expect(empty).toEqual({ leases: [], version: 0 });
        expect(staleLeases).toBeInstanceOf(VersionConflictError);
        expect(staleTask).toBeInstanceOf(VersionConflictError);
        expect((await s.store.getTasks('demo', ['task-1a'])).size).toBe(0);
        expect((await s.store.listEvents('demo', { type: 'lease.released', limit: 10 })).events).toEqual([]);
        expect(await s.store.getLeases('demo')).toEqual({
          leases: [lease('L1', { task: 'task-1a' }), lease('L3', { mode: 'shared' })],
          version: 2,
        });
        expect(await s.store.getLeases('other')).toEqual({ leases: [], version: 0 });
      });

      it('renews a claim only for its holder, lapsed or not until released, moving the task’s version', async () => {
        // Prepare
        await s.store.commit('demo', {
          tasks: [
            {
              next: task('task-1a', 1, { status: 'in_progress', claim, assignee: 'alpha' }),
              expectedVersion: 0,
            },
            { next: task('task-1b', 1), expectedVersion: 0 },
          ],
          events: [],
        });

        // Act
        const byOther = await s.store.renewClaim('demo', 'task-1a', {
          agent: 'beta',
          at: at(5),
          expiresAt: at(20),
        });
        const byHolder = await s.store.renewClaim('demo', 'task-1a', {
          agent: 'alpha',
          at: at(5),
          expiresAt: at(20),
        });
        const afterExpiry = await s.store.renewClaim('demo', 'task-1a', {
          agent: 'alpha',
          at: at(20),
          expiresAt: at(40),
        });
        const unclaimed = await s.store.renewClaim('demo', 'task-1b', {
          agent: 'alpha',
          at: at(5),
          expiresAt: at(20),
        });
        const noState = await s.store.renewClaim('demo', 'task-2a', {
          agent: 'alpha',
          at: at(5),
          expiresAt: at(20),
        });

        // Assess
        expect([byOther, byHolder, afterExpiry, unclaimed, noState]).toEqual([
          false,
          true,
          true,
          false,
          false,
        ]);
        const tasks = await s.store.getTasks('demo', ['task-1a', 'task-1b', 'task-2a']);
        expect(tasks.get('task-1a')).toEqual(
          task('task-1a', 3, {
            status: 'in_progress',
            claim: { ...claim, expiresAt: at(40) },
            assignee: 'alpha',
          }),
        );
        expect(tasks.get('task-1b')).toEqual(task('task-1b', 1));
        expect(tasks.has('task-2a')).toBe(false);
        // The renewal moved the version: a write made on the version read before it is refused.
        const stale = await failure(
          s.store.commit('demo', {
            tasks: [{ next: task('task-1a', 2, { status: 'done' }), expectedVersion: 1 }],
            events: [],
          }),
        );
        expect(stale).toBeInstanceOf(VersionConflictError);
      });

      it('summarises every task with state (id, status, blocked, claim, version) and every phase in one read', async () => {
        // Prepare
        const before = await s.store.taskSummaries('demo');
        await s.store.commit('demo', {
          tasks: [
            {
              next: task('task-1a', 1, {
                status: 'in_progress',
                claim,
                assignee: 'alpha',
                startedAt: T0,
              }),
              expectedVersion: 0,
            },
            { next: task('task-1b', 1, { blocked: true, blockedReason: 'keys' }), expectedVersion: 0 },
          ],
          phases: [{ next: phase('phase-1', 1, { status: 'active' }), expectedVersion: 0 }],
          events: [],
        });

        // Act
        const after = await s.store.taskSummaries('demo');

        // Assess
        expect(before).toEqual({ tasks: new Map(), phases: new Map() });
        expect(after.tasks).toEqual(
          new Map([
            ['task-1a', { id: 'task-1a', status: 'in_progress', blocked: false, claim, version: 1 }],
            ['task-1b', { id: 'task-1b', status: 'todo', blocked: true, version: 1 }],
          ]),
        );
        expect(after.phases).toEqual(new Map([['phase-1', phase('phase-1', 1, { status: 'active' })]]));
        expect(await s.store.taskSummaries('other')).toEqual({ tasks: new Map(), phases: new Map() });
      });
    });

    describe('CoordinationStore heartbeats', () => {
      it('creates the agent, counts every heartbeat and keeps what the newest reported', async () => {
        // Act
        const first = await s.store.recordHeartbeat('demo', 'alpha', {
          at: at(0),
          task: 'task-1a',
          completion: 10,
          note: 'starting',
        });
        const second = await s.store.recordHeartbeat('demo', 'alpha', { at: at(5), completion: 40 });
        const late = await s.store.recordHeartbeat('demo', 'alpha', {
          at: at(3),
          completion: 20,
          note: 'late',
        });

        // Assess
        expect(first).toEqual({
          agent: {
            id: 'alpha',
            lastHeartbeatAt: at(0),
            currentTask: 'task-1a',
            completion: 10,
            note: 'starting',
            heartbeats: 1,
            version: 1,
          },
        });
        expect(second.agent).toMatchObject({
          lastHeartbeatAt: at(5),
          completion: 40,
          note: 'starting',
          heartbeats: 2,
        });
        expect(late).toEqual({ agent: { ...second.agent, heartbeats: 3, version: 3 } });
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
        expect((await s.store.snapshot('demo'))?.agents.get('alpha')).toEqual(late.agent);
      });

      it('marks an agent down once, not after a newer heartbeat, and records nothing of its next heartbeat but since when', async () => {
        // Prepare
        await s.store.recordHeartbeat('demo', 'alpha', { at: at(0) });

        // Act
        const unknown = await s.store.markAgentDown('demo', 'beta', { at: at(30), lastHeartbeatAt: at(0) });
        const marked = await s.store.markAgentDown('demo', 'alpha', { at: at(30), lastHeartbeatAt: at(0) });
        const twice = await s.store.markAgentDown('demo', 'alpha', { at: at(31), lastHeartbeatAt: at(0) });
        const back = await s.store.recordHeartbeat('demo', 'alpha', { at: at(40), completion: 50 });

        // Assess: the heartbeat of a down agent writes nothing; bringing it back up is a change's.
        expect([unknown, marked, twice]).toEqual([false, true, false]);
        expect(back).toEqual({
          agent: { id: 'alpha', lastHeartbeatAt: at(0), downSince: at(30), heartbeats: 1, version: 2 },
          down: at(30),
        });
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
        expect((await s.store.snapshot('demo'))?.agents.get('alpha')).toEqual(back.agent);
      });

      it('brings a down agent back up with its heartbeat in a change, once, and leaves it down when the change is refused', async () => {
        // Prepare
        await s.store.recordHeartbeat('demo', 'alpha', { at: at(0), task: 'task-1a', note: 'starting' });
        await s.store.markAgentDown('demo', 'alpha', { at: at(30), lastHeartbeatAt: at(0) });
        const heartbeat = { at: at(40), completion: 50, risk: 'yellow' as const };
        const change = (id: string) => ({
          agentsUp: [{ agent: 'alpha', downSince: at(30), heartbeat }],
          events: [event('agent.up', at(40), { subject: 'alpha' })],
          published: [
            domainEvent('agent.up', { project: 'demo', agent: 'alpha', downSince: at(30), at: id }),
          ],
        });

        // Act: a change refused for another of its writes, then the change, then the same one raced.
        const refused = await failure(
          s.store.commit('demo', {
            ...change(at(40)),
            tasks: [{ next: task('task-1a', 1), expectedVersion: 7 }],
          }),
        );
        const stillDown = await s.store.recordHeartbeat('demo', 'alpha', { at: at(41) });
        const lost = await s.publishedEvent(`agent.up/demo/alpha/${at(30)}`);
        await s.store.commit('demo', change(at(40)));
        const raced = await failure(s.store.commit('demo', change(at(42))));
        const older = await failure(
          s.store.commit('demo', {
            agentsUp: [{ agent: 'alpha', downSince: at(30), heartbeat: { at: at(35) } }],
            events: [],
          }),
        );
        const next = await s.store.recordHeartbeat('demo', 'alpha', { at: at(45) });

        // Assess
        expect(refused).toBeInstanceOf(VersionConflictError);
        expect(stillDown.down).toBe(at(30));
        expect(raced).toBeInstanceOf(VersionConflictError);
        expect(older).toBeInstanceOf(VersionConflictError);
        expect(next.down).toBeUndefined();
        expect(next.agent).toEqual({
          id: 'alpha',
          lastHeartbeatAt: at(45),
          currentTask: 'task-1a',
          note: 'starting',
          completion: 50,
          risk: 'yellow',
          heartbeats: 3,
          version: 4,
        });
        expect(lost).toBeUndefined();
        expect((await s.publishedEvent(`agent.up/demo/alpha/${at(30)}`))?.at).toBe(at(40));
        const trail = await s.store.listEvents('demo', { type: 'agent.up', limit: 10 });
        expect(trail.events).toHaveLength(1);
      });
    });

    describe('CoordinationStore metrics', () => {
      beforeEach(async () => {
        await s.store.savePlan('demo', PLAN, 0, { at: T0, by: 'admin', event: event('plan.applied') });
      });

      it('keeps each point once by name, time and value, oldest first since a time', async () => {
        // Act
        await s.store.putMetrics('demo', [
          { name: 'tps', value: 10, at: at(10) },
          { name: 'tps', value: 10, at: at(10) },
          { name: 'tps', value: 12, at: at(10) },
          { name: 'tps', value: 5, at: at(0) },
          { name: 'errors', value: 1, at: at(0) },
        ]);
        await s.store.putMetrics('demo', [{ name: 'tps', value: 10, at: at(10) }]);

        // Assess
        expect(await s.store.metricHistory('demo', 'tps', '0')).toEqual([
          { name: 'tps', value: 5, at: at(0) },
          { name: 'tps', value: 10, at: at(10) },
          { name: 'tps', value: 12, at: at(10) },
        ]);
        expect(await s.store.metricHistory('demo', 'tps', at(5))).toHaveLength(2);
        expect(await s.store.metricHistory('demo', 'latency', '0')).toEqual([]);
      });

      it('moves a metric’s latest value only forward in time', async () => {
        // Act
        await s.store.putMetrics('demo', [
          { name: 'tps', value: 10, at: at(10) },
          { name: 'errors', value: 3, at: at(10) },
        ]);
        await s.store.putMetrics('demo', [
          { name: 'tps', value: 99, at: at(5) },
          { name: 'errors', value: 4, at: at(20) },
        ]);

        // Assess
        const metrics = (await s.store.snapshot('demo'))?.metrics;
        expect(metrics?.get('tps')).toEqual({ name: 'tps', value: 10, at: at(10) });
        expect(metrics?.get('errors')).toEqual({ name: 'errors', value: 4, at: at(20) });
        expect(await s.store.metricHistory('demo', 'tps', '0')).toHaveLength(2);
      });

      it('refuses an empty `since`, which no key may be', async () => {
        expect(await failure(s.store.metricHistory('demo', 'tps', ''))).toBeInstanceOf(Error);
        expect(await failure(s.store.listHandoffs('demo', ''))).toBeInstanceOf(Error);
      });

      it('refuses more than 100 points in one call', async () => {
        const points = Array.from({ length: 101 }, (_, index) => ({ name: 'tps', value: index, at: T0 }));
        await expect(s.store.putMetrics('demo', points)).rejects.toBeInstanceOf(ValidationError);
        expect(await s.store.metricHistory('demo', 'tps', '0')).toEqual([]);
      });
    });

    describe('CoordinationStore events', () => {
      const events = Array.from({ length: 7 }, (_, index) =>
        event(index % 2 === 0 ? 'task.started' : 'task.done', at(index)),
      );
      beforeEach(async () => {
        await s.store.appendEvents('demo', events.slice(0, 4));
        await s.store.appendEvents('demo', events.slice(4));
        await s.store.appendEvents('other', [event('task.done', at(3))]);
      });

      it('lists events newest first, of one type, since a time', async () => {
        expect((await s.store.listEvents('demo', { limit: 100 })).events).toEqual([...events].reverse());
        expect(
          (await s.store.listEvents('demo', { type: 'task.done', limit: 100 })).events.map((e) => e.at),
        ).toEqual([at(5), at(3), at(1)]);
        expect((await s.store.listEvents('demo', { since: at(4), limit: 100 })).events).toHaveLength(3);
        expect((await s.store.listEvents('nobody', { limit: 10 })).events).toEqual([]);
      });

      it('pages through every event exactly once with cursors, with and without a type', async () => {
        // Act
        const all = await allPages(async (cursor) => {
          const page = await s.store.listEvents('demo', { limit: 3, ...(cursor ? { cursor } : {}) });
          return { items: page.events, cursor: page.cursor };
        });
        const done = await allPages(async (cursor) => {
          const page = await s.store.listEvents('demo', {
            type: 'task.done',
            limit: 2,
            ...(cursor ? { cursor } : {}),
          });
          return { items: page.events, cursor: page.cursor };
        });
        const since = await allPages(async (cursor) => {
          const page = await s.store.listEvents('demo', {
            since: at(2),
            limit: 2,
            ...(cursor ? { cursor } : {}),
          });
          return { items: page.events, cursor: page.cursor };
        });

        // Assess
        expect(all.pages.map((page) => page.length)).toEqual([3, 3, 1]);
        expect(all.items).toEqual([...events].reverse());
        expect(done.items.map((e) => e.at)).toEqual([at(5), at(3), at(1)]);
        expect(since.items.map((e) => e.at)).toEqual([at(6), at(5), at(4), at(3), at(2)]);
      });

      it('gives a page that ends exactly at the last event a cursor, and the page after it none', async () => {
        // A DynamoDB Query that stops at its Limit returns a LastEvaluatedKey even when nothing follows.
        const full = await s.store.listEvents('demo', { limit: 7 });
        expect(full.events).toHaveLength(7);
        expect(full.cursor).toBeDefined();
        expect(await s.store.listEvents('demo', { limit: 7, cursor: full.cursor as string })).toEqual({
          events: [],
        });
      });

      it('refuses a cursor of another project or query, or none at all, as a ValidationError', async () => {
        // Prepare
        const { cursor } = await s.store.listEvents('demo', { limit: 2 });
        const typed = (await s.store.listEvents('demo', { type: 'task.done', limit: 1 })).cursor as string;

        // Act
        const reads = await Promise.all(
          [
            s.store.listEvents('other', { limit: 2, cursor: cursor as string }),
            s.store.listEvents('demo', { type: 'task.done', limit: 2, cursor: cursor as string }),
            s.store.listEvents('demo', { limit: 2, cursor: typed }),
            s.store.listEvents('demo', { since: at(6), limit: 2, cursor: cursor as string }),
            s.store.listEvents('demo', { limit: 2, cursor: 'not-a-cursor' }),
            s.store.listEvents('demo', { limit: 2, cursor: Buffer.from('[]').toString('base64url') }),
          ].map(failure),
        );

        // Assess
        for (const read of reads) {
          expect(read).toBeInstanceOf(ValidationError);
          expect((read as Error).message).toMatch(/query\.cursor: not a cursor this API returned/);
        }
      });

      it('appends all events of a call or none', async () => {
        await expect(
          s.store.appendEvents('demo', [event('new'), events[0] as AuditEvent]),
        ).rejects.toBeInstanceOf(VersionConflictError);
        expect((await s.store.listEvents('demo', { type: 'new', limit: 10 })).events).toEqual([]);
        await s.store.appendEvents('demo', []);
      });
    });

    describe('EscalationStore', () => {
      it('lets one of two openings of the same rule and subject succeed', async () => {
        // Act
        const first = await failure(
          s.escalations.saveEscalations('p', [{ escalation: escalation('p', 'cve-1'), expectedVersion: 0 }]),
        );
        const second = await failure(
          s.escalations.saveEscalations('p', [
            { escalation: escalation('p', 'cve-1', { openedAt: at(1), id: 'other-id' }), expectedVersion: 0 },
          ]),
        );

        // Assess
        expect(first).toBeUndefined();
        expect(second).toBeInstanceOf(VersionConflictError);
        expect(await s.escalations.unresolvedEscalations('p')).toHaveLength(1);
      });

      it('updates on the expected version and refuses a stale one', async () => {
        // Prepare
        const opened = escalation('p', 'cve-1');
        await s.escalations.saveEscalations('p', [{ escalation: opened, expectedVersion: 0 }]);
        const acknowledged = {
          ...opened,
          status: 'acknowledged' as const,
          acknowledgedBy: 'lead',
          version: 2,
        };

        // Act
        await s.escalations.saveEscalations('p', [{ escalation: acknowledged, expectedVersion: 1 }]);
        const stale = await failure(
          s.escalations.saveEscalations('p', [
            { escalation: { ...opened, occurrences: 2, version: 2 }, expectedVersion: 1 },
          ]),
        );
        const otherId = await failure(
          s.escalations.saveEscalations('p', [
            { escalation: { ...acknowledged, id: 'x', version: 3 }, expectedVersion: 2 },
          ]),
        );

        // Assess
        expect(stale).toBeInstanceOf(VersionConflictError);
        expect(otherId).toBeInstanceOf(VersionConflictError);
        expect(await s.escalations.getEscalation('p', opened.id)).toEqual(acknowledged);
      });

      it('moves a resolved escalation into the history and frees its key, but never opens it again', async () => {
        // Prepare
        const opened = escalation('p', 'cve-1');
        await s.escalations.saveEscalations('p', [{ escalation: opened, expectedVersion: 0 }]);
        const resolved = {
          ...opened,
          status: 'resolved' as const,
          resolution: 'person',
          version: 2,
        } as Escalation;

        // Act
        await s.escalations.saveEscalations('p', [{ escalation: resolved, expectedVersion: 1 }]);
        const retriedOpening = await failure(
          s.escalations.saveEscalations('p', [{ escalation: opened, expectedVersion: 0 }]),
        );
        const reopened = escalation('p', 'cve-1', { id: 'second', openedAt: at(10) });
        await s.escalations.saveEscalations('p', [{ escalation: reopened, expectedVersion: 0 }]);

        // Assess
        expect(retriedOpening).toBeInstanceOf(VersionConflictError);
        expect(await s.escalations.unresolvedEscalations('p')).toEqual([reopened]);
        expect(await s.escalations.getEscalation('p', opened.id)).toEqual(resolved);
        expect(await s.escalations.getEscalation('p', 'missing')).toBeUndefined();
        await expect(
          s.escalations.saveEscalations('p', [{ escalation: resolved, expectedVersion: 1 }]),
        ).rejects.toBeInstanceOf(VersionConflictError);
      });

      it('writes the changes, their events and their notices together, or none of them', async () => {
        // Prepare
        const opened = escalation('p', 'cve-1');
        const now = new Date(at(0));
        await s.escalations.saveEscalations(
          'p',
          [{ escalation: opened, expectedVersion: 0 }],
          [event('escalation.opened')],
          {
            entries: [
              { id: 'n1', project: 'p', command: slack('n1') },
              { id: 'n2', project: 'p', command: slack('n2') },
            ],
            now,
          },
        );

        // Act
        const conflicting = await failure(
          s.escalations.saveEscalations(
            'p',
            [
              { escalation: escalation('p', 'cve-2'), expectedVersion: 0 },
              { escalation: escalation('p', 'cve-1', { id: 'dup' }), expectedVersion: 0 },
            ],
            [event('escalation.opened')],
            { entries: [{ id: 'n3', project: 'p', command: slack('n3') }], now },
          ),
        );

        // Assess
        expect(conflicting).toBeInstanceOf(VersionConflictError);
        expect((await s.escalations.unresolvedEscalations('p')).map((e) => e.subject)).toEqual(['cve-1']);
        expect((await s.store.listEvents('p', { limit: 10 })).events.map((e) => e.type)).toEqual([
          'escalation.opened',
        ]);
        const due = await s.outbox.due(new Date(at(1)), 10);
        expect(due.map((entry) => [entry.id, entry.notBefore, entry.createdAt, entry.attempts])).toEqual([
          ['n1', at(0), at(0), 0],
          ['n2', at(0), new Date(now.getTime() + 1).toISOString(), 0],
        ]);
      });

      it('refuses an escalation of another project and more changes than one transaction holds', async () => {
        await expect(
          s.escalations.saveEscalations('p', [{ escalation: escalation('q', 'cve-1'), expectedVersion: 0 }]),
        ).rejects.toThrow(/belongs to q, not p/);
        const many = Array.from({ length: 51 }, (_, index) => ({
          escalation: escalation('p', `cve-${index}`),
          expectedVersion: 0,
        }));
        await expect(s.escalations.saveEscalations('p', many)).rejects.toThrow(/at most 100/);
        expect(await s.escalations.unresolvedEscalations('p')).toEqual([]);
      });

      it('records events beyond what the transaction holds right after it', async () => {
        const events = Array.from({ length: 150 }, () => event('escalation.reminded'));
        await s.escalations.saveEscalations(
          'p',
          [{ escalation: escalation('p', 'cve-1'), expectedVersion: 0 }],
          events,
        );
        expect((await s.store.listEvents('p', { limit: 200 })).events).toHaveLength(150);
      });

      describe('listing', () => {
        /** 12 escalations opened a minute apart: every third resolved, every third acknowledged. */
        const opened = Array.from({ length: 12 }, (_, index) =>
          escalation('p', `s-${String(index).padStart(2, '0')}`, {
            id: `e-${String(index).padStart(2, '0')}`,
            openedAt: at(index),
          }),
        );
        const final = opened.map((e, index) =>
          index % 3 === 0
            ? ({ ...e, status: 'resolved', resolution: 'person', version: 2 } as Escalation)
            : index % 3 === 1
              ? { ...e, status: 'acknowledged' as const, version: 2 }
              : e,
        );
        beforeEach(async () => {
          await s.escalations.saveEscalations(
            'p',
            opened.map((e) => ({ escalation: e, expectedVersion: 0 })),
          );
          await s.escalations.saveEscalations(
            'p',
            final.filter((e) => e.version === 2).map((e) => ({ escalation: e, expectedVersion: 1 })),
          );
        });
        const newestFirst = (status?: string) =>
          [...final].reverse().filter((e) => status === undefined || e.status === status);

        it.each([undefined, 'open', 'acknowledged', 'resolved'] as const)(
          'pages through every %s escalation newest first, exactly once',
          async (status) => {
            for (const limit of [1, 2, 5, 100]) {
              const { pages, items } = await allPages(async (cursor) => {
                const page = await s.escalations.listEscalations('p', {
                  limit,
                  ...(status ? { status } : {}),
                  ...(cursor ? { cursor } : {}),
                });
                return { items: page.escalations, cursor: page.cursor };
              });
              expect(items).toEqual(newestFirst(status));
              expect(pages.every((page) => page.length <= limit)).toBe(true);
            }
          },
        );

        it('ends pages where the DynamoDB queries end them', async () => {
          const page = async (limit: number, status?: 'open' | 'resolved') => {
            const read = await s.escalations.listEscalations('p', { limit, ...(status ? { status } : {}) });
            return [read.escalations.length, read.cursor !== undefined];
          };
          // Unfiltered, a read that stops at its limit has a cursor even when nothing follows.
          expect(await page(12)).toEqual([12, true]);
          expect(await page(13)).toEqual([12, false]);
          // Open ones come from the whole unresolved set: a cursor only when more follow.
          expect(await page(4, 'open')).toEqual([4, false]);
          expect(await page(3, 'open')).toEqual([3, true]);
          // Resolved ones are filtered from reads of 100: the last read came back short.
          expect(await page(4, 'resolved')).toEqual([4, false]);
        });

        it('lists the unresolved ones by dedup key, and refuses a cursor of another project', async () => {
          expect((await s.escalations.unresolvedEscalations('p')).map((e) => e.id)).toEqual(
            final.filter((e) => e.status !== 'resolved').map((e) => e.id),
          );
          const { cursor } = await s.escalations.listEscalations('p', { limit: 2 });
          await expect(
            s.escalations.listEscalations('q', { limit: 2, cursor: cursor as string }),
          ).rejects.toBeInstanceOf(ValidationError);
          await expect(s.escalations.listEscalations('p', { limit: 2, cursor: 'x' })).rejects.toThrow(
            /not a cursor this API returned for this project/,
          );
        });
      });
    });

    describe('GateStore', () => {
      it('saves a gate on its version and refuses a stale one', async () => {
        // Act
        await s.gates.saveGate('p', gate('g1', 1), 0);
        await s.gates.saveGate('p', gate('g1', 2, { status: 'caution' }), 1);
        const stale = await failure(s.gates.saveGate('p', gate('g1', 2, { status: 'held' }), 1));
        const created = await failure(s.gates.saveGate('p', gate('g1', 1), 0));

        // Assess
        expect(stale).toBeInstanceOf(VersionConflictError);
        expect(created).toBeInstanceOf(VersionConflictError);
        expect(await s.gates.getGate('p', 'g1')).toEqual(gate('g1', 2, { status: 'caution' }));
        expect(await s.gates.getGate('p', 'g2')).toBeUndefined();
        expect(await s.gates.getGate('q', 'g1')).toBeUndefined();
      });

      it('lists a project’s gates by id', async () => {
        for (const id of ['g2', 'g1', 'g3']) await s.gates.saveGate('p', gate(id, 1), 0);
        await s.gates.saveGate('q', gate('g0', 1), 0);
        expect((await s.gates.listGates('p')).map((g) => g.gate)).toEqual(['g1', 'g2', 'g3']);
      });

      it('keeps decisions newest first, replacing a retried evaluation, one gate at a time', async () => {
        // Act
        await s.gates.recordGateDecision('p', decision('g1', 1, 'first'), 1);
        await s.gates.recordGateDecision('p', decision('g1', 1, 'second'), 2);
        await s.gates.recordGateDecision('p', decision('g1', 1, 'second, retried'), 2);
        await s.gates.recordGateDecision('p', decision('g1', 2, 'third'), 1);
        await s.gates.recordGateDecision('p', decision('g10', 1, 'other gate'), 1);

        // Assess
        expect((await s.gates.gateDecisions('p', 'g1', 10)).map((d) => d.note)).toEqual([
          'third',
          'second, retried',
          'first',
        ]);
        expect((await s.gates.gateDecisions('p', 'g1', 2)).map((d) => d.note)).toEqual([
          'third',
          'second, retried',
        ]);
        expect(await s.gates.gateDecisions('p', 'g2', 10)).toEqual([]);
      });

      it('writes a decision’s gate.decided with it, and only the decision when it publishes nothing', async () => {
        // Prepare
        const decided = domainEvent('gate.decided', {
          project: 'p',
          gate: 'g1',
          phase: 'phase-1',
          attempt: 1,
          decision: 'GO',
          criteria: [],
          tasksNotDone: [],
          at: T0,
        });

        // Act
        await s.gates.recordGateDecision('p', decision('g1', 1, 'published'), 1, [decided]);
        await s.gates.recordGateDecision('p', decision('g2', 1, 'quiet'), 1);

        // Assess
        expect((await s.gates.gateDecisions('p', 'g1', 10)).map((d) => d.note)).toEqual(['published']);
        expect(await s.publishedEvent(decided.id)).toEqual(decided);
        expect(await s.publishedEvent(decided.id.replace('/g1/', '/g2/'))).toBeUndefined();
      });
    });

    describe('TokenStore', () => {
      it('saves a token once, finds it, and deletes it with its audit events', async () => {
        // Act
        await s.tokens.saveToken(token('t1', T0, 'p'), { project: 'p', event: event('token.created') });
        const twice = await failure(
          s.tokens.saveToken(token('t1', at(1), 'p'), {
            project: 'p',
            event: event('token.created'),
          }),
        );
        const found = await s.tokens.findToken('t1');
        const deleted = await s.tokens.deleteToken('t1', { project: 'p', event: event('token.revoked') });
        const again = await s.tokens.deleteToken('t1', { project: 'p', event: event('token.revoked') });

        // Assess
        expect(twice).toBeInstanceOf(VersionConflictError);
        expect(found).toEqual(token('t1', T0, 'p'));
        expect([deleted, again]).toEqual([true, false]);
        expect(await s.tokens.findToken('t1')).toBeUndefined();
        expect((await s.store.listEvents('p', { limit: 10 })).events.map((e) => e.type)).toEqual([
          'token.revoked',
          'token.created',
        ]);
      });

      it('keeps a token whose audit event cannot be written', async () => {
        const created = event('token.created');
        await s.tokens.saveToken(token('t1', T0, 'p'), { project: 'p', event: created });
        await expect(s.tokens.deleteToken('t1', { project: 'p', event: created })).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        expect(await s.tokens.findToken('t1')).toBeDefined();
      });

      it('lists the admin tokens and the project’s, oldest first', async () => {
        await s.tokens.saveToken(token('a2', at(2)));
        await s.tokens.saveToken(token('p1', at(1), 'p'));
        await s.tokens.saveToken(token('q1', at(0), 'q'));
        await s.tokens.saveToken(token('a1', at(3)));
        await s.tokens.saveToken(token('p0', at(2), 'p'));
        expect((await s.tokens.listTokens('p')).map((t) => t.id)).toEqual(['p1', 'a2', 'p0', 'a1']);
      });
    });

    describe('IdempotencyStore', () => {
      const now = new Date(T0);
      const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

      it('claims a key once, then tells the outcome of the claim that completed', async () => {
        expect(await s.idempotency.claim('k', 'f1', now, 60)).toEqual({ state: 'new' });
        expect(await s.idempotency.claim('k', 'f2', later(1), 60)).toEqual({ state: 'in_progress' });
        await s.idempotency.complete('k', 'f1', { status: 201, body: { id: 1 } }, later(2), 3600);
        expect(await s.idempotency.claim('k', 'f2', later(3), 60)).toEqual({
          state: 'done',
          fingerprint: 'f1',
          outcome: { status: 201, body: { id: 1 } },
        });
      });

      it('lets a key be claimed again once its record expires or is released', async () => {
        await s.idempotency.claim('k', 'f', now, 60);
        expect(await s.idempotency.claim('k', 'f', later(60), 60)).toEqual({ state: 'in_progress' });
        expect(await s.idempotency.claim('k', 'f', later(61), 60)).toEqual({ state: 'new' });
        await s.idempotency.release('k');
        expect(await s.idempotency.claim('k', 'f', later(62), 60)).toEqual({ state: 'new' });
        await s.idempotency.complete('k', 'f', 'ok', later(63), 10);
        expect(await s.idempotency.claim('k', 'f', later(74), 60)).toEqual({ state: 'new' });
      });
    });

    describe('ChartArchive', () => {
      it('keeps charts by name and time and gives back the latest', async () => {
        // Prepare
        const png = (byte: number) => new Uint8Array([137, 80, 78, 71, byte]);
        await s.charts.saveChart('p', 'burndown', { at: at(0), png: png(1) });
        await s.charts.saveChart('p', 'burndown', { at: at(10), png: png(2) });
        await s.charts.saveChart('p', 'burndown-x', { at: at(20), png: png(3) });

        // Act
        const latest = await s.charts.latestChart('p', 'burndown');
        const first = await s.charts.chartAt('p', 'burndown', at(0));

        // Assess
        expect(latest?.at).toBe(at(10));
        expect([...(latest?.png ?? [])]).toEqual([...png(2)]);
        expect([...(first?.png ?? [])]).toEqual([...png(1)]);
        expect(await s.charts.chartAt('p', 'burndown', at(5))).toBeUndefined();
        expect(await s.charts.latestChart('q', 'burndown')).toBeUndefined();
      });
    });

    describe('Outbox', () => {
      const entries = (...ids: string[]) => ids.map((id) => ({ id, project: 'p', command: slack(id) }));

      it('enqueues an id once, pending or dead, and lists what is due oldest first', async () => {
        // Act
        const added = await s.outbox.enqueue(entries('b', 'a'), new Date(at(0)));
        const again = await s.outbox.enqueue(entries('a', 'c'), new Date(at(1)));

        // Assess
        expect([added, again]).toEqual([2, 1]);
        const due = await s.outbox.due(new Date(at(1)), 10);
        expect(due.map((entry) => entry.id)).toEqual(['a', 'b', 'c']);
        expect(due[0]).toEqual({
          id: 'a',
          project: 'p',
          command: slack('a'),
          attempts: 0,
          notBefore: at(0),
          createdAt: new Date(Date.parse(at(0)) + 1).toISOString(),
        });
        expect((await s.outbox.due(new Date(at(0)), 10)).map((entry) => entry.id)).toEqual(['a', 'b']);
        expect(await s.outbox.due(new Date(at(1)), 1)).toHaveLength(1);
        expect(await s.outbox.due(new Date(at(1)), 0)).toEqual([]);
      });

      it('retries an entry later and dead-letters it, and leaves a completed one gone', async () => {
        // Prepare
        await s.outbox.enqueue(entries('a', 'b', 'c'), new Date(at(0)));

        // Act
        await s.outbox.retryLater('a', 1, new Date(at(5)), 'Error: timeout');
        await s.outbox.deadLetter('b', 5, 'Error: gone', new Date(at(2)));
        await s.outbox.complete('c');
        await s.outbox.retryLater('c', 1, new Date(at(5)), 'late');
        await s.outbox.deadLetter('c', 1, 'late', new Date(at(5)));
        await s.outbox.retryLater('b', 6, new Date(at(9)), 'not while dead');
        const readded = await s.outbox.enqueue(entries('b'), new Date(at(3)));

        // Assess
        expect(readded).toBe(0);
        expect(await s.outbox.due(new Date(at(4)), 10)).toEqual([]);
        expect(await s.outbox.due(new Date(at(5)), 10)).toMatchObject([
          { id: 'a', attempts: 1, notBefore: at(5), lastError: 'Error: timeout' },
        ]);
        expect(await s.outbox.deadLetters()).toMatchObject([
          { id: 'b', attempts: 5, notBefore: at(2), lastError: 'Error: gone' },
        ]);
        await s.outbox.complete('b');
        expect(await s.outbox.deadLetters()).toEqual([]);
      });

      it('lists everything pending for a time far in the future', async () => {
        await s.outbox.enqueue(entries('a'), new Date(at(0)));
        expect(await s.outbox.due(new Date('9999-01-01'), 10)).toHaveLength(1);
        expect(await s.outbox.due(new Date('+010000-01-01T00:00:00.000Z'), 10)).toHaveLength(1);
      });
    });

    describe('RateLimiter', () => {
      it('lets capacity requests through per window and says how long to wait', async () => {
        const limiter = s.limiter({ name: 'jira:a', capacity: 2, windowMs: 1000 });
        const other = s.limiter({ name: 'jira:b', capacity: 2, windowMs: 1000 });
        const t = (ms: number) => new Date(Date.parse(T0) + ms);
        expect(await limiter.tryAcquire(t(0))).toBe(0);
        expect(await limiter.tryAcquire(t(100))).toBe(0);
        expect(await limiter.tryAcquire(t(200))).toBe(800);
        expect(await other.tryAcquire(t(200))).toBe(0);
        expect(await limiter.tryAcquire(t(1000))).toBe(0);
        expect(await limiter.tryAcquire(t(1050))).toBe(50);
      });
    });
  });
}
