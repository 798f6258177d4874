import { describe, expect, it } from 'vitest';
import { holds, parseCondition } from '../../../../functions/core/plan/index.js';
import { mulberry32 } from '../../../../functions/core/reports/forecast.js';
import {
  metricCourses,
  SyntheticMetrics,
  type WorkProgress,
} from '../../../../functions/local/simulation/metrics.js';
import { validPlan } from '../../../fixtures/plans.js';

const PLAN = validPlan(`version: 1
project: { id: demo, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    gate: build-gate
    tasks: [{ id: api, agent: alpha, estimate: 2d }]
  - id: ship
    gate: ship-gate
    dependsOn: [build]
    tasks: [{ id: deploy, agent: alpha, estimate: 1d }]
gates:
  - id: build-gate
    approvers: [pm]
    criteria:
      - { go: "coverage.unit >= 80" }
      - { go: "tests.pass_rate == 100" }
      - { go: "build.errors == 0" }
      - { go: "latency.p95_ms < 200", caution: "latency.p95_ms < 250" }
      - { go: "schedule.slip_days <= 2" }
  - id: ship-gate
    approvers: [pm]
    criteria: [{ go: "coverage.unit >= 85" }]
escalations:
  - { id: flaky, when: "build.failure_rate > 0.2", notify: [pm] }
`);

const CONDITIONS = {
  'coverage.unit': ['coverage.unit >= 80', 'coverage.unit >= 85'],
  'tests.pass_rate': ['tests.pass_rate == 100'],
  'build.errors': ['build.errors == 0'],
  'latency.p95_ms': ['latency.p95_ms < 200', 'latency.p95_ms < 250'],
  'build.failure_rate': ['build.failure_rate <= 0.2'],
} as const;

const work = (build: number, passed: string[] = []): WorkProgress => ({
  phaseDone: new Map([
    ['build', build],
    ['ship', 0],
  ]),
  passed: new Set(passed),
  planDone: build * 0.66,
});

/** The values after `postings` postings at the same progress. */
function valuesAt(progress: WorkProgress, seed = 3, postings = 1) {
  const random = mulberry32(seed);
  const metrics = new SyntheticMetrics(metricCourses(PLAN, random), random);
  let values: { name: string; value: number }[] = [];
  for (let i = 0; i < postings; i++) values = metrics.next(progress);
  return new Map(values.map(({ name, value }) => [name, value]));
}

describe('the synthetic metrics', () => {
  it('post every metric the gates and escalations read, except the ones Convoy computes', () => {
    // Act
    const names = metricCourses(PLAN, mulberry32(1)).map((course) => course.name);

    // Assess
    expect(names.sort()).toEqual(Object.keys(CONDITIONS).sort());
  });

  it('start on the wrong side of every bound that reads them', () => {
    // Act
    const start = valuesAt(work(0));

    // Assess
    for (const [name, conditions] of Object.entries(CONDITIONS))
      for (const condition of conditions)
        expect(holds(parseCondition(condition), start.get(name)), `${name} ${condition}`).toBe(false);
  });

  it('meet every GO bound once their work is done, and stay there after the gate passed', () => {
    // Act
    const done = valuesAt(work(1));
    const later = valuesAt(work(1, ['build']));

    // Assess
    for (const values of [done, later])
      for (const [name, conditions] of Object.entries(CONDITIONS))
        for (const condition of conditions)
          expect(holds(parseCondition(condition), values.get(name)), `${name} ${condition}`).toBe(true);
  });

  it('trend toward the target as the work gets done', () => {
    // Act
    const course = [0, 0.25, 0.5, 0.75, 1].map(
      (share) => valuesAt(work(share), 8).get('coverage.unit') as number,
    );

    // Assess
    expect(course[4]).toBeGreaterThan(course[2] as number);
    expect(course[2]).toBeGreaterThan(course[0] as number);
  });

  it('suffer setbacks now and then, and repair them over the next postings', () => {
    // Arrange: many postings at the same, finished, progress.
    const random = mulberry32(11);
    const metrics = new SyntheticMetrics(metricCourses(PLAN, random), random);
    const course = Array.from({ length: 200 }, () =>
      metrics.next(work(1)).find((point) => point.name === 'coverage.unit'),
    ).map((point) => point?.value as number);

    // Assess: mostly at the target, sometimes below it, never for long.
    const below = course.filter((value) => value < 85).length;
    expect(below).toBeGreaterThan(0);
    expect(below).toBeLessThan(60);
    expect(course.at(-1)).toBeGreaterThanOrEqual(80);
  });

  it('are the same for the same seed and differ for another', () => {
    expect([...valuesAt(work(0.4), 5, 3)]).toEqual([...valuesAt(work(0.4), 5, 3)]);
    expect([...valuesAt(work(0.4), 5, 3)]).not.toEqual([...valuesAt(work(0.4), 6, 3)]);
  });

  it('post counts as whole numbers and keep percentages within 0–100', () => {
    // Act
    const values = [0, 0.3, 0.9, 1].flatMap((share) => [...valuesAt(work(share), 2, 5)]);

    // Assess
    for (const [name, value] of values) {
      if (name === 'build.errors') expect(Number.isInteger(value)).toBe(true);
      if (name === 'tests.pass_rate' || name === 'coverage.unit') {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(100);
      }
    }
  });
});
