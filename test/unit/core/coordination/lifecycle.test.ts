import { describe, expect, it } from 'vitest';
import {
  checkTransition,
  progressPhases,
  type TransitionContext,
} from '../../../../functions/core/coordination/lifecycle.js';
import type {
  Actor,
  PhaseState,
  PhaseStatus,
  TaskState,
} from '../../../../functions/core/coordination/model.js';
import type { TaskStatus } from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';

/** The minimal plan with one exact piece of text replaced. */
const replace = (from: string, to: string, text = MINIMAL_PLAN) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
};

/**
 * MINIMAL_PLAN plus task-1c (depends on task-1a and task-1b) and phase-3 (depends on phase-1 and
 * phase-2), so predecessors and phase dependencies both come in twos.
 */
const PLAN = validPlan(
  `${replace(
    '        estimate: 2d\n',
    `        estimate: 2d
      - id: task-1c
        agent: alpha
        estimate: 1d
        dependsOn: [task-1a, task-1b]
`,
  )}  - id: phase-3
    dependsOn: [phase-1, phase-2]
    tasks:
      - id: task-3a
        agent: beta
        estimate: 1d
`,
);

const AT = '2026-01-06T15:00:00.000Z';
const AGENT: Actor = { kind: 'agent', id: 'alpha' };
const ADMIN: Actor = { kind: 'admin' };

const taskState = (id: string, status: TaskStatus, extra: Partial<TaskState> = {}): TaskState => ({
  id,
  status,
  blocked: false,
  updatedAt: '2026-01-05T14:00:00.000Z',
  updatedBy: 'agent:alpha',
  version: 1,
  ...extra,
});

const phaseState = (id: string, status: PhaseStatus, version = 1): PhaseState => ({
  id,
  status,
  updatedAt: '2026-01-05T14:00:00.000Z',
  version,
});

const tasksOf = (...states: TaskState[]) => new Map(states.map((state) => [state.id, state]));
const phasesOf = (...states: PhaseState[]) => new Map(states.map((state) => [state.id, state]));

/** A transition of task-1a (no predecessors) in its active phase, by its own agent, unless told otherwise. */
const context = (
  overrides: Partial<TransitionContext> & { from?: TaskStatus; taskId?: string },
): TransitionContext => {
  const { from = 'todo', taskId = 'task-1a', ...rest } = overrides;
  return {
    plan: PLAN,
    task: taskState(taskId, from),
    to: 'in_progress',
    actor: AGENT,
    phaseStatus: 'active',
    predecessors: new Map(),
    ...rest,
  };
};

describe('checkTransition', () => {
  describe('allowed edges', () => {
    it.each<[TaskStatus, TaskStatus]>([
      ['todo', 'in_progress'],
      ['in_progress', 'in_review'],
      ['in_progress', 'done'],
      ['in_review', 'done'],
      ['in_review', 'in_progress'],
    ])('allows %s → %s', (from, to) => {
      // Prepare
      const transition = context({ from, to });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({ outcome: 'allowed' });
    });

    it('lets a task go back from review to in progress without checking its predecessors or phase again', () => {
      // Prepare: predecessors reopened and the phase no longer active would forbid a start from todo
      const transition = context({
        taskId: 'task-1c',
        from: 'in_review',
        to: 'in_progress',
        phaseStatus: 'passed',
        predecessors: tasksOf(taskState('task-1a', 'todo'), taskState('task-1b', 'in_progress')),
      });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({ outcome: 'allowed' });
    });
  });

  describe('forbidden edges', () => {
    it.each<[TaskStatus, TaskStatus, string]>([
      ['todo', 'done', 'task task-1a cannot go from todo to done (from todo it can go to in_progress)'],
      [
        'todo',
        'in_review',
        'task task-1a cannot go from todo to in_review (from todo it can go to in_progress)',
      ],
      [
        'in_progress',
        'todo',
        'task task-1a cannot go from in_progress to todo (from in_progress it can go to in_review or done)',
      ],
      [
        'in_review',
        'todo',
        'task task-1a cannot go from in_review to todo (from in_review it can go to done or in_progress)',
      ],
    ])('forbids %s → %s and says where the task can go instead', (from, to, reason) => {
      // Prepare
      const transition = context({ from, to });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({ outcome: 'forbidden', reason });
    });

    it('applies the same edges to an admin when the task is not done', () => {
      // Prepare
      const transition = context({ from: 'todo', to: 'done', actor: ADMIN });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'task task-1a cannot go from todo to done (from todo it can go to in_progress)',
      });
    });
  });

  describe('no-op', () => {
    it.each<TaskStatus>(['todo', 'in_progress', 'in_review', 'done'])(
      'answers unchanged when a task in %s is moved to the status it already has',
      (status) => {
        // Prepare: even with a pending phase and an unfinished predecessor, a retry changes nothing
        const transition = context({
          taskId: 'task-1c',
          from: status,
          to: status,
          phaseStatus: 'pending',
          predecessors: tasksOf(taskState('task-1a', 'todo'), taskState('task-1b', 'todo')),
        });

        // Act
        const check = checkTransition(transition);

        // Assess
        expect(check).toEqual({ outcome: 'unchanged' });
      },
    );
  });

  describe('done is final', () => {
    it.each<[Actor, TaskStatus]>([
      [{ kind: 'agent', id: 'alpha' }, 'in_progress'],
      [{ kind: 'agent', id: 'alpha' }, 'todo'],
      [{ kind: 'person', id: 'pm' }, 'in_review'],
      [{ kind: 'system' }, 'in_progress'],
    ])('forbids %o to reopen a done task to %s', (actor, to) => {
      // Prepare
      const transition = context({ from: 'done', to, actor });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'task task-1a is done; only an admin can reopen it',
      });
    });

    it.each<TaskStatus>(['todo', 'in_progress', 'in_review'])(
      'lets an admin reopen a done task to %s',
      (to) => {
        // Prepare: the phase has passed meanwhile; reopening does not depend on it
        const transition = context({ from: 'done', to, actor: ADMIN, phaseStatus: 'passed' });

        // Act
        const check = checkTransition(transition);

        // Assess
        expect(check).toEqual({ outcome: 'allowed' });
      },
    );
  });

  describe('starting a task', () => {
    it('allows the start when every explicit predecessor is done and the phase is active', () => {
      // Prepare
      const transition = context({
        taskId: 'task-1c',
        predecessors: tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'done')),
      });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({ outcome: 'allowed' });
    });

    it('lists only the predecessors that are not done, with their statuses', () => {
      // Prepare
      const transition = context({
        taskId: 'task-1c',
        predecessors: tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'in_review')),
      });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'task task-1c waits for task-1b (in_review) to be done',
      });
    });

    it('lists every predecessor that is not done', () => {
      // Prepare
      const transition = context({
        taskId: 'task-1c',
        predecessors: tasksOf(taskState('task-1a', 'in_progress'), taskState('task-1b', 'todo')),
      });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'task task-1c waits for task-1a (in_progress), task-1b (todo) to be done',
      });
    });

    it('still waits for a predecessor that has no state yet', () => {
      // Prepare: task-1b was never moved, so the store has no state for it
      const transition = context({ taskId: 'task-1c', predecessors: tasksOf(taskState('task-1a', 'done')) });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check.outcome).toBe('forbidden');
      expect(check.outcome === 'forbidden' && check.reason).toMatch(/^task task-1c waits for task-1b \(/);
    });

    it('reports a predecessor that has no state yet as todo, as the rest of Convoy does', () => {
      // Prepare
      const transition = context({ taskId: 'task-1c', predecessors: tasksOf(taskState('task-1a', 'done')) });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'task task-1c waits for task-1b (todo) to be done',
      });
    });

    it('reports unfinished predecessors before an inactive phase', () => {
      // Prepare
      const transition = context({
        taskId: 'task-1c',
        phaseStatus: 'pending',
        predecessors: tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'in_progress')),
      });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'task task-1c waits for task-1b (in_progress) to be done',
      });
    });

    it('names the pending phase and the phase it waits for', () => {
      // Prepare
      const transition = context({ taskId: 'task-2a', phaseStatus: 'pending' });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'phase phase-2 of task task-2a is pending, not active (it waits for phase-1)',
      });
    });

    it('names every phase a pending phase depends on', () => {
      // Prepare
      const transition = context({ taskId: 'task-3a', phaseStatus: 'pending' });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'phase phase-3 of task task-3a is pending, not active (it waits for phase-1, phase-2)',
      });
    });

    it('forbids the start when the phase has no state yet', () => {
      // Prepare
      const transition = context({ phaseStatus: undefined });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'phase phase-1 of task task-1a is unknown, not active',
      });
    });

    it('forbids the start of a todo task whose phase has already passed, even for an admin', () => {
      // Prepare: e.g. a task added to a passed phase by a new plan, or a done task an admin reopened to todo
      const transition = context({ phaseStatus: 'passed', actor: ADMIN });

      // Act
      const check = checkTransition(transition);

      // Assess
      expect(check).toEqual({
        outcome: 'forbidden',
        reason: 'phase phase-1 of task task-1a is passed, not active',
      });
    });
  });
});

describe('progressPhases', () => {
  it('activates the first phase, which has no dependencies, and leaves the others pending', () => {
    // Prepare: a freshly applied plan has no phase states
    const phases = phasesOf();

    // Act
    const changed = progressPhases(PLAN, phases, tasksOf(), AT);

    // Assess
    expect(changed).toEqual([{ id: 'phase-1', status: 'active', updatedAt: AT, version: 1 }]);
  });

  it('activates every phase without dependencies', () => {
    // Prepare
    const plan = validPlan(`${MINIMAL_PLAN}  - id: side
    tasks:
      - id: task-side
        agent: beta
        estimate: 1d
`);

    // Act
    const changed = progressPhases(plan, phasesOf(), tasksOf(), AT);

    // Assess
    expect(changed.map(({ id, status }) => [id, status])).toEqual([
      ['phase-1', 'active'],
      ['side', 'active'],
    ]);
  });

  it('passes a phase without gate when all its tasks are done and activates its dependents in the same call', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);
    const phases = phasesOf(phaseState('phase-1', 'active', 1));
    const tasks = tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'done'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([
      { id: 'phase-1', status: 'passed', updatedAt: AT, version: 2 },
      { id: 'phase-2', status: 'active', updatedAt: AT, version: 1 },
    ]);
  });

  it('does not pass a phase while one of its tasks is not done', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);
    const phases = phasesOf(phaseState('phase-1', 'active'));
    const tasks = tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'in_review'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([]);
  });

  it('does not pass a phase while one of its tasks has no state (todo)', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);
    const phases = phasesOf(phaseState('phase-1', 'active'));
    const tasks = tasksOf(taskState('task-1a', 'done'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([]);
  });

  it('cascades through a phase without tasks, whatever the order of the phases in the plan', () => {
    // Prepare: phase-3 is listed first; phase-2 has no tasks
    const plan = validPlan(
      replace(
        'phases:\n',
        `phases:
  - id: phase-3
    dependsOn: [phase-2]
    tasks:
      - id: task-3a
        agent: beta
        estimate: 1d
`,
        replace(
          `  - id: phase-2
    dependsOn: [phase-1]
    tasks:
      - id: task-2a
        agent: alpha
        estimate: 1d
`,
          `  - id: phase-2
    dependsOn: [phase-1]
`,
        ),
      ),
    );
    const phases = phasesOf(phaseState('phase-1', 'active', 3));
    const tasks = tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'done'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(plan.phases.map((phase) => phase.id)).toEqual(['phase-3', 'phase-1', 'phase-2']);
    expect(changed).toEqual(
      expect.arrayContaining([
        { id: 'phase-1', status: 'passed', updatedAt: AT, version: 4 },
        { id: 'phase-2', status: 'passed', updatedAt: AT, version: 1 },
        { id: 'phase-3', status: 'active', updatedAt: AT, version: 1 },
      ]),
    );
    expect(changed).toHaveLength(3);
  });

  it('never passes a phase that has a gate, even when all its tasks are done', () => {
    // Prepare
    const plan = validPlan(`${replace('  - id: phase-1\n', '  - id: phase-1\n    gate: g1\n')}gates:
  - id: g1
    criteria: [{ go: "tps >= 2_000_000" }]
`);
    const phases = phasesOf(phaseState('phase-1', 'active'));
    const tasks = tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'done'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess: phase-1 stays active and phase-2 pending
    expect(changed).toEqual([]);
  });

  it('still activates a phase that has a gate', () => {
    // Prepare
    const plan = validPlan(`${replace('  - id: phase-1\n', '  - id: phase-1\n    gate: g1\n')}gates:
  - id: g1
    criteria: [{ go: "tps >= 2_000_000" }]
`);
    const tasks = tasksOf(taskState('task-1a', 'done'), taskState('task-1b', 'done'));

    // Act
    const changed = progressPhases(plan, phasesOf(), tasks, AT);

    // Assess
    expect(changed).toEqual([{ id: 'phase-1', status: 'active', updatedAt: AT, version: 1 }]);
  });

  it('keeps a phase pending until every phase it depends on has passed', () => {
    // Prepare: phase-3 depends on phase-1 (passed) and phase-2 (active)
    const phases = phasesOf(phaseState('phase-1', 'passed', 2), phaseState('phase-2', 'active', 1));
    const tasks = tasksOf(
      taskState('task-1a', 'done'),
      taskState('task-1b', 'done'),
      taskState('task-1c', 'done'),
      taskState('task-2a', 'in_progress'),
    );

    // Act
    const changed = progressPhases(PLAN, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([]);
  });

  it('returns nothing when the state is already settled', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);
    const phases = phasesOf(phaseState('phase-1', 'passed', 2), phaseState('phase-2', 'active', 1));
    const tasks = tasksOf(
      taskState('task-1a', 'done'),
      taskState('task-1b', 'done'),
      taskState('task-2a', 'todo'),
    );

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([]);
  });

  it('increments the version of each changed phase from its previous state', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);
    const phases = phasesOf(phaseState('phase-1', 'passed', 7), phaseState('phase-2', 'active', 41));
    const tasks = tasksOf(taskState('task-2a', 'done'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([{ id: 'phase-2', status: 'passed', updatedAt: AT, version: 42 }]);
  });

  it('leaves a passed phase passed when one of its tasks is no longer done', () => {
    // Prepare: an admin reopened task-1a after phase-1 passed
    const plan = validPlan(MINIMAL_PLAN);
    const phases = phasesOf(phaseState('phase-1', 'passed', 2), phaseState('phase-2', 'active', 1));
    const tasks = tasksOf(taskState('task-1a', 'todo'), taskState('task-1b', 'done'));

    // Act
    const changed = progressPhases(plan, phases, tasks, AT);

    // Assess
    expect(changed).toEqual([]);
  });
});
