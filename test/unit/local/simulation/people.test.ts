import { describe, expect, it } from 'vitest';
import type { CriterionResult, GateEvaluation } from '../../../../functions/core/gates/evaluate.js';
import { judgeGate } from '../../../../functions/local/simulation/people.js';

const criterion = (
  go: string,
  value: number | null,
  holds: { go?: boolean; caution?: boolean } = {},
): CriterionResult => ({
  go,
  metric: go.split(' ')[0] as string,
  value,
  at: value === null ? null : '2026-03-02T17:00:00.000Z',
  goHolds: holds.go ?? false,
  cautionHolds: holds.caution ?? false,
});

const evaluation = (criteria: CriterionResult[], tasksNotDone: string[] = []): GateEvaluation => ({
  gate: 'build-gate',
  phase: 'build',
  decision: 'NO-GO',
  criteria,
  tasksNotDone,
  reasons: [],
  evaluatedAt: '2026-03-02T17:00:00.000Z',
});

describe('a sensible approver', () => {
  it('holds a gate whose phase has tasks not done, however good the numbers', () => {
    const verdict = judgeGate(
      evaluation([criterion('coverage.unit >= 80', 90, { go: true })], ['docs']),
      undefined,
    );
    expect(verdict.decision).toBe('hold');
    expect(verdict.why).toContain('1 task of the phase not done');
  });

  it('holds at a first review with a metric off target and no CAUTION bound that holds', () => {
    const verdict = judgeGate(evaluation([criterion('coverage.unit >= 80', 71)]), undefined);
    expect(verdict).toEqual({ decision: 'hold', why: 'coverage.unit off target (71)' });
  });

  it('advances once every failing metric has improved since the last review', () => {
    const verdict = judgeGate(
      evaluation([criterion('coverage.unit >= 80', 78), criterion('build.errors == 0', 1)]),
      new Map([
        ['coverage.unit', 71],
        ['build.errors', 3],
      ]),
    );
    expect(verdict.decision).toBe('advance');
    expect(verdict.why).toContain('coverage.unit improved (71 → 78)');
  });

  it('holds again when a metric is no better than at the last review', () => {
    const verdict = judgeGate(
      evaluation([criterion('latency.p95_ms < 200', 230)]),
      new Map([['latency.p95_ms', 225]]),
    );
    expect(verdict.decision).toBe('hold');
    expect(verdict.why).toContain('no better than at the last review (225 → 230)');
  });

  it('accepts a metric within its CAUTION bound, and a slip that holding cannot mend', () => {
    const verdict = judgeGate(
      evaluation([
        criterion('tps >= 2000000', 1_700_000, { caution: true }),
        criterion('schedule.slip_days <= 3', 6),
      ]),
      undefined,
    );
    expect(verdict.decision).toBe('advance');
  });
});
