import { type Actor, describeActor } from '../coordination/model.js';
import { ForbiddenError } from '../errors.js';
import { wallClockMillis } from '../plan/lexical.js';
import type { Gate, Plan } from '../plan/schema.js';
import { findGate, type GateEvaluation, type GateVerdict, gatePhase } from './evaluate.js';

/**
 * What the phase workflow does after an evaluation: `advance` the phase, wait the gate's
 * `cautionWindow` and evaluate again (`caution`), or stop and escalate (`no-go`).
 */
export type GateStep = 'advance' | 'caution' | 'no-go';

/** A person's decision that replaces the evaluated one: pass the gate anyway, or hold the phase. */
export type GateOverride = 'advance' | 'hold';

/** One evaluation of a gate, as the store keeps it: the evidence, and who overrode it, if anyone. */
export interface GateDecision {
  readonly gate: string;
  readonly phase: string | null;
  /** 1 for the gate's first evaluation, then one more per evaluation. */
  readonly attempt: number;
  /** The evaluated decision (an override does not change it; `override` says what was done instead). */
  readonly decision: GateVerdict;
  readonly evaluation: GateEvaluation;
  /** `person:tech-lead` or `admin`, when a person decided. */
  readonly decidedBy?: string;
  readonly override?: GateOverride;
  readonly note?: string;
  readonly at: string;
}

/**
 * The step for an evaluation. A CAUTION continues with extended validation while it is at most the
 * gate's `maxCautions`-th CAUTION in a row; one more is treated as NO-GO (with `maxCautions: 0`,
 * the first CAUTION already is).
 *
 * @param cautionsSoFar CAUTIONs in a row before this evaluation (see `cautionsInARow`).
 */
export function nextGateStep(
  evaluation: Pick<GateEvaluation, 'decision'>,
  cautionsSoFar: number,
  gate: Pick<Gate, 'maxCautions'>,
): GateStep {
  switch (evaluation.decision) {
    case 'GO':
      return 'advance';
    case 'NO-GO':
      return 'no-go';
    case 'CAUTION':
      return cautionsSoFar + 1 > gate.maxCautions ? 'no-go' : 'caution';
  }
}

/** The step a recorded decision leads to: its override if it has one, else `nextGateStep`. */
export function decisionStep(
  decision: GateDecision,
  cautionsSoFar: number,
  gate: Pick<Gate, 'maxCautions'>,
): GateStep {
  if (decision.override === 'advance') return 'advance';
  if (decision.override === 'hold') return 'no-go';
  return nextGateStep(decision, cautionsSoFar, gate);
}

/**
 * CAUTIONs in a row at the end of a gate's decisions (oldest first): what `nextGateStep` needs.
 * A decision someone overrode ends the run, as does any other verdict.
 */
export function cautionsInARow(decisions: readonly Pick<GateDecision, 'decision' | 'override'>[]): number {
  let count = 0;
  for (let i = decisions.length - 1; i >= 0; i--) {
    const decision = decisions[i];
    if (decision?.decision !== 'CAUTION' || decision.override !== undefined) break;
    count++;
  }
  return count;
}

/** The gate's extended-validation window in milliseconds (`1d` = 24 hours: a wall-clock window). */
export function cautionWindowMillis(gate: Pick<Gate, 'cautionWindow'>): number {
  return wallClockMillis(gate.cautionWindow);
}

/** Whether the actor may override the gate's decision: one of its approvers, or an admin. */
export function mayDecide(plan: Plan, gateId: string, actor: Actor): boolean {
  if (actor.kind === 'admin') return true;
  return actor.kind === 'person' && findGate(plan, gateId).approvers.includes(actor.id);
}

/** Throws a ForbiddenError naming the approvers unless `mayDecide`. */
export function assertMayDecide(plan: Plan, gateId: string, actor: Actor): void {
  if (mayDecide(plan, gateId, actor)) return;
  const approvers = findGate(plan, gateId).approvers;
  throw new ForbiddenError(
    `${describeActor(actor)} may not decide gate ${gateId}; ${
      approvers.length > 0
        ? `only its approvers (${approvers.join(', ')}) or an admin may`
        : 'only an admin may'
    }`,
  );
}

/**
 * The record of an evaluation, optionally overridden by a person. An override needs `mayDecide`
 * (a ForbiddenError otherwise); without one, the decision is the evaluation's and nobody decided.
 */
export function recordGateDecision(input: {
  readonly plan: Plan;
  readonly evaluation: GateEvaluation;
  readonly attempt: number;
  readonly now: Date;
  readonly override?: GateOverride;
  readonly actor?: Actor;
  readonly note?: string;
}): GateDecision {
  const { plan, evaluation } = input;
  const base = {
    gate: evaluation.gate,
    phase: evaluation.phase ?? gatePhase(plan, evaluation.gate)?.id ?? null,
    attempt: input.attempt,
    decision: evaluation.decision,
    evaluation,
    at: input.now.toISOString(),
    ...(input.note === undefined ? {} : { note: input.note }),
  };
  if (input.override === undefined) return base;
  if (!input.actor)
    throw new ForbiddenError(`an override of gate ${evaluation.gate} needs a person who decides`);
  assertMayDecide(plan, evaluation.gate, input.actor);
  return { ...base, override: input.override, decidedBy: describeActor(input.actor) };
}
