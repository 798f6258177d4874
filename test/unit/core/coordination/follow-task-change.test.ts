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
