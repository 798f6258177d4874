import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../../../functions/core/errors.js';
import {
  cautionsInARow,
  cautionWindowMillis,
  decisionStep,
  evaluateGate,
  type GateDecision,
  type GateVerdict,
  gatePhase,
  mayDecide,
  nextGateStep,
  recordGateDecision,
} from '../../../../functions/core/gates/index.js';
import { formatPlanError, type Plan, parsePlan } from '../../../../functions/core/plan/index.js';

const NOW = new Date('2026-01-16T22:00:00.000Z');

function loadExample(file: string): Plan {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

const plan = loadExample('examples/sprint-20-23.yaml');
const gate = plan.gates.find((candidate) => candidate.id === 'sprint-20');
if (!gate) throw new Error('no gate sprint-20');

const evaluation = (decision: GateVerdict) => ({ decision });

describe('nextGateStep', () => {
  it('advances on GO and stops on NO-GO', () => {
    expect(nextGateStep(evaluation('GO'), 0, gate)).toBe('advance');
    expect(nextGateStep(evaluation('GO'), 5, gate)).toBe('advance');
    expect(nextGateStep(evaluation('NO-GO'), 0, gate)).toBe('no-go');
  });

  it('continues with extended validation for up to maxCautions CAUTIONs in a row, then treats one more as NO-GO', () => {
    expect(gate.maxCautions).toBe(2);
    expect(nextGateStep(evaluation('CAUTION'), 0, gate)).toBe('caution');
    expect(nextGateStep(evaluation('CAUTION'), 1, gate)).toBe('caution');
    expect(nextGateStep(evaluation('CAUTION'), 2, gate)).toBe('no-go');
  });

  it('treats the first CAUTION as NO-GO when maxCautions is 0', () => {
    expect(nextGateStep(evaluation('CAUTION'), 0, { maxCautions: 0 })).toBe('no-go');
  });
});

describe('cautionsInARow', () => {
  const d = (decision: GateVerdict, override?: 'advance' | 'hold') => ({
    decision,
    ...(override ? { override } : {}),
  });

  it('counts the CAUTIONs at the end of the decisions', () => {
    expect(cautionsInARow([])).toBe(0);
    expect(cautionsInARow([d('CAUTION'), d('NO-GO'), d('CAUTION'), d('CAUTION')])).toBe(2);
    expect(cautionsInARow([d('CAUTION'), d('GO')])).toBe(0);
  });

  it('stops at a decision someone overrode', () => {
    expect(cautionsInARow([d('CAUTION'), d('CAUTION', 'hold'), d('CAUTION')])).toBe(1);
  });
});

describe('cautionWindowMillis', () => {
  it('reads the default 1d as 24 wall-clock hours', () => {
    expect(cautionWindowMillis(gate)).toBe(24 * 3_600_000);
    expect(cautionWindowMillis({ cautionWindow: '2d' })).toBe(48 * 3_600_000);
  });
});

describe('gatePhase', () => {
  it('finds the phase whose gate it is', () => {
    expect(gatePhase(plan, 'sprint-21')?.id).toBe('sprint-21');
    expect(gatePhase(plan, 'nope')).toBeUndefined();
  });
});

describe('mayDecide', () => {
  it('allows the approvers as people and an admin', () => {
    expect(mayDecide(plan, 'sprint-20', { kind: 'person', id: 'tech-lead' })).toBe(true);
    expect(mayDecide(plan, 'sprint-20', { kind: 'person', id: 'pm' })).toBe(true);
    expect(mayDecide(plan, 'sprint-20', { kind: 'admin' })).toBe(true);
  });

  it('refuses other people, agents and the system', () => {
    expect(mayDecide(plan, 'sprint-20', { kind: 'person', id: 'cto' })).toBe(false);
    expect(mayDecide(plan, 'sprint-20', { kind: 'agent', id: 'qa-agent' })).toBe(false);
    expect(mayDecide(plan, 'sprint-20', { kind: 'system' })).toBe(false);
  });
});

describe('recordGateDecision', () => {
  const evaluated = evaluateGate(plan, 'sprint-20', { metrics: new Map(), tasks: new Map() }, NOW);

  it('records an evaluation nobody overrode', () => {
    const decision = recordGateDecision({ plan, evaluation: evaluated, attempt: 1, now: NOW });

    expect(decision).toEqual({
      gate: 'sprint-20',
      phase: 'sprint-20',
      attempt: 1,
      decision: 'NO-GO',
      evaluation: evaluated,
      at: NOW.toISOString(),
    });
    expect(decisionStep(decision, 0, gate)).toBe('no-go');
  });

  it('records an approver overriding a NO-GO, which advances the phase', () => {
    const decision: GateDecision = recordGateDecision({
      plan,
      evaluation: evaluated,
      attempt: 2,
      now: NOW,
      override: 'advance',
      actor: { kind: 'person', id: 'tech-lead' },
      note: 'TPS run was on the old cluster',
    });

    expect(decision).toMatchObject({
      decision: 'NO-GO',
      override: 'advance',
      decidedBy: 'person:tech-lead',
      note: 'TPS run was on the old cluster',
    });
    expect(decisionStep(decision, 0, gate)).toBe('advance');
  });

  it('treats a hold as NO-GO', () => {
    const decision = recordGateDecision({
      plan,
      evaluation: { ...evaluated, decision: 'CAUTION' },
      attempt: 1,
      now: NOW,
      override: 'hold',
      actor: { kind: 'admin' },
    });

    expect(decisionStep(decision, 0, gate)).toBe('no-go');
  });

  it('refuses an override by someone who is not an approver', () => {
    expect(() =>
      recordGateDecision({
        plan,
        evaluation: evaluated,
        attempt: 1,
        now: NOW,
        override: 'advance',
        actor: { kind: 'person', id: 'cto' },
      }),
    ).toThrow(
      new ForbiddenError(
        'person:cto may not decide gate sprint-20; only its approvers (tech-lead, pm) or an admin may',
      ),
    );
    expect(() =>
      recordGateDecision({ plan, evaluation: evaluated, attempt: 1, now: NOW, override: 'hold' }),
    ).toThrow(ForbiddenError);
  });
});
