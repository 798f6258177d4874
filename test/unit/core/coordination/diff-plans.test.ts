import { describe, expect, it } from 'vitest';
import { diffPlans, type PlanChanges } from '../../../../functions/core/coordination/commands.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';

/** The minimal plan with one exact piece of text replaced. */
const replace = (from: string, to: string, text = MINIMAL_PLAN) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
};

const NO_CHANGES: PlanChanges = {
  tasksAdded: [],
  tasksRemoved: [],
  tasksChanged: [],
  phasesAdded: [],
  phasesRemoved: [],
  agentsAdded: [],
  agentsRemoved: [],
};

const TASK_1A = `      - id: task-1a
        agent: alpha
        estimate: 1d
`;

const PHASE_2 = `  - id: phase-2
    dependsOn: [phase-1]
    tasks:
      - id: task-2a
        agent: alpha
        estimate: 1d
`;

describe('diffPlans', () => {
  it('reports every task, phase and agent as added for the first plan', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);

    // Act
    const changes = diffPlans(undefined, plan);

    // Assess
    expect(changes).toEqual({
      ...NO_CHANGES,
      tasksAdded: ['task-1a', 'task-1b', 'task-2a'],
      phasesAdded: ['phase-1', 'phase-2'],
      agentsAdded: ['alpha', 'beta'],
    });
  });

  it('reports nothing for an identical plan', () => {
    // Prepare
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(MINIMAL_PLAN);

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual(NO_CHANGES);
  });

  it('reports nothing when only the YAML layout, key order and task order differ', () => {
    // Prepare
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(
      replace(
        `${TASK_1A}      - id: task-1b
        agent: beta
        estimate: 2d
`,
        `      - { estimate: 2d, agent: beta, id: task-1b }
      - estimate: 1d
        id: task-1a
        agent: alpha
`,
      ),
    );

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual(NO_CHANGES);
  });

  it('reports tasks added and removed', () => {
    // Prepare
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(
      replace(
        TASK_1A,
        `      - id: task-1z
        agent: alpha
        estimate: 1d
`,
      ),
    );

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual({ ...NO_CHANGES, tasksAdded: ['task-1z'], tasksRemoved: ['task-1a'] });
  });

  it.each([
    ['its estimate', '        estimate: 1d\n', '        estimate: 3d\n'],
    ['its dependencies', '        estimate: 1d\n', '        estimate: 1d\n        dependsOn: [task-1b]\n'],
    ['its agent', '        agent: alpha\n', '        agent: beta\n'],
    ['its JIRA issue', '        estimate: 1d\n', '        estimate: 1d\n        jira: PAY-101\n'],
    ['its title', '        estimate: 1d\n', '        estimate: 1d\n        title: Schema\n'],
  ])('reports only the task whose definition changed: %s', (_what, from, to) => {
    // Prepare: the replacement applies to task-1a only (the first match)
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(replace(from, to));

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual({ ...NO_CHANGES, tasksChanged: ['task-1a'] });
  });

  it('reports a task moved to another phase as changed, not as removed and added', () => {
    // Prepare
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(
      replace(
        '        estimate: 1d\n',
        `        estimate: 1d
      - id: task-2a
        agent: alpha
        estimate: 1d
`,
        replace(PHASE_2, `  - id: phase-2\n    dependsOn: [phase-1]\n`),
      ),
    );

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(after.phases[0]?.tasks.map((task) => task.id)).toContain('task-2a');
    expect(changes).toEqual({ ...NO_CHANGES, tasksChanged: ['task-2a'] });
  });

  it('reports phases added and removed, with their tasks', () => {
    // Prepare
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(
      replace(
        PHASE_2,
        `  - id: phase-3
    dependsOn: [phase-1]
    tasks:
      - id: task-3a
        agent: alpha
        estimate: 1d
`,
      ),
    );

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual({
      ...NO_CHANGES,
      tasksAdded: ['task-3a'],
      tasksRemoved: ['task-2a'],
      phasesAdded: ['phase-3'],
      phasesRemoved: ['phase-2'],
    });
  });

  it('reports agents added and removed', () => {
    // Prepare: beta leaves (its task goes to alpha), gamma joins
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(
      replace(
        '        agent: beta\n',
        '        agent: alpha\n',
        replace('  - id: beta\n    owner: pm\n', '  - id: gamma\n    owner: pm\n'),
      ),
    );

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual({
      ...NO_CHANGES,
      tasksChanged: ['task-1b'],
      agentsAdded: ['gamma'],
      agentsRemoved: ['beta'],
    });
  });

  it('does not report tasks as changed when only their phase or agent settings change', () => {
    // Prepare: phase-1 gets a name and a due date, alpha a heartbeat
    const before = validPlan(MINIMAL_PLAN);
    const after = validPlan(
      replace(
        '  - id: phase-1\n',
        '  - id: phase-1\n    name: Foundations\n    due: 2026-01-09\n',
        replace('  - id: alpha\n    owner: pm\n', '  - id: alpha\n    owner: pm\n    heartbeat: 15m\n'),
      ),
    );

    // Act
    const changes = diffPlans(before, after);

    // Assess
    expect(changes).toEqual(NO_CHANGES);
  });
});
