import type {
  AgentState,
  AuditEvent,
  Handoff,
  Heartbeat,
  LeaseSet,
  MetricPoint,
  PhaseState,
  ProjectSnapshot,
  StoredPlan,
  TaskState,
} from './coordination/model.js';
import type { DomainEvent } from './domain-events.js';
import type { Escalation, EscalationStatus } from './escalations/model.js';
import type { GateDecision } from './gates/decision.js';
import type { GateState } from './gates/state.js';
import type { ChatMessage, NewIssue, OutboxCommand, OutboxEntry, RemoteLink } from './integrations/model.js';
import type { Plan } from './plan/index.js';

/** The interfaces the core needs from the outside world. Adapters implement them. */

// Defined with the outbox commands that carry it (integrations/model.ts), which must not import this file.
export type { ChatMessage } from './integrations/model.js';

export interface Clock {
  now(): Date;
}

/**
 * Waits `ms` milliseconds of real time, whatever the clock shows: the backoff between the attempts of
 * a step that lost a race. An adapter implements it (adapters/node/timers.ts); the core has no timers.
 */
export type Pause = (ms: number) => Promise<void>;

/** What choosing a task to claim reads of each task. */
export type TaskSummary = Pick<TaskState, 'id' | 'status' | 'blocked' | 'claim' | 'version'>;

/** A conditional write: applied only if the item still has `expectedVersion` (0 = must not exist). */
export interface VersionedWrite<T> {
  readonly next: T;
  readonly expectedVersion: number;
}

export interface EventPage {
  readonly events: AuditEvent[];
  /** Opaque; pass it back to get the next (older) page. Absent on the last page. */
  readonly cursor?: string;
}

/**
 * Coordination state of every project. Every method that changes state is atomic: it either
 * happens completely or not at all, and conditional writes fail with `VersionConflictError`.
 */
export interface CoordinationStore {
  currentPlan(project: string): Promise<StoredPlan | undefined>;
  /** Every project that has a plan (webhooks carry no project; they are routed to these). */
  listProjects(): Promise<string[]>;
  /**
   * Stores a new plan version and makes it current, creating the state of phases (pending), tasks
   * (todo) and agents that have none; existing state is kept, so progress survives a re-apply. Fails with `VersionConflictError` when the current
   * version is no longer `expectedVersion` (0 when there is none).
   */
  savePlan(
    project: string,
    plan: Plan,
    expectedVersion: number,
    meta: { at: string; by: string; event: AuditEvent },
  ): Promise<StoredPlan>;
  /**
   * The project's change counter: the current plan version and the number of domain event batches
   * the publisher has delivered for the project since that version was applied (a new plan version
   * starts again at 0, so `<version>.<changes>` never repeats). Undefined when it has no plan. One
   * read of the plan pointer, which the dashboard polls; it primes the pointer `currentPlan` reads.
   */
  changes(project: string): Promise<{ readonly version: number; readonly changes: number } | undefined>;
  /**
   * Adds `n` to the project's change counter (the publisher, once per batch of its domain events);
   * a project without a plan has no counter and is left alone.
   */
  bumpChanges(project: string, n: number): Promise<void>;
  snapshot(project: string): Promise<ProjectSnapshot | undefined>;
  getTasks(project: string, ids: readonly string[]): Promise<Map<string, TaskState>>;
  getPhase(project: string, id: string): Promise<PhaseState | undefined>;
  /**
   * Tasks and one phase in a single read: what a transition needs to check the lifecycle, with the
   * phase's done count as it was then (see `countDone`; 0 when none is done).
   */
  getTaskContext(
    project: string,
    taskIds: readonly string[],
    phase: string,
  ): Promise<{ tasks: Map<string, TaskState>; phase?: PhaseState; done: number }>;
  /**
   * Adds `delta` to the count of a phase's tasks that are done and returns the new count: a cheap
   * hint of when the phase may be complete, verified against the tasks themselves before it passes.
   */
  countDone(project: string, phase: string, delta: number): Promise<number>;
  /**
   * Writes a change and every consequence of it in one transaction: all or nothing (a transactional
   * outbox). A change one transaction cannot hold (100 items, 4 MB) fails with `UnprocessableError`
   * before anything is written.
   */
  commit(project: string, change: Change): Promise<void>;
  /**
   * A summary of every task that has state (id, status, blocked, claim, version: enough to choose the
   * next task to claim; a task without state is todo) and every phase, read in one pass.
   */
  taskSummaries(
    project: string,
  ): Promise<{ tasks: Map<string, TaskSummary>; phases: Map<string, PhaseState> }>;
  /** The project's resource leases, expired ones included (read consistently). */
  getLeases(project: string): Promise<LeaseSet>;
  /**
   * Moves the expiry of a task's claim to `expiresAt`, if `agent` still holds it, lapsed or not (until
   * the monitor releases it nobody else can take it): one conditional write, no read. False when the
   * claim is gone or another's.
   */
  renewClaim(
    project: string,
    task: string,
    renewal: { agent: string; at: string; expiresAt: string },
  ): Promise<boolean>;
  /**
   * Records a heartbeat without reading first (counts always add up under concurrency): one write.
   * An agent marked down is left as it is, nothing written: `down` says since when, `agent` is its
   * stored state; bring it back up with `commit` and `Change.agentsUp`, in one transaction with the
   * consequences of its return.
   */
  recordHeartbeat(
    project: string,
    agent: string,
    heartbeat: Heartbeat,
  ): Promise<{ agent: AgentState; down?: string }>;
  /**
   * Marks an agent down unless it is already, or a heartbeat newer than `lastHeartbeatAt` arrived
   * meanwhile; false when it did not mark it.
   */
  markAgentDown(
    project: string,
    agent: string,
    mark: { at: string; lastHeartbeatAt: string },
  ): Promise<boolean>;
  /** A metric's points at or after `since`, oldest first. */
  metricHistory(project: string, name: string, since: string): Promise<MetricPoint[]>;
  /** Handoffs recorded at or after `since`, oldest first. */
  listHandoffs(project: string, since: string): Promise<Handoff[]>;
  /**
   * Appends metric points (one transaction, with the domain events given) and moves each metric's
   * latest value forward.
   */
  putMetrics(
    project: string,
    points: readonly MetricPoint[],
    published?: readonly DomainEvent[],
  ): Promise<void>;
  appendEvents(project: string, events: readonly AuditEvent[]): Promise<void>;
  listEvents(
    project: string,
    query: { type?: string; since?: string; limit: number; cursor?: string },
  ): Promise<EventPage>;
}

/** An outbox entry (a JIRA command, a Slack post) queued by the change that calls for it. */
export interface OutboxWrite {
  readonly id: string;
  readonly project: string;
  readonly command: OutboxCommand;
}

/** An agent marked down since `downSince` that sent `heartbeat` (see `Change.agentsUp`). */
export interface AgentUp {
  readonly agent: string;
  readonly downSince: string;
  readonly heartbeat: Heartbeat;
}

/** What `CoordinationStore.commit` writes in one transaction. */
export interface Change {
  readonly tasks?: readonly VersionedWrite<TaskState>[];
  readonly phases?: readonly VersionedWrite<PhaseState>[];
  /** The audit events that record the change. */
  readonly events: readonly AuditEvent[];
  readonly handoffs?: readonly Handoff[];
  /**
   * Marks agents down, each only if it is not yet and its last heartbeat is still `lastHeartbeatAt`
   * (a heartbeat that arrived meanwhile wins: the whole change fails with `VersionConflictError`).
   */
  readonly agentsDown?: readonly {
    readonly agent: string;
    readonly at: string;
    readonly lastHeartbeatAt: string;
  }[];
  /**
   * Brings agents marked down back up: writes each one's heartbeat (as `recordHeartbeat`) and removes
   * its down mark, only if it is still down since `downSince` and the heartbeat is not older than its
   * last one (a concurrent heartbeat that brought it back wins: the whole change fails with
   * `VersionConflictError`).
   */
  readonly agentsUp?: readonly AgentUp[];
  /** Replaces the project's resource leases, if they are still at `expectedVersion` (see `getLeases`). */
  readonly leases?: VersionedWrite<LeaseSet>;
  /** Moves the done counters of phases (see `countDone`) with the tasks that moved them. */
  readonly doneCounts?: readonly { readonly phase: string; readonly delta: number }[];
  /** JIRA commands and Slack posts the change calls for, due at `now`. */
  readonly outbox?: { readonly entries: readonly OutboxWrite[]; readonly now: Date };
  /**
   * The domain events the change publishes, stored as items of the table; the publisher delivers them
   * afterwards, at least once, from the table's stream.
   */
  readonly published?: readonly DomainEvent[];
}

/** One escalation write: put only if the stored escalation is still at `expectedVersion`. */
export interface EscalationWrite {
  readonly escalation: Escalation;
  /** 0: create, only if no unresolved escalation has the same `dedupKey` (nor any this id). */
  readonly expectedVersion: number;
}

export interface EscalationPage {
  readonly escalations: Escalation[];
  /** Opaque; pass it back to get the next (older) page. Absent on the last page. */
  readonly cursor?: string;
}

/**
 * The escalations of every project: the unresolved ones (at most one per dedup key) and the
 * resolved history. Writes are conditional and fail with `VersionConflictError`.
 */
export interface EscalationStore {
  /** Every open or acknowledged escalation of the project, read consistently. */
  unresolvedEscalations(project: string): Promise<Escalation[]>;
  /**
   * Writes every change, and the audit events that record them, in one transaction: all or none.
   * A change whose escalation is `resolved` moves it from the unresolved set into the history;
   * expectedVersion 0 fails while another escalation with the same dedup key is unresolved, so
   * two writers opening the same rule and subject at once cannot both succeed.
   */
  saveEscalations(
    project: string,
    changes: readonly EscalationWrite[],
    events?: readonly AuditEvent[],
    /**
     * Outbox entries (the posts and JIRA issues the changes call for), queued in the same transaction:
     * a crash after the save cannot lose a notice.
     */
    notices?: {
      readonly entries: readonly { id: string; project: string; command: OutboxCommand }[];
      readonly now: Date;
    },
    /** The domain events of the changes (`escalation.opened`, ...), written in the same transaction. */
    published?: readonly DomainEvent[],
  ): Promise<void>;
  /** An escalation by id, unresolved or resolved. */
  getEscalation(project: string, id: string): Promise<Escalation | undefined>;
  /** Escalations newest first (by when they opened), optionally of one status only. */
  listEscalations(
    project: string,
    query: { status?: EscalationStatus; limit: number; cursor?: string },
  ): Promise<EscalationPage>;
}

/** Gate state and the history of gate decisions. */
export interface GateStore {
  getGate(project: string, gate: string): Promise<GateState | undefined>;
  listGates(project: string): Promise<GateState[]>;
  /** Conditional on `expectedVersion` (0 = must not exist); `VersionConflictError` otherwise. */
  saveGate(project: string, next: GateState, expectedVersion: number): Promise<void>;
  /**
   * Keeps a decision; the same gate, attempt and evaluation number again replaces it (a retried step).
   * `published` (its `gate.decided`) is written in the same transaction; the publisher delivers it
   * afterwards, at least once, from the table's stream.
   */
  recordGateDecision(
    project: string,
    decision: GateDecision,
    evaluation: number,
    published?: readonly DomainEvent[],
  ): Promise<void>;
  /** A gate's decisions, newest first. */
  gateDecisions(project: string, gate: string, limit: number): Promise<GateDecision[]>;
}

/** Rendered report charts, kept so they can be shown later (`convoy report`, the API). */
export interface ChartArchive {
  saveChart(project: string, name: string, chart: { at: string; png: Uint8Array }): Promise<void>;
  /** The most recent chart of this name. */
  latestChart(project: string, name: string): Promise<{ at: string; png: Uint8Array } | undefined>;
  chartAt(project: string, name: string, at: string): Promise<{ at: string; png: Uint8Array } | undefined>;
}

export type TokenRole = 'admin' | 'agent' | 'person';

export interface TokenRecord {
  /** The token's public id (part of the token, not its secret): listed, and used to revoke it. */
  readonly id: string;
  readonly role: TokenRole;
  /** The project an agent or person token belongs to; admin tokens serve every project. */
  readonly project?: string;
  /** The agent or person id. */
  readonly subject?: string;
  readonly createdAt: string;
}

/**
 * A token as stored: never the token itself, and sealed with the token key only the Convoy process
 * holds (functions/handlers/http/auth.ts), so an item written straight into the table mints nothing.
 */
export interface StoredToken extends TokenRecord {
  /** HMAC-SHA256 of the token under the token key, hex. */
  readonly verifier: string;
  /** HMAC-SHA256 of the id, role, project, subject, createdAt and verifier under the token key, hex. */
  readonly seal: string;
}

/** The audit event written in the same transaction as a token change. */
export interface TokenAudit {
  readonly project: string;
  readonly event: AuditEvent;
}

/** API tokens, by their public id. */
export interface TokenStore {
  saveToken(token: StoredToken, audit?: TokenAudit): Promise<void>;
  findToken(id: string): Promise<StoredToken | undefined>;
  /** The tokens of a project and every admin token, oldest first (may lag a write by a moment). */
  listTokens(project: string): Promise<StoredToken[]>;
  /** Deletes a token: false when there was none with this id. */
  deleteToken(id: string, audit?: TokenAudit): Promise<boolean>;
}

export type IdempotencyClaim =
  | { readonly state: 'new' }
  /** Another delivery with this key is being processed right now. */
  | { readonly state: 'in_progress' }
  | { readonly state: 'done'; readonly fingerprint: string; readonly outcome: unknown };

/**
 * Records that a delivery (an API request with an Idempotency-Key, a webhook, a scheduled job) was
 * handled, so a duplicate or a retry has its effect once. Records expire on their own.
 */
export interface IdempotencyStore {
  /** Claims `key` for `holdSeconds` unless a live record holds it already. */
  claim(key: string, fingerprint: string, now: Date, holdSeconds: number): Promise<IdempotencyClaim>;
  /** Stores the outcome of a claimed key, kept for `keepSeconds`. */
  complete(key: string, fingerprint: string, outcome: unknown, now: Date, keepSeconds: number): Promise<void>;
  /** Gives a claimed key up after a failure, so a retry can run. */
  release(key: string): Promise<void>;
}

/** How long `RunOnce` holds a key while its work runs, and how long it keeps the outcome. */
export interface OnceOptions {
  /** What kind of work (`api`, `github`, `jira`, `job`): keys of different kinds never meet. */
  readonly scope: string;
  /** A run that has not finished within this long (it crashed) lets a retry run again. */
  readonly holdSeconds: number;
  /** How long a repeat finds the outcome; longer than any sender retries. */
  readonly keepSeconds: number;
}

/**
 * Runs work at most once per key (Powertools idempotency; records expire on their own). A repeat
 * of a finished run gets its outcome back (`replayed`), without running; a repeat while the first
 * runs is refused with `RunInProgressError`, and one whose fingerprint differs from the first's with
 * `RunKeyReusedError` (core/errors.ts). Work that throws keeps nothing,
 * so a retry runs it again. Outcomes are stored as JSON.
 */
export interface RunOnce {
  run<T>(
    options: OnceOptions,
    key: string,
    fingerprint: string,
    work: () => Promise<T>,
  ): Promise<{ readonly outcome: T; readonly replayed: boolean }>;
}

/**
 * JIRA as Convoy writes to it (jira.js adapter). Methods throw `IntegrationError`, classified as
 * retryable or not. Status names, never transition ids: ids differ between workflows.
 */
export interface IssueTracker {
  /**
   * Moves an issue to the status with this name (case-insensitive) through whichever transition leads
   * there; failing that, runs the transition with this name or name prefix (smart commits name transitions).
   */
  transition(issue: string, status: string): Promise<'moved' | 'already'>;
  /** Adds or updates (by globalId) a remote link on an issue. */
  upsertRemoteLink(issue: string, link: RemoteLink): Promise<void>;
  addComment(issue: string, body: string): Promise<void>;
  addWorklog(issue: string, seconds: number, comment?: string): Promise<void>;
  /**
   * Creates an issue unless one with its label exists: `created` is false when the label was
   * found, and `key` is then the existing issue's.
   */
  createIssue(issue: NewIssue): Promise<{ key: string; created: boolean }>;
}

/**
 * The files a pull request changes, as GitHub lists them (`pulls.listFiles`, Octokit adapter). Only
 * their paths: a renamed file counts under both names.
 */
export interface PullRequestFiles {
  /**
   * The paths of the pull request's files, at most `max` (GitHub itself lists at most 3,000), and
   * whether there were more; `undefined` when no GitHub token is configured, so nothing can be listed.
   * Throws `IntegrationError` when GitHub refuses or fails.
   */
  list(
    pull: { readonly owner: string; readonly repo: string; readonly number: number },
    max: number,
  ): Promise<{ readonly paths: readonly string[]; readonly truncated: boolean } | undefined>;
}

/** Runs one outbox command against the tracker; the entry tells which project (and so which site) it is for. */
export type CommandRunner = (command: OutboxCommand, entry: OutboxEntry) => Promise<void>;

/** The durable queue of JIRA commands and Slack posts (DynamoDB). */
export interface Outbox {
  /** Adds entries; an id already present is left as it is, so redeliveries enqueue nothing new. */
  enqueue(
    entries: readonly { id: string; project: string; command: OutboxCommand }[],
    now: Date,
  ): Promise<number>;
  /** Entries whose `notBefore` has come, oldest first. */
  due(now: Date, limit: number): Promise<OutboxEntry[]>;
  complete(id: string): Promise<void>;
  retryLater(id: string, attempts: number, notBefore: Date, error: string): Promise<void>;
  /** Moves an entry that ran out of retries to the dead-letter store. */
  deadLetter(id: string, attempts: number, error: string, now: Date): Promise<void>;
  deadLetters(): Promise<OutboxEntry[]>;
}

/** A rate limit shared by every worker of a JIRA site (token bucket). */
export interface RateLimiter {
  /** Resolves to 0 when a request may go now, else the milliseconds to wait before asking again. */
  tryAcquire(now: Date): Promise<number>;
}

/** Slack as Convoy posts to it. */
export interface ChatPoster {
  /** Posts a message, or updates the one posted earlier under the same key; returns its ts. */
  post(channel: string, message: ChatMessage, key: string): Promise<string>;
  /**
   * Shares a file (a report's chart) in a channel, once per key: a retry after a success shares
   * nothing new. Returns the file's id.
   */
  upload(channel: string, file: ChatFile, key: string): Promise<string>;
}

export interface ChatFile {
  readonly filename: string;
  readonly title: string;
  readonly bytes: Uint8Array;
  /** Describes the image for screen readers. */
  readonly altText?: string;
}

/**
 * Work handed to a worker to do after the request that produced it has been answered (SQS deployed,
 * an in-process queue locally). Delivery is at least once, so consumers must be idempotent.
 */
export interface WorkQueue<T> {
  send(message: T): Promise<void>;
}
