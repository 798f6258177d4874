import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analysePlan, formatPlanError, parsePlan } from '../../../functions/core/plan/index.js';

const file = 'examples/agent-hive-sprint.yaml';

function load() {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

const HOURS_PER_UNIT: Record<string, number> = { m: 1 / 60, h: 1, d: 8, w: 40 };

function hours(estimate: string): number {
  const match = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(estimate);
  if (!match?.[1] || !match[2]) throw new Error(`not a duration: ${estimate}`);
  return Number(match[1]) * (HOURS_PER_UNIT[match[2]] ?? Number.NaN);
}

function allTasks(plan: ReturnType<typeof load>) {
  return plan.phases.flatMap((phase) => phase.tasks.map((task) => ({ ...task, phase: phase.id })));
}

function task(plan: ReturnType<typeof load>, id: string) {
  const found = allTasks(plan).find((t) => t.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
}

function gate(plan: ReturnType<typeof load>, id: string) {
  const found = plan.gates.find((g) => g.id === id);
  if (!found) throw new Error(`no gate ${id}`);
  return found;
}

function escalation(plan: ReturnType<typeof load>, id: string) {
  const found = plan.escalations.find((e) => e.id === id);
  if (!found) throw new Error(`no escalation ${id}`);
  return found;
}

describe('agent-hive-sprint example plan', () => {
  it('parses and has the six AI agents the document assigns', () => {
    // Prepare / Act
    const plan = load();

    // Assess
    expect(plan.project.id).toBe('agent-hive-sprint');
    expect(plan.agents.map((a) => a.id).sort()).toEqual([
      'documentation-agent',
      'integration-agent',
      'intelligence-agent',
      'orchestration-agent',
      'production-agent',
      'quality-agent',
    ]);
    expect(plan.agents.every((a) => a.kind === 'ai')).toBe(true);
  });

  it('starts July 15, 2025 with week 1 due July 22 and week 2 due July 29, in that order', () => {
    // Prepare
    const plan = load();

    // Act
    const [week1, week2] = plan.phases;

    // Assess
    expect(plan.project.start).toBe('2025-07-15');
    expect(plan.phases).toHaveLength(2);
    expect(week1).toMatchObject({ id: 'week-1', due: '2025-07-22', dependsOn: [] });
    expect(week2).toMatchObject({ id: 'week-2', due: '2025-07-29', dependsOn: ['week-1'] });
  });

  it('estimates "4-5 hours" priorities at 4.5h and "3-4 hours" priorities at 3.5h', () => {
    // Prepare
    const plan = load();
    const fourToFive = ['p-1', 'd-1', 'd-2', 'i-1', 'i-2', 'ai-1', 'ai-2'];
    const threeToFour = ['p-2', 'p-3', 'o-1', 'o-2', 'q-1', 'q-2'];

    // Act
    const estimates = Object.fromEntries(allTasks(plan).map((t) => [t.id, hours(t.estimate)]));

    // Assess
    for (const id of fourToFive) expect(estimates[id], id).toBe(4.5);
    for (const id of threeToFour) expect(estimates[id], id).toBe(3.5);
    expect(Object.keys(estimates).sort()).toEqual([...fourToFive, ...threeToFour].sort());
  });

  it('keeps each agent within its stated duration (Production 10-12h, Orchestration/Quality 6-8h, others 8-10h)', () => {
    // Prepare
    const plan = load();
    const ranges: Record<string, [number, number]> = {
      'production-agent': [10, 12],
      'documentation-agent': [8, 10],
      'integration-agent': [8, 10],
      'intelligence-agent': [8, 10],
      'orchestration-agent': [6, 8],
      'quality-agent': [6, 8],
    };

    // Act
    const totals: Record<string, number> = {};
    for (const t of allTasks(plan)) {
      const agent = t.agent ?? 'unassigned';
      totals[agent] = (totals[agent] ?? 0) + hours(t.estimate);
    }

    // Assess
    for (const [agent, [low, high]] of Object.entries(ranges)) {
      expect(totals[agent], agent).toBeGreaterThanOrEqual(low);
      expect(totals[agent], agent).toBeLessThanOrEqual(high);
    }
  });

  it('works each track in priority order: P.1 → P.2 → P.3, D.1 → D.2, I.1 → I.2, AI.1 → AI.2, O.1 → O.2, Q.1 → Q.2', () => {
    // Prepare
    const plan = load();
    const chains: [string, string][] = [
      ['p-2', 'p-1'],
      ['p-3', 'p-2'],
      ['d-2', 'd-1'],
      ['i-2', 'i-1'],
      ['ai-2', 'ai-1'],
      ['o-2', 'o-1'],
      ['q-2', 'q-1'],
    ];

    // Act
    const analysis = analysePlan(plan);

    // Assess
    for (const [later, earlier] of chains) {
      expect(task(plan, later).dependsOn, later).toContain(earlier);
      expect(analysis.tasks[later]?.earliestStart, later).toBeGreaterThanOrEqual(
        analysis.tasks[earlier]?.earliestFinish ?? Number.POSITIVE_INFINITY,
      );
    }
  });

  it('puts the ML, orchestration, quality and CI/CD (Wed) tracks in week 2, after all of week 1', () => {
    // Prepare
    const plan = load();
    const week1 = allTasks(plan).filter((t) => t.phase === 'week-1');

    // Act
    const analysis = analysePlan(plan);
    const week1Finish = Math.max(...week1.map((t) => analysis.tasks[t.id]?.earliestFinish ?? Number.NaN));

    // Assess
    expect(week1.map((t) => t.id).sort()).toEqual(['d-1', 'd-2', 'i-1', 'i-2', 'p-1', 'p-2']);
    for (const id of ['p-3', 'ai-1', 'ai-2', 'o-1', 'o-2', 'q-1', 'q-2']) {
      expect(analysis.tasks[id]?.phase, id).toBe('week-2');
      expect(analysis.tasks[id]?.earliestStart, id).toBeGreaterThanOrEqual(week1Finish);
    }
  });

  it('lists the five checklist items of every priority, e.g. P.1.1 Docker and I.2.1 Istio', () => {
    // Prepare / Act
    const plan = load();

    // Assess
    for (const t of allTasks(plan)) expect(t.deliverables, t.id).toHaveLength(5);
    expect(task(plan, 'p-1').deliverables[0]).toBe('Docker containerization with multi-stage builds');
    expect(task(plan, 'i-2').deliverables[0]).toBe('Istio service mesh implementation');
    expect(task(plan, 'q-2').deliverables[4]).toBe('Compliance audit automation');
  });

  it('gates go-live on 99.9% uptime, <200ms responses, <100MB memory, 95% agent success and 630+ tests', () => {
    // Prepare
    const plan = load();

    // Act
    const review = gate(plan, 'sprint-review');
    const go = review.criteria.map((c) => c.go);

    // Assess
    expect(plan.phases.find((p) => p.id === 'week-2')?.gate).toBe('sprint-review');
    expect(go).toEqual(
      expect.arrayContaining([
        'uptime >= 99.9',
        'latency.p95_ms < 200',
        'memory.mb < 100',
        'deploy.downtime_s == 0',
        'agents.task_success_rate >= 95',
        'agents.session_hours >= 4',
        'agents.concurrent_supported >= 10',
        'tests.count >= 630',
        'tests.regressions == 0',
      ]),
    );
  });

  it('requires 6 parallel agents for GO and accepts the 5+ of the success metrics as CAUTION', () => {
    // Prepare
    const plan = load();

    // Act
    const parallel = gate(plan, 'sprint-review').criteria.find((c) => c.go.startsWith('agents.parallel '));

    // Assess
    expect(parallel).toEqual({ go: 'agents.parallel >= 6', caution: 'agents.parallel >= 5' });
  });

  it('gates week 1 on 100% documentation, 98% accuracy and a 90% tutorial success rate', () => {
    // Prepare
    const plan = load();

    // Act
    const review = gate(plan, 'week-1-review');

    // Assess
    expect(plan.phases.find((p) => p.id === 'week-1')?.gate).toBe('week-1-review');
    expect(review.criteria.map((c) => c.go)).toEqual(
      expect.arrayContaining([
        'docs.completion >= 100',
        'docs.accuracy >= 98',
        'tutorial.success_rate >= 90',
      ]),
    );
  });

  it('escalates the high-risk areas to DevOps and the sprint lead, and documentation quality to the docs lead', () => {
    // Prepare
    const plan = load();

    // Act
    const deployment = escalation(plan, 'deployment-failure');
    const slow = escalation(plan, 'slow-responses');
    const coordination = escalation(plan, 'coordination-failures');
    const tutorial = escalation(plan, 'tutorial-success-low');

    // Assess
    expect(deployment).toMatchObject({ on: 'deploy.failed', notify: ['devops-lead', 'sprint-lead'] });
    expect(slow).toMatchObject({ when: 'latency.p95_ms >= 200', notify: ['devops-lead', 'sprint-lead'] });
    expect(coordination).toMatchObject({ when: 'agents.task_success_rate < 95', notify: ['sprint-lead'] });
    expect(tutorial).toMatchObject({ when: 'tutorial.success_rate < 90', notify: ['docs-lead'] });
    expect(plan.agents.find((a) => a.id === 'documentation-agent')?.owner).toBe('docs-lead');
  });

  it('holds automated morning, afternoon and evening standups on workdays and a Friday weekly review', () => {
    // Prepare
    const plan = load();

    // Act
    const byJob = Object.fromEntries(plan.schedules.map((s) => [s.job, s]));

    // Assess
    expect(plan.schedules).toHaveLength(4);
    expect(byJob.standup).toMatchObject({ at: '09:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
    expect(byJob.sync?.at).toBe('14:00');
    expect(byJob.report?.at).toBe('18:00');
    expect(byJob['gate-review']).toMatchObject({ at: '16:00', days: ['fri'] });
  });

  it('finishes both weeks by their due dates and never gives one agent two tasks at once', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);
    const byAgent = new Map<string, { start: number; finish: number }[]>();
    for (const t of allTasks(plan)) {
      const scheduled = analysis.tasks[t.id];
      if (!scheduled) throw new Error(`no analysis for ${t.id}`);
      const agent = t.agent ?? 'unassigned';
      byAgent.set(agent, [
        ...(byAgent.get(agent) ?? []),
        { start: scheduled.earliestStart, finish: scheduled.earliestFinish },
      ]);
    }

    // Assess
    expect(analysis.start).toBe('2025-07-15');
    expect(analysis.finish <= '2025-07-29').toBe(true);
    expect((analysis.phases['week-1']?.finish ?? 'missing') <= '2025-07-22').toBe(true);
    expect((analysis.phases['week-2']?.finish ?? 'missing') <= '2025-07-29').toBe(true);
    for (const [agent, spans] of byAgent) {
      const sorted = [...spans].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        expect(sorted[i]?.start, agent).toBeGreaterThanOrEqual(sorted[i - 1]?.finish ?? Number.NaN);
      }
    }
  });
});
