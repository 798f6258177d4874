import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../../functions/core/coordination/model.js';
import { NotFoundError } from '../../../../functions/core/errors.js';
import { evaluateGate, gatePhase } from '../../../../functions/core/gates/index.js';
import {
  type Condition,
  formatPlanError,
  holds,
  type Plan,
  parseCondition,
  parsePlan,
  type TaskStatus,
} from '../../../../functions/core/plan/index.js';
import { validPlan } from '../../../fixtures/plans.js';

const NOW = new Date('2026-01-21T22:00:00.000Z');
const MEASURED_AT = '2026-01-21T21:00:00.000Z';

function loadExample(file: string): Plan {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

const EXAMPLES = readdirSync('examples')
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => `examples/${name}`);

/** Values near a condition's bound, where a satisfying or a failing one is found. */
function candidates(...conditions: Condition[]): number[] {
  return conditions.flatMap((c) => [
    c.value,
    c.value + 1,
    c.value - 1,
    c.value + 0.5,
    c.value - 0.5,
    c.value * 2,
  ]);
}

function pick(description: string, values: number[], test: (value: number) => boolean): number {
  const found = values.find(test);
  if (found === undefined) throw new Error(`no value for ${description}`);
  return found;
}

const passing = (go: Condition) => pick(go.text, candidates(go), (v) => holds(go, v));
const hopeless = (go: Condition, caution?: Condition) =>
  pick(
    go.text,
    candidates(go, ...(caution ? [caution] : [])),
    (v) => !holds(go, v) && !(caution && holds(caution, v)),
  );

function metrics(entries: Record<string, number>): Map<string, MetricPoint> {
  return new Map(Object.entries(entries).map(([name, value]) => [name, { name, value, at: MEASURED_AT }]));
}

/** A value meeting every GO bound of the gate. */
function allGo(plan: Plan, gateId: string): Record<string, number> {
  const gate = plan.gates.find((g) => g.id === gateId);
  if (!gate) throw new Error(`no gate ${gateId}`);
  return Object.fromEntries(
    gate.criteria.map((criterion) => {
      const go = parseCondition(criterion.go);
      return [go.metric, passing(go)];
    }),
  );
}

function phaseTasks(plan: Plan, gateId: string, status: TaskStatus): Map<string, TaskStatus> {
  return new Map((gatePhase(plan, gateId)?.tasks ?? []).map((task) => [task.id, status]));
}

describe('evaluateGate', () => {
  for (const file of EXAMPLES) {
    const plan = loadExample(file);
    for (const gate of plan.gates) {
      describe(`${file} gate ${gate.id}`, () => {
        it('decides GO when every GO bound holds and every task of its phase is done', () => {
          // Prepare
          const input = { metrics: metrics(allGo(plan, gate.id)), tasks: phaseTasks(plan, gate.id, 'done') };

          // Act
          const evaluation = evaluateGate(plan, gate.id, input, NOW);

          // Assess
          expect(evaluation.decision).toBe('GO');
          expect(evaluation.tasksNotDone).toEqual([]);
          expect(evaluation.criteria).toHaveLength(gate.criteria.length);
          for (const criterion of evaluation.criteria) {
            expect(criterion.value).toBe(allGo(plan, gate.id)[criterion.metric]);
            expect(criterion.at).toBe(MEASURED_AT);
            expect(criterion.goHolds).toBe(true);
          }
          expect(evaluation.reasons[0]).toMatch(/^GO: /);
          expect(evaluation.evaluatedAt).toBe(NOW.toISOString());
        });

        it('decides NO-GO when tasks of its phase are not done, whatever the metrics', () => {
          const phase = gatePhase(plan, gate.id);
          if (!phase) return;
          const tasks = phaseTasks(plan, gate.id, 'done');
          const [first, last] = [phase.tasks[0], phase.tasks[phase.tasks.length - 1]];
          if (!first || !last) return;
          tasks.set(first.id, 'in_review');
          tasks.delete(last.id); // never moved: todo

          const evaluation = evaluateGate(
            plan,
            gate.id,
            { metrics: metrics(allGo(plan, gate.id)), tasks },
            NOW,
          );

          expect(evaluation.decision).toBe('NO-GO');
          expect(evaluation.tasksNotDone).toEqual([...new Set([first.id, last.id])]);
          expect(evaluation.criteria.every((criterion) => criterion.goHolds)).toBe(true);
          expect(evaluation.reasons[0]).toMatch(/^NO-GO: \d+ tasks? of phase .* not done\.$/);
          expect(evaluation.reasons.at(-1)).toContain(first.id);
        });

        for (const [i, criterion] of gate.criteria.entries()) {
          const go = parseCondition(criterion.go);
          const caution = criterion.caution === undefined ? undefined : parseCondition(criterion.caution);

          it(`never passes criterion ${i + 1} (${go.text}) when ${go.metric} has no value`, () => {
            const values = allGo(plan, gate.id);
            delete values[go.metric];

            const evaluation = evaluateGate(
              plan,
              gate.id,
              { metrics: metrics(values), tasks: phaseTasks(plan, gate.id, 'done') },
              NOW,
            );

            expect(evaluation.decision).toBe('NO-GO');
            const result = evaluation.criteria[i];
            expect(result).toMatchObject({
              metric: go.metric,
              value: null,
              at: null,
              goHolds: false,
              cautionHolds: false,
            });
            expect(evaluation.reasons[i + 1]).toContain(
              `${go.metric} has no value yet, and missing evidence never passes`,
            );
          });

          it(`decides NO-GO when criterion ${i + 1} (${go.text}) misses every bound`, () => {
            const values = { ...allGo(plan, gate.id), [go.metric]: hopeless(go, caution) };

            const evaluation = evaluateGate(
              plan,
              gate.id,
              { metrics: metrics(values), tasks: phaseTasks(plan, gate.id, 'done') },
              NOW,
            );

            expect(evaluation.decision).toBe('NO-GO');
            expect(evaluation.criteria[i]?.goHolds).toBe(false);
            expect(evaluation.reasons[0]).toContain(go.metric);
          });

          if (caution) {
            it(`decides CAUTION when criterion ${i + 1} misses GO but meets CAUTION (${caution.text})`, () => {
              const value = pick(
                caution.text,
                candidates(go, caution),
                (v) => !holds(go, v) && holds(caution, v),
              );
              const values = { ...allGo(plan, gate.id), [go.metric]: value };

              const evaluation = evaluateGate(
                plan,
                gate.id,
                { metrics: metrics(values), tasks: phaseTasks(plan, gate.id, 'done') },
                NOW,
              );

              expect(evaluation.decision).toBe('CAUTION');
              expect(evaluation.criteria[i]).toMatchObject({ value, goHolds: false, cautionHolds: true });
            });
          }
        }
      });
    }
  }
});

describe('evaluateGate on seed 000 (examples/sprint-20-23.yaml)', () => {
  const plan = loadExample('examples/sprint-20-23.yaml');
  const good = {
    tps: 2_100_000,
    'grpc.api_compatibility': 100,
    'tests.integration.failed': 0,
    'coverage.integration': 74,
    'coverage.unit': 83,
    'issues.critical': 0,
    'schedule.slip_days': 1,
  };
  const done = phaseTasks(plan, 'sprint-20', 'done');

  it('decides CAUTION for sprint-20 at 1.8M TPS and says why', () => {
    const evaluation = evaluateGate(
      plan,
      'sprint-20',
      { metrics: metrics({ ...good, tps: 1_800_000 }), tasks: done },
      NOW,
    );

    expect(evaluation.decision).toBe('CAUTION');
    expect(evaluation.phase).toBe('sprint-20');
    expect(evaluation.criteria[0]).toEqual({
      go: 'tps >= 2_000_000',
      caution: 'tps >= 1_500_000',
      metric: 'tps',
      value: 1_800_000,
      at: MEASURED_AT,
      goHolds: false,
      cautionHolds: true,
    });
    expect(evaluation.reasons).toContain(
      'tps 1,800,000 is below the GO bound 2,000,000 but meets CAUTION ≥ 1,500,000',
    );
    expect(evaluation.reasons[0]).toBe(
      'CAUTION: 1 of 7 criteria misses its GO bound (tps) but meets its CAUTION bound.',
    );
    expect(evaluation.reasons).toContain('coverage.unit 83 meets GO ≥ 80');
    expect(evaluation.reasons.at(-1)).toBe('all 15 tasks of phase sprint-20 are done');
  });

  it('decides NO-GO for sprint-20 at 1.2M TPS, below the CAUTION bound', () => {
    const evaluation = evaluateGate(
      plan,
      'sprint-20',
      { metrics: metrics({ ...good, tps: 1_200_000 }), tasks: done },
      NOW,
    );

    expect(evaluation.decision).toBe('NO-GO');
    expect(evaluation.reasons).toContain(
      'tps 1,200,000 is below the GO bound 2,000,000 and misses CAUTION ≥ 1,500,000 too',
    );
  });

  it('decides NO-GO for a CAUTION-level TPS when another criterion fails outright', () => {
    const evaluation = evaluateGate(
      plan,
      'sprint-20',
      { metrics: metrics({ ...good, tps: 1_800_000, 'coverage.unit': 79.5 }), tasks: done },
      NOW,
    );

    expect(evaluation.decision).toBe('NO-GO');
    expect(evaluation.reasons[0]).toBe(
      'NO-GO: 1 of 7 criteria fail with no CAUTION bound that holds (coverage.unit).',
    );
    expect(evaluation.reasons).toContain(
      'coverage.unit 79.5 is below the GO bound 80, and there is no CAUTION bound',
    );
  });

  it('decides NO-GO for sprint-22 at 1.8M TPS: its TPS criterion has no CAUTION bound', () => {
    const values = { ...allGo(plan, 'sprint-22'), tps: 1_800_000 };

    const evaluation = evaluateGate(
      plan,
      'sprint-22',
      { metrics: metrics(values), tasks: phaseTasks(plan, 'sprint-22', 'done') },
      NOW,
    );

    expect(evaluation.decision).toBe('NO-GO');
  });

  it('says which bound a value misses for each kind of comparison', () => {
    const evaluation = evaluateGate(
      plan,
      'sprint-20',
      {
        metrics: metrics({ ...good, 'issues.critical': 2, 'schedule.slip_days': 3.5 }),
        tasks: new Map([...done].map(([id, status]) => [id, { status }])),
      },
      NOW,
    );

    expect(evaluation.reasons).toContain(
      'issues.critical 2 is not the GO bound 0, and there is no CAUTION bound',
    );
    expect(evaluation.reasons).toContain(
      'schedule.slip_days 3.5 is above the GO bound 3, and there is no CAUTION bound',
    );
  });

  it('throws NotFoundError for an unknown gate', () => {
    expect(() => evaluateGate(plan, 'sprint-99', { metrics: new Map(), tasks: new Map() }, NOW)).toThrow(
      NotFoundError,
    );
  });
});

describe('evaluateGate on edge cases', () => {
  const plan = validPlan(`version: 1
project:
  id: demo
  timezone: UTC
  start: 2026-01-05
people:
  - id: lead
agents:
  - id: alpha
    owner: lead
phases:
  - id: phase-1
    gate: g1
    tasks:
      - id: task-1
        agent: alpha
        estimate: 1d
gates:
  - id: g1
    criteria:
      - go: "tps >= 100"
        caution: "tps_avg >= 80"
  - id: loose
    criteria: []
`);

  it('evaluates a CAUTION bound over another metric with that metric', () => {
    const evaluation = evaluateGate(
      plan,
      'g1',
      { metrics: metrics({ tps: 90, tps_avg: 85 }), tasks: new Map([['task-1', 'done']]) },
      NOW,
    );

    expect(evaluation.decision).toBe('CAUTION');
    expect(evaluation.criteria[0]).toMatchObject({
      metric: 'tps',
      value: 90,
      cautionMetric: 'tps_avg',
      cautionValue: 85,
      cautionAt: MEASURED_AT,
      cautionHolds: true,
    });
    expect(evaluation.reasons[1]).toBe(
      'tps 90 is below the GO bound 100 but meets CAUTION tps_avg ≥ 80 (tps_avg is 85)',
    );
  });

  it('decides GO for a gate of no phase with no criteria: nothing is required', () => {
    const evaluation = evaluateGate(plan, 'loose', { metrics: new Map(), tasks: new Map() }, NOW);

    expect(evaluation).toMatchObject({ decision: 'GO', phase: null, tasksNotDone: [], criteria: [] });
  });
});
