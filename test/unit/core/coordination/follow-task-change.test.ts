import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../../../functions/adapters/dynamodb/coordination-store.js';
import { memoryStores } from '../../../../functions/adapters/memory/index.js';
import {
  applyPlan,
  type CoordinationPorts,
  followTaskChange,
  transitionTask,
} from '../../../../functions/core/coordination/commands.js';
import { parsePlan } from '../../../../functions/core/plan/index.js';

const PLAN = `version: 1
project: { id: relay, name: Relay, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm, name: Pat }]
agents: [{ id: alpha, name: Alpha, owner: pm }]
phases:
  - id: build
    tasks: [{ id: api, title: API, agent: alpha, estimate: 1d }]
  - id: ship
    dependsOn: [build]
    tasks: [{ id: release, title: Release, agent: alpha, estimate: 1d }]
`;

const admin = { kind: 'admin' } as const;
let ports: CoordinationPorts;

beforeEach(async () => {
  // The rule is about the use case, not the store: the in-memory one behaves alike (test/contract/).
  const { store } = memoryStores();
  ports = { store, clock: { now: () => new Date('2026-03-02T15:00:00Z') }, ids: timeOrderedIds };
  const parsed = parsePlan(PLAN, { file: 'relay.yaml' });
  if (!parsed.ok) throw new Error('the test plan is invalid');
  await applyPlan(ports, { project: 'relay', plan: parsed.plan, actor: admin });
});

describe('followTaskChange', () => {
  it('tells a late follower of a task reaching done what it moved, though the publisher settled it first', async () => {
    // Prepare: the transition settles the phases as it answers; the publisher follows the same event.
    await transitionTask(ports, { project: 'relay', task: 'api', to: 'in_progress', actor: admin });
    const done = await transitionTask(ports, { project: 'relay', task: 'api', to: 'done', actor: admin });
    const change = {
      project: 'relay',
      phase: 'build',
      from: 'in_progress',
      to: 'done',
      at: done.task.updatedAt,
    } as const;

    // Act: following the change again, as the transition does when the publisher got there first.
    const again = await followTaskChange(ports, change);

    // Assess: the same phases moved, and nothing was written twice.
    expect(done.phases).toEqual({ build: 'passed', ship: 'active' });
    expect(Object.fromEntries(again.map((phase) => [phase.id, phase.status]))).toEqual(done.phases);
    const passed = await ports.store.listEvents('relay', { type: 'phase.passed', limit: 10 });
    expect(passed.events).toHaveLength(1);
  });

  it('moves nothing for a task whose phase has tasks left', async () => {
    // Prepare
    await transitionTask(ports, { project: 'relay', task: 'api', to: 'in_progress', actor: admin });

    // Act
    const moved = await followTaskChange(ports, {
      project: 'relay',
      phase: 'build',
      from: 'todo',
      to: 'in_progress',
      at: '2026-03-02T15:00:00Z',
    });

    // Assess
    expect(moved).toEqual([]);
  });
});

describe('a transition to done', () => {
  it('reads its phase’s done count only near the phase’s end, and still names the phases it completes', async () => {
    // Prepare: a phase of 12 tasks; reads of the done count are counted.
    const { store } = memoryStores();
    const counted: number[] = [];
    const countDone = store.countDone.bind(store);
    store.countDone = async (project, phase, delta) => {
      counted.push(delta);
      return countDone(project, phase, delta);
    };
    const wide = { store, clock: ports.clock, ids: timeOrderedIds };
    const ids = Array.from({ length: 12 }, (_, n) => `t${n}`);
    const parsed = parsePlan(
      `version: 1
project: { id: wide, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks: [${ids.map((id) => `{ id: ${id}, agent: alpha, estimate: 1h }`).join(', ')}]
`,
      { file: 'wide.yaml' },
    );
    if (!parsed.ok) throw new Error('the test plan is invalid');
    await applyPlan(wide, { project: 'wide', plan: parsed.plan, actor: admin });

    // Act: every task done in turn, noting after which ones the count was read.
    const readAfter: string[] = [];
    let last: Awaited<ReturnType<typeof transitionTask>> | undefined;
    for (const id of ids) {
      await transitionTask(wide, { project: 'wide', task: id, to: 'in_progress', actor: admin });
      const before = counted.length;
      last = await transitionTask(wide, { project: 'wide', task: id, to: 'done', actor: admin });
      if (counted.length > before) readAfter.push(id);
    }

    // Assess: the first three are more than 8 tasks from the end; the last one passes the phase.
    expect(readAfter).toEqual(ids.slice(3));
    expect(last?.phases).toEqual({ build: 'passed' });
  });
});
