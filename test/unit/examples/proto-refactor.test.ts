import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analysePlan, formatPlanError, parsePlan } from '../../../functions/core/plan/index.js';

const file = 'examples/proto-refactor.yaml';

function loadPlan() {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

function loadAnalysis() {
  const analysis = analysePlan(loadPlan());
  const task = (id: string) => {
    const found = analysis.tasks[id];
    if (!found) throw new Error(`no analysis for task ${id}`);
    return found;
  };
  const phase = (id: string) => {
    const found = analysis.phases[id];
    if (!found) throw new Error(`no analysis for phase ${id}`);
    return found;
  };
  return { analysis, task, phase };
}

function allTasks(plan: ReturnType<typeof loadPlan>) {
  return plan.phases.flatMap((phase) => phase.tasks.map((task) => ({ ...task, phase: phase.id })));
}

function findTask(plan: ReturnType<typeof loadPlan>, id: string) {
  const found = allTasks(plan).find((task) => task.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
}

function findRule(plan: ReturnType<typeof loadPlan>, id: string) {
  const found = plan.escalations.find((rule) => rule.id === id);
  if (!found) throw new Error(`no escalation ${id}`);
  return found;
}

const phaseIds = ['phase-1', 'phase-2', 'phase-3', 'phase-4', 'phase-5', 'phase-6'];

describe('proto-refactor example plan', () => {
  it('is a valid plan whose analysis has no warnings, since each sub-agent has one task per phase', () => {
    // Prepare
    const source = readFileSync(file, 'utf8');

    // Act
    const result = parsePlan(source, { file });
    if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
    const analysis = analysePlan(result.plan);

    // Assess
    expect(analysis.project).toBe('proto-refactor');
    expect(analysis.warnings).toEqual([]);
  });

  it('gives each of the four AI sub-agents Alpha, Beta, Gamma and Delta one task in each of the six phases', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const agentsPerPhase = plan.phases.map((phase) => phase.tasks.map((task) => task.agent).sort());

    // Assess
    expect(plan.agents.map((agent) => [agent.id, agent.kind])).toEqual([
      ['alpha', 'ai'],
      ['beta', 'ai'],
      ['gamma', 'ai'],
      ['delta', 'ai'],
    ]);
    expect(plan.phases.map((phase) => phase.id)).toEqual(phaseIds);
    for (const agents of agentsPerPhase) expect(agents).toEqual(['alpha', 'beta', 'delta', 'gamma']);
  });

  it('runs the phases strictly in order, each starting only when the previous one has finished', () => {
    // Prepare
    const plan = loadPlan();
    const { phase } = loadAnalysis();

    // Act
    const dependsOn = plan.phases.map((p) => p.dependsOn);

    // Assess
    expect(dependsOn).toEqual([[], ['phase-1'], ['phase-2'], ['phase-3'], ['phase-4'], ['phase-5']]);
    for (let i = 1; i < phaseIds.length; i++) {
      const previous = phase(phaseIds[i - 1] as string);
      const current = phase(phaseIds[i] as string);
      expect(current.earliestStart).toBeGreaterThanOrEqual(previous.earliestFinish);
    }
  });

  it('starts task 2D only after 2C, and 2B and 2C only after 2A, as the Phase 2 dependencies state', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const { task } = loadAnalysis();

    // Assess
    expect(findTask(plan, 'task-2a').dependsOn).toEqual([]);
    expect(findTask(plan, 'task-2b').dependsOn).toEqual(['task-2a']);
    expect(findTask(plan, 'task-2c').dependsOn).toEqual(['task-2a']);
    expect(findTask(plan, 'task-2d').dependsOn).toEqual(['task-2c']);
    expect(task('task-2b').earliestStart).toBeGreaterThanOrEqual(task('task-2a').earliestFinish);
    expect(task('task-2c').earliestStart).toBeGreaterThanOrEqual(task('task-2a').earliestFinish);
    expect(task('task-2d').earliestStart).toBeGreaterThanOrEqual(task('task-2c').earliestFinish);
  });

  it('starts 4D only after 4A, 4B and 4C and 6D only after 6A, 6B and 6C, which run in parallel', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const { task } = loadAnalysis();

    // Assess
    for (const [last, parallel] of [
      ['task-4d', ['task-4a', 'task-4b', 'task-4c']],
      ['task-6d', ['task-6a', 'task-6b', 'task-6c']],
    ] as const) {
      expect([...findTask(plan, last).dependsOn].sort()).toEqual(parallel);
      const starts = parallel.map((id) => task(id).earliestStart);
      expect(new Set(starts).size).toBe(1);
      for (const id of parallel) {
        expect(findTask(plan, id).dependsOn).toEqual([]);
        expect(task(last).earliestStart).toBeGreaterThanOrEqual(task(id).earliestFinish);
      }
    }
  });

  it('runs all Phase 3 and Phase 5 tasks in parallel, as they have no intra-phase dependencies', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const { task } = loadAnalysis();

    // Assess
    for (const phaseId of ['phase-3', 'phase-5']) {
      const tasks = allTasks(plan).filter((t) => t.phase === phaseId);
      expect(tasks).toHaveLength(4);
      for (const t of tasks) expect(t.dependsOn).toEqual([]);
      expect(new Set(tasks.map((t) => task(t.id).earliestStart)).size).toBe(1);
      expect(new Set(tasks.map((t) => task(t.id).wave)).size).toBe(1);
    }
  });

  it('fits each phase into the length the execution diagram gives (1, 1-2, 2-3, 2-3, 2-3 and 1-2 days)', () => {
    // Prepare
    const ranges: Record<string, [number, number]> = {
      'phase-1': [1, 1],
      'phase-2': [1, 2],
      'phase-3': [2, 3],
      'phase-4': [2, 3],
      'phase-5': [2, 3],
      'phase-6': [1, 2],
    };

    // Act
    const { analysis, phase } = loadAnalysis();

    // Assess
    for (const [id, [min, max]] of Object.entries(ranges)) {
      const length = phase(id).earliestFinish - phase(id).earliestStart;
      expect(length, id).toBeGreaterThanOrEqual(min);
      expect(length, id).toBeLessThanOrEqual(max);
    }
    expect(analysis.durationDays).toBeGreaterThanOrEqual(9);
    expect(analysis.durationDays).toBeLessThanOrEqual(14);
  });

  it('runs the critical path through every phase in order and ends with the documentation task 6D', () => {
    // Prepare
    const plan = loadPlan();
    const phaseOf = new Map(allTasks(plan).map((t) => [t.id, t.phase]));

    // Act
    const { analysis } = loadAnalysis();
    const phasesOnPath = [...new Set(analysis.criticalPath.map((id) => phaseOf.get(id)))];

    // Assess
    expect(phasesOnPath).toEqual(phaseIds);
    expect(analysis.criticalPath.at(-1)).toBe('task-6d');
    expect(analysis.criticalPath.join(' ')).toContain('task-2a task-2c task-2d');
  });

  it('gates phases 3-6 on 95% new-code coverage, passing tests and under 5% performance regression (caution up to 10%)', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const gates = ['phase-3', 'phase-4', 'phase-5', 'phase-6'].map((id) =>
      plan.gates.find((gate) => gate.id === id),
    );

    // Assess
    expect(plan.phases.map((phase) => phase.gate)).toEqual(phaseIds);
    for (const gate of gates) {
      expect(gate?.approvers).toEqual(['coordination-lead']);
      expect(gate?.criteria).toContainEqual(expect.objectContaining({ go: 'coverage.new_code >= 95' }));
      expect(gate?.criteria).toContainEqual(expect.objectContaining({ go: 'tests.pass_rate == 100' }));
      expect(gate?.criteria).toContainEqual(
        expect.objectContaining({
          go: 'performance.regression_pct < 5',
          caution: 'performance.regression_pct <= 10',
        }),
      );
    }
  });

  it('demands 100% API documentation and under 1% critical bugs at the final gate only', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const goals = (id: string) => plan.gates.find((gate) => gate.id === id)?.criteria.map((c) => c.go) ?? [];

    // Assess
    expect(goals('phase-6')).toEqual(
      expect.arrayContaining(['docs.api_coverage == 100', 'bugs.critical_pct < 1']),
    );
    expect(goals('phase-5')).not.toContain('docs.api_coverage == 100');
    expect(goals('phase-1')).toContain('proto.syntax_errors == 0');
  });

  it('escalates each issue type to the lead and within the response time that the escalation matrix gives', () => {
    // Prepare
    const plan = loadPlan();
    const matrix = [
      ['build-failures', ['tech-lead'], '2h'],
      ['performance-issues', ['tech-lead'], '4h'],
      ['connector-failures', ['product-lead'], '1h'],
      ['cross-agent-blocking', ['coordination-lead'], '1h'],
      ['timeline-delays', ['project-manager'], '24h'],
    ] as const;

    // Act
    const rows = matrix.map(([id]) => findRule(plan, id));

    // Assess
    rows.forEach((rule, i) => {
      const [, notify, sla] = matrix[i] as (typeof matrix)[number];
      expect([rule.notify, rule.sla], rule.id).toEqual([notify, sla]);
      expect(rule.levels, rule.id).toEqual([]);
    });
    expect(findRule(plan, 'cross-agent-blocking').on).toBe('task.blocked');
    expect(findRule(plan, 'timeline-delays').when).toBe('schedule.slip_days > 0');
  });

  it('escalates compilation issues lasting over 4h, performance regressions over 20% and connector failures over 50% as the risks state', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const compilation = findRule(plan, 'proto-compilation');
    const regression = findRule(plan, 'performance-regression');
    const outage = findRule(plan, 'connector-outage');

    // Assess
    expect([compilation.notify, compilation.sla]).toEqual([['tech-lead'], '4h']);
    expect(compilation.levels.map((level) => level.notify)).toEqual([['coordination-lead']]);
    expect(regression.when).toBe('performance.regression_pct > 20');
    expect(regression.notify).toEqual(['tech-lead', 'coordination-lead']);
    expect(outage.when).toBe('connectors.failed_pct > 50');
    expect(outage.notify).toEqual(['product-lead', 'coordination-lead']);
  });

  it('hands an immediate issue with no response after 30 minutes to the coordination lead', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const rule = findRule(plan, 'immediate-issue');

    // Assess
    expect(rule.notify).toEqual(['owner']);
    expect(rule.sla).toBe('30m');
    expect(rule.levels.map((level) => level.notify)).toEqual([['coordination-lead']]);
  });

  it('checks in every four hours, with the daily update at end of day and the weekly summary on Friday', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const schedules = plan.schedules.map((s) => [s.job, s.at, s.days]);

    // Assess
    const workdays = ['mon', 'tue', 'wed', 'thu', 'fri'];
    expect(schedules).toEqual([
      ['standup', '09:00', workdays],
      ['sync', '13:00', workdays],
      ['report', '17:00', workdays],
      ['weekly-summary', '17:00', ['fri']],
    ]);
  });

  it('requires the code, documentation and test-result handoff checklists', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const count = (prefix: string) => plan.handoff.filter((item) => item.startsWith(prefix)).length;

    // Assess
    expect([count('Code: '), count('Docs: '), count('Tests: ')]).toEqual([6, 5, 5]);
    expect(plan.handoff).toEqual(
      expect.arrayContaining([
        'Code: Code compiles without errors',
        'Code: Code review completed',
        'Docs: All examples tested',
        'Tests: Coverage requirements met',
        'Tests: Performance benchmarks recorded',
      ]),
    );
  });
});
