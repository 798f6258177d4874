import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analysePlan,
  type Plan,
  WorkingCalendar,
  workingMinutes,
} from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';

describe('analysePlan', () => {
  it('computes times, slack, the critical path, waves and dates of a small plan by hand', () => {
    // Prepare: task-2a waits for all of phase-1 (task-1a 1d, task-1b 2d); 2026-01-05 is a Monday.
    const plan = validPlan(MINIMAL_PLAN);

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(analysis).toMatchObject({
      project: 'demo',
      durationDays: 3,
      start: '2026-01-05',
      finish: '2026-01-07',
      criticalPath: ['task-1b', 'task-2a'],
      waves: [['task-1a', 'task-1b'], ['task-2a']],
      maxParallel: 2,
      warnings: [],
    });
    expect(analysis.tasks['task-1a']).toEqual({
      phase: 'phase-1',
      agent: 'alpha',
      start: '2026-01-05',
      finish: '2026-01-05',
      earliestStart: 0,
      earliestFinish: 1,
      latestStart: 1,
      latestFinish: 2,
      slackDays: 1,
      wave: 0,
    });
    expect(analysis.tasks['task-2a']).toMatchObject({
      start: '2026-01-07',
      finish: '2026-01-07',
      earliestStart: 2,
      slackDays: 0,
    });
    expect(analysis.phases['phase-2']).toEqual({
      start: '2026-01-07',
      finish: '2026-01-07',
      earliestStart: 2,
      earliestFinish: 3,
    });
  });

  it('skips weekends and holidays when mapping working days to dates', () => {
    // Prepare: 2026-01-01 (Thu) is a holiday, so work starts Fri 01-02; 2026-01-19 is a holiday too.
    const text = MINIMAL_PLAN.replace(
      '  start: 2026-01-05',
      '  start: 2026-01-01\n  holidays: [2026-01-01, 2026-01-19]',
    ).replace('        estimate: 2d', '        estimate: 2w');

    // Act
    const analysis = analysePlan(validPlan(text));

    // Assess: 10 working days from Fri 01-02 end on Thu 01-15 (1 day, then a full week, then 4); the next is Fri 01-16.
    expect(analysis.start).toBe('2026-01-02');
    expect(analysis.tasks['task-1b']).toMatchObject({ start: '2026-01-02', finish: '2026-01-15' });
    expect(analysis.tasks['task-2a']).toMatchObject({ start: '2026-01-16', finish: '2026-01-16' });
  });

  it('keeps fractional estimates within the working day they fall in', () => {
    // Prepare: two 4h tasks in a row fill one working day; a third starts the next day.
    const text = `${MINIMAL_PLAN.replace('        estimate: 1d\n      - id: task-1b', '        estimate: 4h\n      - id: task-1b').replace('        estimate: 2d', '        estimate: 0.5d\n        dependsOn: [task-1a]')}`;

    // Act
    const analysis = analysePlan(validPlan(text));

    // Assess
    expect(analysis.tasks['task-1b']).toMatchObject({
      earliestStart: 0.5,
      earliestFinish: 1,
      start: '2026-01-05',
      finish: '2026-01-05',
    });
    expect(analysis.tasks['task-2a']).toMatchObject({ earliestStart: 1, start: '2026-01-06' });
    expect(analysis.durationDays).toBe(2);
    expect(analysis.criticalPath).toEqual(['task-1a', 'task-1b', 'task-2a']);
  });

  it('warns about one agent with overlapping tasks, naming both', () => {
    // Prepare: task-1b moves to alpha, who already runs task-1a at the same time.
    const text = MINIMAL_PLAN.replace('        agent: beta', '        agent: alpha');

    // Act
    const { warnings } = analysePlan(validPlan(text));

    // Assess
    expect(warnings).toEqual(['agent alpha has overlapping tasks task-1a and task-1b']);
  });

  it('reports each overlapping task of an agent once, with the earlier task that finishes last', () => {
    // Prepare: alpha runs 2,000 tasks at once; task-0 (2d) finishes last, the others take 1d.
    const tasks = Array.from(
      { length: 2_000 },
      (_, i) => `      - { id: task-${i}, agent: alpha, estimate: ${i === 0 ? '2d' : '1d'}, touches: [db] }`,
    ).join('\n');
    const text = `${MINIMAL_PLAN.slice(0, MINIMAL_PLAN.indexOf('phases:'))}phases:
  - id: all
    tasks:
${tasks}
resources:
  - { id: db, owner: alpha }
`;

    // Act
    const { warnings } = analysePlan(validPlan(text));

    // Assess: one warning per later task; one agent, so the shared resource raises none.
    expect(warnings).toHaveLength(1_999);
    expect(warnings[0]).toBe('agent alpha has overlapping tasks task-0 and task-1');
    expect(warnings[1_998]).toBe('agent alpha has overlapping tasks task-0 and task-1999');
  });

  it('warns when two agents touch a shared resource at overlapping times, naming its owner', () => {
    // Prepare
    const text = `${MINIMAL_PLAN.replace('        estimate: 1d\n      - id: task-1b', '        estimate: 1d\n        touches: [db-schema]\n      - id: task-1b').replace('        estimate: 2d', '        estimate: 2d\n        touches: [db-schema]')}resources:\n  - { id: db-schema, owner: beta }\n`;

    // Act
    const { warnings } = analysePlan(validPlan(text));

    // Assess
    expect(warnings).toEqual([
      'tasks task-1a (alpha) and task-1b (beta) both touch resource db-schema at overlapping times; its owner beta takes precedence',
    ]);
  });

  it('does not warn about a shared resource used one after the other', () => {
    // Prepare: task-2a touches the resource only after phase-1 is done.
    const text = `${MINIMAL_PLAN.replace('        estimate: 2d', '        estimate: 2d\n        touches: [db-schema]')}        touches: [db-schema]\nresources:\n  - { id: db-schema, owner: beta }\n`;

    // Act
    const { warnings } = analysePlan(validPlan(text));

    // Assess
    expect(warnings).toEqual([]);
  });

  it('counts unassigned tasks against no agent: three open tasks at once raise no overlap warning', () => {
    // Prepare: alpha has one task; three tasks any agent or a pool may claim run beside it.
    const text = `${MINIMAL_PLAN.slice(0, MINIMAL_PLAN.indexOf('phases:'))}phases:
  - id: all
    tasks:
      - { id: mine, agent: alpha, estimate: 2d }
      - { id: open-1, estimate: 2d }
      - { id: open-2, estimate: 1d }
      - { id: pooled, pool: [alpha, beta], estimate: 1d }
`;

    // Act
    const analysis = analysePlan(validPlan(text));

    // Assess: the schedule still runs them in parallel, and says who has each.
    expect(analysis.warnings).toEqual([]);
    expect(analysis.maxParallel).toBe(4);
    expect(analysis.tasks.mine?.agent).toBe('alpha');
    expect(analysis.tasks['open-1']).not.toHaveProperty('agent');
    expect(analysis.tasks.pooled).toMatchObject({ earliestStart: 0, earliestFinish: 1 });
    expect(analysis.tasks.pooled).not.toHaveProperty('agent');
  });

  it('still warns when an unassigned task touches a resource at the same time as another task', () => {
    // Prepare: whoever claims the open task would change db while alpha does.
    const text = `${MINIMAL_PLAN.slice(0, MINIMAL_PLAN.indexOf('phases:'))}phases:
  - id: all
    tasks:
      - { id: mine, agent: alpha, estimate: 2d, touches: [db] }
      - { id: open-1, estimate: 1d, touches: [db] }
resources:
  - { id: db, owner: alpha, paths: ["db/**"] }
`;

    // Act
    const { warnings } = analysePlan(validPlan(text));

    // Assess
    expect(warnings).toEqual([
      'tasks mine (alpha) and open-1 (unassigned) both touch resource db at overlapping times; its owner alpha takes precedence',
    ]);
  });

  it('warns about a phase finishing after its due date, naming both dates', () => {
    // Prepare: phase-1 takes until Tue 2026-01-06 but is due Mon 2026-01-05.
    const text = MINIMAL_PLAN.replace('  - id: phase-1\n', '  - id: phase-1\n    due: 2026-01-05\n');

    // Act
    const { warnings } = analysePlan(validPlan(text));

    // Assess
    expect(warnings).toEqual(['phase phase-1 finishes on 2026-01-06, after its due date 2026-01-05']);
  });

  it('carries a phase dependency through a phase with no tasks', () => {
    // Prepare: phase-3 waits for the empty phase-2b, which waits for phase-1.
    const text = MINIMAL_PLAN.replace(
      '  - id: phase-2\n    dependsOn: [phase-1]',
      '  - id: phase-2b\n    dependsOn: [phase-1]\n  - id: phase-2\n    dependsOn: [phase-2b]',
    );

    // Act
    const analysis = analysePlan(validPlan(text));

    // Assess
    expect(analysis.tasks['task-2a']).toMatchObject({ earliestStart: 2, wave: 1 });
    expect(analysis.criticalPath).toEqual(['task-1b', 'task-2a']);
  });
});

describe('WorkingCalendar', () => {
  it('counts working days from the first working day on or after the start', () => {
    // Prepare: Sat 2026-01-03 start, Mon-Wed workdays, Tue 01-06 a holiday.
    const calendar = new WorkingCalendar({
      start: '2026-01-03',
      workdays: ['mon', 'tue', 'wed'],
      holidays: ['2026-01-06'],
    });

    // Act
    const days = [0, 1, 2, 3, 4].map((offset) => calendar.dateAt(offset));

    // Assess
    expect(days).toEqual(['2026-01-05', '2026-01-07', '2026-01-12', '2026-01-13', '2026-01-14']);
    expect(calendar.offsetOf('2026-01-12')).toBe(2);
    expect(calendar.isWorkingDay('2026-01-06')).toBe(false);
  });
});

interface RandomPlan {
  plan: Plan;
  /** Every task's predecessors, explicit and through its phase's dependencies. */
  predecessors: Map<string, string[]>;
}

/** Random valid plans: phases in a chain or side by side, tasks depending on earlier tasks. */
const randomPlans = fc
  .record({
    phaseCount: fc.integer({ min: 1, max: 5 }),
    tasks: fc.array(
      fc.record({
        phase: fc.nat(),
        estimate: fc.constantFrom('30m', '2h', '4h', '1d', '1.5d', '2d', '3d', '1w'),
        agent: fc.integer({ min: 0, max: 3 }),
        deps: fc.array(fc.nat(), { maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 40 },
    ),
    phaseDeps: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  })
  .map(({ phaseCount, tasks, phaseDeps }): RandomPlan => {
    // Phase p may depend on phase p-1 (when its flag is set); tasks are sorted by phase so deps point backwards.
    const placed = tasks
      .map((task, i) => ({ ...task, id: `t-${i}`, phase: task.phase % phaseCount }))
      .sort((a, b) => a.phase - b.phase);
    const dependsOnPrevious = (p: number) => p > 0 && (phaseDeps[p] as boolean);
    const reaches = (from: number, to: number): boolean =>
      from === to || (dependsOnPrevious(from) && reaches(from - 1, to));
    const phases = Array.from({ length: phaseCount }, (_, p) => ({
      id: `phase-${p}`,
      ...(dependsOnPrevious(p) ? { dependsOn: [`phase-${p - 1}`] } : {}),
      tasks: [] as object[],
    }));
    const predecessors = new Map<string, string[]>();
    placed.forEach((task, i) => {
      const deps = [...new Set(task.deps.map((d) => d % Math.max(1, i)))]
        .filter((d) => d < i)
        .map((d) => placed[d] as (typeof placed)[number]);
      // A task may depend on its own phase or a phase it does not come before; never on a later one.
      const explicit = deps
        .filter((dep) => dep.phase === task.phase || !reaches(dep.phase, task.phase))
        .map((dep) => dep.id);
      const implicit = placed
        .filter((other) => other.phase !== task.phase && reaches(task.phase, other.phase))
        .map((other) => other.id);
      predecessors.set(task.id, [...new Set([...explicit, ...implicit])]);
      (phases[task.phase] as (typeof phases)[number]).tasks.push({
        id: task.id,
        agent: `agent-${task.agent}`,
        estimate: task.estimate,
        dependsOn: explicit,
      });
    });
    const plan = validPlan(
      JSON.stringify({
        version: 1,
        project: { id: 'random', timezone: 'UTC', start: '2026-03-02', holidays: ['2026-03-04'] },
        people: [{ id: 'pm' }],
        agents: [0, 1, 2, 3].map((a) => ({ id: `agent-${a}`, owner: 'pm' })),
        phases,
      }),
      'random.json',
    );
    return { plan, predecessors };
  });

describe('analysePlan on random DAGs', () => {
  const estimate = (plan: Plan, id: string) =>
    workingMinutes(
      plan.phases.flatMap((phase) => phase.tasks).find((task) => task.id === id)?.estimate ?? '0m',
    ) / 480;

  it('gives a critical path whose length equals the duration and that forms a dependency chain', () => {
    fc.assert(
      fc.property(randomPlans, ({ plan, predecessors }) => {
        const analysis = analysePlan(plan);
        const path = analysis.criticalPath;
        const length = path.reduce((sum, id) => sum + estimate(plan, id), 0);
        expect(length).toBeCloseTo(analysis.durationDays, 9);
        expect(analysis.tasks[path[0] as string]?.earliestStart).toBe(0);
        expect(analysis.tasks[path.at(-1) as string]?.earliestFinish).toBeCloseTo(analysis.durationDays, 9);
        path.slice(1).forEach((id, i) => {
          expect(predecessors.get(id)).toContain(path[i]);
        });
        for (const id of path) expect(analysis.tasks[id]?.slackDays).toBeCloseTo(0, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('never starts a task before any of its predecessors finishes, and never gives negative slack', () => {
    fc.assert(
      fc.property(randomPlans, ({ plan, predecessors }) => {
        const { tasks } = analysePlan(plan);
        for (const [id, preds] of predecessors) {
          const task = tasks[id];
          expect(task?.slackDays).toBeGreaterThanOrEqual(-1e-9);
          expect((task?.start as string) <= (task?.finish as string)).toBe(true);
          for (const pred of preds) {
            expect(task?.earliestStart).toBeGreaterThanOrEqual(
              (tasks[pred]?.earliestFinish as number) - 1e-9,
            );
            expect((task?.start as string) >= (tasks[pred]?.finish as string)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('builds waves that respect dependencies: wave 0 has no predecessors, wave k+1 has one in wave k', () => {
    fc.assert(
      fc.property(randomPlans, ({ plan, predecessors }) => {
        const analysis = analysePlan(plan);
        const flat = analysis.waves.flat();
        expect(flat.sort()).toEqual([...predecessors.keys()].sort());
        analysis.waves.forEach((wave, k) => {
          for (const id of wave) {
            const waves = (predecessors.get(id) ?? []).map((pred) => analysis.tasks[pred]?.wave as number);
            if (k === 0) expect(waves).toEqual([]);
            else expect(Math.max(...waves)).toBe(k - 1);
          }
        });
        expect(analysis.maxParallel).toBe(Math.max(...analysis.waves.map((wave) => wave.length)));
      }),
      { numRuns: 300 },
    );
  });
});
