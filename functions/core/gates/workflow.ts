/**
 * The phase-gate workflow as the rest of Convoy sees it: start one evaluation of a phase's gate, and
 * hand a human decision back to an execution that waits for it. `statemachines/phase-gate.asl.json`
 * defines the workflow; Step Functions runs it in AWS ({@link SfnGateWorkflow}) and
 * aws-local-stepfunctions runs the same file in `convoy dev` and the tests (`LocalGateWorkflow`).
 *
 * Every Task state of the workflow invokes one function, the gate step, with a {@link GateStepEvent};
 * its results are described by {@link GateStepResults}.
 *
 * @module
 */

import { ConvoyError } from '../errors.js';
import type { GateVerdict } from './evaluate.js';

/** One attempt at passing a phase's gate. The execution is named after project, phase and attempt. */
export interface GateRef {
  readonly project: string;
  readonly phase: string;
  readonly gate: string;
  /** 1 for the first evaluation of the phase's gate; a new attempt after a hold or a failure. */
  readonly attempt: number;
}

/**
 * `started` when this call started the execution; `already-started` when an execution of the same
 * project, phase and attempt exists, running or finished (Step Functions keeps names for 90 days),
 * so a duplicate start is harmless.
 */
export type GateStartResult = 'started' | 'already-started';

/** What a gate approver decided about a NO-GO (or exhausted CAUTION) phase. */
export interface GateApproval {
  /** `advance`: accept the risk and let the phase pass; `hold`: keep it blocked. */
  readonly decision: 'advance' | 'hold';
  /** Who decided: a person id, or `null` when nobody did and the workflow held the phase itself. */
  readonly by: string | null;
  readonly note?: string;
}

/** Starts and resumes phase-gate executions. */
export interface GateWorkflow {
  /** Starts the evaluation of `ref`'s gate unless this attempt already has an execution. */
  start(ref: GateRef): Promise<GateStartResult>;

  /**
   * Resumes the execution waiting on `taskToken` (given to the `request-decision` step) with `output`,
   * normally a {@link GateApproval}.
   *
   * @throws StaleTaskTokenError when no execution waits on the token any more.
   */
  complete(taskToken: string, output: unknown): Promise<void>;
}

/** Why a task token can no longer be completed. */
export type StaleTaskTokenReason = 'does-not-exist' | 'timed-out' | 'invalid';

/**
 * The task token names no waiting task: it was already completed, its execution ended or was stopped
 * (`does-not-exist`), the wait timed out and the approvers were asked again with a new token
 * (`timed-out`), or it is not a token at all (`invalid`). A decision route answers 409 or 410.
 */
export class StaleTaskTokenError extends ConvoyError {
  readonly reason: StaleTaskTokenReason;

  constructor(reason: StaleTaskTokenReason, options?: ErrorOptions) {
    super('stale_task_token', `no gate decision is awaited with this task token (${reason})`, options);
    this.name = 'StaleTaskTokenError';
    this.reason = reason;
  }
}

/**
 * What the `evaluate` step returns and the workflow carries to its later steps: the gate's verdict
 * and the gate's CAUTION limits, exactly these fields (the full evaluation, with its criteria, is
 * stored as a `GateDecision`).
 */
export interface GateStepVerdict {
  readonly decision: GateVerdict;
  /** How long to wait after a CAUTION before evaluating again: a whole number of seconds. */
  readonly cautionWindowSeconds: number;
  /** How many CAUTIONs in a row are allowed before the gate is treated as NO-GO. */
  readonly maxCautions: number;
}

/** The error a failed step ended with, as Step Functions catches it (`Cause` is often JSON). */
export interface GateStepError {
  readonly Error: string;
  readonly Cause: string;
}

interface GateStepBase extends GateRef {
  /** The execution's name: with `step` and the counters, a key that makes a retried step idempotent. */
  readonly execution: string;
  /** CAUTIONs notified so far in this execution. */
  readonly cautions: number;
}

/**
 * What the workflow sends the gate step. Steps may run more than once (retries after errors and
 * timeouts), so each must be idempotent for its execution, step and counters.
 */
export type GateStepEvent =
  /** Evaluate the gate's criteria (and the phase's tasks) and record the decision with its metric values. */
  | (GateStepBase & { readonly step: 'evaluate' })
  /** Notify the phase's owners of CAUTION number `cautions`; the workflow then waits the caution window. */
  | (GateStepBase & { readonly step: 'caution'; readonly evaluation: GateStepVerdict })
  /**
   * Store `taskToken` for the gate and ask its approvers to decide (Slack buttons, the decision route);
   * with `reminders` > 0, the earlier request went unanswered and this one replaces its token.
   */
  | (GateStepBase & {
      readonly step: 'request-decision';
      readonly taskToken: string;
      readonly reminders: number;
      readonly evaluation: GateStepVerdict;
    })
  /** The phase passes: dependents become active, owners are notified. `approval` is null after a GO. */
  | (GateStepBase & {
      readonly step: 'advance';
      readonly evaluation: GateStepVerdict;
      readonly approval: GateApproval | null;
    })
  /** Record the hold and who decided it (`approval.by` is null when nobody answered). */
  | (GateStepBase & {
      readonly step: 'hold';
      readonly evaluation: GateStepVerdict;
      readonly approval: GateApproval;
    })
  /** A step failed after its retries: record `error` and escalate to the gate's approvers. */
  | (GateStepBase & {
      readonly step: 'escalate-failure';
      readonly reminders: number;
      readonly evaluation: GateStepVerdict | null;
      readonly approval: GateApproval | null;
      readonly error: GateStepError;
    });

export type GateStepName = GateStepEvent['step'];

/** The event of one step. */
export type GateStepEventOf<Step extends GateStepName> = Extract<GateStepEvent, { readonly step: Step }>;

/** What each step returns. Only `evaluate`'s result is used; a `request-decision` result is ignored. */
export interface GateStepResults {
  readonly evaluate: GateStepVerdict;
  readonly caution: unknown;
  readonly 'request-decision': unknown;
  readonly advance: unknown;
  readonly hold: unknown;
  readonly 'escalate-failure': unknown;
}

/** Runs one gate step: the body of the `gate-step` Lambda function, called in process by `convoy dev`. */
export type GateStepHandler = (event: GateStepEvent) => Promise<unknown>;

/** One function per step, each typed with its own event and result. */
export type GateSteps = {
  readonly [Step in GateStepName]: (event: GateStepEventOf<Step>) => Promise<GateStepResults[Step]>;
};
