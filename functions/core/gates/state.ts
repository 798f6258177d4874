import type { GateDecision } from './decision.js';

/** Where a gate's current attempt stands. */
export type GateStatus = 'evaluating' | 'caution' | 'awaiting-decision' | 'passed' | 'held' | 'failed';

/** The state of one gate of a project: its current attempt and the latest decision with its evidence. */
export interface GateState {
  readonly gate: string;
  readonly phase: string;
  /** 1 for the first evaluation workflow of the gate, one more per new start. */
  readonly attempt: number;
  readonly status: GateStatus;
  /** The latest evaluation (or override), with every metric value it used and why it decided. */
  readonly latest?: GateDecision;
  /** The task token the workflow waits on while `awaiting-decision`. Never shown outside the store. */
  readonly pendingToken?: string;
  /** The id of the event that started the attempt, when one did: its redelivery starts no other. */
  readonly trigger?: string;
  /** What ended the attempt when it failed (a step that kept failing). */
  readonly error?: string;
  readonly updatedAt: string;
  /** Incremented by every write; conditional writes compare it. */
  readonly version: number;
}

/** Statuses of an attempt still under way: a new start would run a second workflow beside it. */
export const RUNNING_GATE_STATUSES: ReadonlySet<GateStatus> = new Set([
  'evaluating',
  'caution',
  'awaiting-decision',
]);
