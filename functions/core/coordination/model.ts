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
  /** The claim an agent holds on the task, while it works on it (in_progress, in_review). */
  readonly claim?: TaskClaim;
  /** The agent that last claimed the task; kept after it is done or released, so the trail reads well. */
  readonly assignee?: string;
  /** How the task's move to done was verified (its evidence, or who overrode it); only while done. */
  readonly verification?: Verification;
  /**
   * What GitHub said about the pull requests naming the task (the newest few), kept only for tasks
   * whose evidence needs them (`pr-merged`, `checks-passed`).
   */
  readonly pullRequests?: readonly PullRequestEvidence[];
  /** Incremented by every write; conditional writes compare it. */
  readonly version: number;
}

/**
 * How a done task was verified: every piece of its evidence (as read: "PR #42 merged", "CI green on
 * abc1234", "handoff h-… confirmed", "coverage.unit 84 ≥ 80"), or an override by its owner or an
 * admin, with the note and what was missing then.
 */
export type Verification =
  | { readonly by: 'evidence'; readonly items: readonly string[]; readonly at: string }
  | {
      readonly by: 'override';
      readonly actor: string;
      readonly note: string;
      readonly missing: readonly string[];
      readonly at: string;
    };

/** A pull request naming a task, as GitHub reported it. */
export interface PullRequestEvidence {
  /** owner/name. */
  readonly repo: string;
  readonly number: number;
  /** The PR's head commit: the checks that count ran on it. */
  readonly headSha: string;
  readonly merged: boolean;
  /** When Convoy last heard about it. */
  readonly at: string;
  /** The latest conclusion of each check suite or workflow (by name) on the head commit. */
  readonly checks?: Readonly<Record<string, string>>;
}

/**
 * An agent's claim on a task: only the holder of its lease id may move the task, raise its blockers
 * or hand it off (the fencing token), until the lease expires without a heartbeat naming the task.
 */
export interface TaskClaim {
  readonly agent: string;
  /** The lease id: the fencing token every write on the task must carry. */
  readonly lease: string;
  /** When the claim was taken. */
  readonly at: string;
  /** Renewed by every heartbeat naming the task; past it, the monitor releases the task. */
  readonly expiresAt: string;
}

export type LeaseMode = 'exclusive' | 'shared';

/** A lease on a resource of the plan or on files (path globs), held by an agent or a person. */
export interface ResourceLease {
  readonly id: string;
  /** As the audit trail names actors: `agent:api-agent`, `person:pm`, `admin`. */
  readonly holder: string;
  readonly resource?: string;
  /** The path globs the lease covers (a resource's `paths`, or the ones asked for). */
  readonly paths: readonly string[];
  readonly mode: LeaseMode;
  /** The task the lease was taken for (a claim takes shared leases on what its task `touches`). */
  readonly task?: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

/** Every resource lease of a project, as one versioned record: taking one is a conditional write. */
export interface LeaseSet {
  readonly leases: readonly ResourceLease[];
  /** 0 while the project never had a lease. */
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

/** What an agent reports with a heartbeat, stamped with when it arrived. */
export interface Heartbeat {
  readonly at: string;
  readonly task?: string;
  readonly completion?: number;
  readonly risk?: Risk;
  readonly note?: string;
}

/**
 * An agent's state once `heartbeat` is written over `before` (its state before; none for an agent
 * never heard from): what it reported replaces what it had, it counts one more heartbeat, and it is
 * no longer down.
 */
export function afterHeartbeat(
  before: AgentState | undefined,
  agent: string,
  heartbeat: Heartbeat,
): AgentState {
  const { downSince: _down, ...kept } = before ?? ({} as Partial<AgentState>);
  const reported = Object.fromEntries(
    Object.entries({
      currentTask: heartbeat.task,
      completion: heartbeat.completion,
      risk: heartbeat.risk,
      note: heartbeat.note,
    }).filter(([, value]) => value !== undefined),
  );
  return {
    ...kept,
    ...reported,
    id: agent,
    lastHeartbeatAt: heartbeat.at,
    heartbeats: (before?.heartbeats ?? 0) + 1,
    version: (before?.version ?? 0) + 1,
  };
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
  /** The resource leases, expired ones included (a store that keeps none may leave it out). */
  readonly leases?: readonly ResourceLease[];
}
