import type { Plan, TaskStatus } from '../plan/index.js';

/** Who did something. Tokens identify admins, agents and people; `system` is Convoy itself. */
export type Actor =
  | { readonly kind: 'admin' }
  | { readonly kind: 'agent'; readonly id: string }
  | { readonly kind: 'person'; readonly id: string }
  | { readonly kind: 'system' }
  /** A change that arrived from GitHub or JIRA; JIRA's own changes are never echoed back to it. */
  | { readonly kind: 'integration'; readonly id: 'github' | 'jira' };

/** `admin`, `agent:grpc-agent`, `person:pm`, `system`: how an actor appears in the audit trail. */
export function describeActor(actor: Actor): string {
  return actor.kind === 'admin' || actor.kind === 'system' ? actor.kind : `${actor.kind}:${actor.id}`;
}

export type PhaseStatus = 'pending' | 'active' | 'passed';
export type Risk = 'green' | 'yellow' | 'red';
export const RISKS: readonly Risk[] = ['green', 'yellow', 'red'];

export interface TaskState {
  readonly id: string;
  readonly status: TaskStatus;
  readonly blocked: boolean;
  readonly blockedReason?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** When the task last moved to in_progress from todo: the start of its cycle time. */
  readonly startedAt?: string;
  /** When the task became done (kept while it stays done): what burndown and throughput count. */
  readonly doneAt?: string;
  /** Incremented by every write; conditional writes compare it. */
  readonly version: number;
}

export interface PhaseState {
  readonly id: string;
  readonly status: PhaseStatus;
  readonly updatedAt: string;
  readonly version: number;
}

export interface AgentState {
  readonly id: string;
  readonly lastHeartbeatAt?: string;
  readonly currentTask?: string;
  /** 0–100, as the agent last reported it. */
  readonly completion?: number;
  readonly risk?: Risk;
  readonly note?: string;
  /** Set by the heartbeat monitor when the agent missed two intervals; cleared by its next heartbeat. */
  readonly downSince?: string;
  readonly heartbeats: number;
  readonly version: number;
}

export interface MetricPoint {
  readonly name: string;
  readonly value: number;
  /** ISO 8601. */
  readonly at: string;
}

/** One entry of the audit trail: who did what, when, and why. */
export interface AuditEvent {
  /** Sortable by time: ISO timestamp plus a random suffix. */
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly subject?: string;
  readonly note?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface Handoff {
  readonly id: string;
  readonly task: string;
  readonly to: readonly string[];
  readonly checklist: Readonly<Record<string, boolean>>;
  readonly notes?: string;
  readonly at: string;
  readonly by: string;
}

export interface StoredPlan {
  readonly project: string;
  /** 1 for the first plan applied, then one more per change. */
  readonly version: number;
  readonly plan: Plan;
  readonly appliedAt: string;
  readonly appliedBy: string;
}

/** Everything the status of a project is computed from, read in one pass. */
export interface ProjectSnapshot {
  readonly plan: StoredPlan;
  readonly phases: ReadonlyMap<string, PhaseState>;
  readonly tasks: ReadonlyMap<string, TaskState>;
  readonly agents: ReadonlyMap<string, AgentState>;
  /** The latest point of every metric. */
  readonly metrics: ReadonlyMap<string, MetricPoint>;
}
