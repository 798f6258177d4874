import type { Escalation, EscalationChange } from './escalations/model.js';
import type { GateDecision } from './gates/decision.js';
import { shortHash } from './hash.js';
import type { TaskStatus } from './plan/index.js';

/**
 * Convoy's domain events: what it tells the world (an EventBridge bus deployed, an in-process bus in
 * `convoy dev`) so that teams can extend it with their own rules, and so that the phase-gate workflow
 * starts when a phase's tasks are done. docs/events.md documents every shape; the constants here are
 * shared by the adapter, the CDK constructs and the docs.
 *
 * @module
 */

/** The `source` of every Convoy event on EventBridge. */
export const CONVOY_EVENT_SOURCE = 'convoy';

/** Every domain event type, in the order docs/events.md lists them. */
export const DOMAIN_EVENT_TYPES = [
  'task.changed',
  'phase.tasks_completed',
  'phase.passed',
  'gate.decided',
  'escalation.opened',
  'escalation.escalated',
  'escalation.acknowledged',
  'escalation.resolved',
  'agent.down',
  'agent.up',
  'metrics.recorded',
  'event.recorded',
  'task.claimed',
  'task.released',
  'lease.acquired',
  'lease.released',
  'lease.expired',
  'resource.conflict',
] as const;

export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

/** The EventBridge `detail-type` of each event type: what rules usually match on. */
export const DETAIL_TYPES = {
  'task.changed': 'Task Changed',
  'phase.tasks_completed': 'Phase Tasks Completed',
  'phase.passed': 'Phase Passed',
  'gate.decided': 'Gate Decided',
  'escalation.opened': 'Escalation Opened',
  'escalation.escalated': 'Escalation Escalated',
  'escalation.acknowledged': 'Escalation Acknowledged',
  'escalation.resolved': 'Escalation Resolved',
  'agent.down': 'Agent Down',
  'agent.up': 'Agent Up',
  'metrics.recorded': 'Metrics Recorded',
  'event.recorded': 'Event Recorded',
  'task.claimed': 'Task Claimed',
  'task.released': 'Task Released',
  'lease.acquired': 'Lease Acquired',
  'lease.released': 'Lease Released',
  'lease.expired': 'Lease Expired',
  'resource.conflict': 'Resource Conflict',
} as const satisfies Record<DomainEventType, string>;

export type DomainEventDetailType = (typeof DETAIL_TYPES)[DomainEventType];

/** A task moved along its lifecycle, or its blocker was raised or lifted. */
export interface TaskChangedDetail {
  readonly project: string;
  readonly task: string;
  /** The phase the task belongs to. */
  readonly phase: string;
  /** The agent working on the task (the plan's, else its claim's); absent for an unassigned task nobody claimed. */
  readonly agent?: string;
  readonly from: TaskStatus;
  /** Equal to `from` when only the blocker changed. */
  readonly to: TaskStatus;
  /** Present when the change raised (`true`) or lifted (`false`) the task's blocker. */
  readonly blocked?: boolean;
  /** Why the task is blocked, when `blocked` is true. */
  readonly blockedReason?: string;
  /** Present (true) when finishing the task lifted the blocker it had. */
  readonly unblocked?: true;
  /** The task's version after the change: orders the changes of one task. */
  readonly version: number;
  /** The actor, as the audit trail writes it (`agent:grpc-agent`, `person:pm`, `integration:jira`). */
  readonly by: string;
  readonly note?: string;
  readonly at: string;
}

/** An agent claimed a task: it is in progress, and only the holder of the lease may move it. */
export interface TaskClaimedDetail {
  readonly project: string;
  readonly task: string;
  readonly phase: string;
  /** The agent that holds the claim. */
  readonly agent: string;
  /** When the claim lapses unless a heartbeat naming the task renews it. */
  readonly expiresAt: string;
  /** The task's version after the claim. */
  readonly version: number;
  readonly by: string;
  readonly at: string;
}

/** A claim ended without the task being done: it is ready again for the next claim. */
export interface TaskReleasedDetail {
  readonly project: string;
  readonly task: string;
  readonly phase: string;
  /** The agent that held the claim. */
  readonly agent: string;
  /** `released`: given back; `expired`: the lease ran out without a heartbeat naming the task. */
  readonly reason: 'released' | 'expired';
  readonly version: number;
  readonly by: string;
  readonly at: string;
}

/** A resource lease was taken, given back or ran out. */
export interface LeaseDetail {
  readonly project: string;
  readonly lease: string;
  /** As the audit trail names actors: `agent:api-agent`, `person:pm`. */
  readonly holder: string;
  readonly resource?: string;
  readonly paths: readonly string[];
  readonly mode: 'exclusive' | 'shared';
  readonly task?: string;
  readonly expiresAt: string;
  readonly at: string;
}

/**
 * Someone asked for a lease that overlaps another holder's: refused (409), or taken anyway by the
 * resource's owner (`overridden`), who always may (`source` absent or `lease`). Or a push or pull
 * request (`source`) changed files of a resource that another agent holds an exclusive lease on, or
 * that another agent owns while the one who changed it holds no lease on it. Every agent of the plan
 * should hear of the first; both agents and the owner hear of the second.
 */
export interface ResourceConflictDetail {
  readonly project: string;
  readonly resource?: string;
  /** The globs asked for (a lease), or the changed paths that fall in the resource (a change; the first 20). */
  readonly paths: readonly string[];
  /** Who asked or changed, as the audit trail names actors (`agent:coder-b`). */
  readonly requestedBy: string;
  /** The lease it collided with, its holder and task; absent when a change collided with an owner, not a lease. */
  readonly lease?: string;
  readonly holder?: string;
  readonly task?: string;
  readonly overridden: boolean;
  /** What raised it: a lease request (also when absent), a push, or a pull request's files. */
  readonly source?: 'lease' | 'push' | 'pull_request';
  /** The repository of the push or pull request. */
  readonly repository?: string;
  /** The head commit of the push (its full SHA). */
  readonly commit?: string;
  /** The pull request's number. */
  readonly pr?: number;
  /** The branch changed. */
  readonly branch?: string;
  /** The agent id that changed the resource's files. */
  readonly changedBy?: string;
  /** The agent id that owns the resource in the plan. */
  readonly owner?: string;
  /** How many changed paths fall in the resource (`paths` holds the first 20). */
  readonly changedPaths?: number;
  readonly at: string;
}

/** Every task of a phase is done: time to evaluate its gate (or to pass it when it has none). */
export interface PhaseTasksCompletedDetail {
  readonly project: string;
  readonly phase: string;
  /** The phase's gate, or null when it has none. */
  readonly gate: string | null;
  readonly at: string;
}

/** A phase passed: by its gate's decision, or because its tasks are done and it has no gate. */
export interface PhasePassedDetail {
  readonly project: string;
  readonly phase: string;
  readonly gate: string | null;
  readonly by: 'gate-decision' | 'all-tasks-done';
  /** Phases that became active because this one passed. */
  readonly activated: readonly string[];
  readonly at: string;
}

/** One criterion of a gate as it was evaluated. */
export interface GateCriterionDetail {
  readonly metric: string;
  /** The metric's latest value, or null when it has none yet. */
  readonly value: number | null;
  /** The GO condition as written in the plan. */
  readonly go: string;
  /** The CAUTION condition as written in the plan, if the criterion has one. */
  readonly caution?: string;
  readonly goHolds: boolean;
  readonly cautionHolds: boolean;
}

/** A gate was evaluated, or a person overrode an evaluation. */
export interface GateDecidedDetail {
  readonly project: string;
  readonly gate: string;
  readonly phase: string | null;
  readonly attempt: number;
  /** The evaluated decision; `override` says what a person did instead. */
  readonly decision: 'GO' | 'CAUTION' | 'NO-GO';
  readonly override?: 'advance' | 'hold';
  /** `person:tech-lead` or `admin`, when a person decided. */
  readonly decidedBy?: string;
  readonly note?: string;
  readonly criteria: readonly GateCriterionDetail[];
  /** Tasks of the gate's phase that were not done. */
  readonly tasksNotDone: readonly string[];
  readonly at: string;
}

/** An escalation as events show it: enough to route it, not its whole history. */
export interface EscalationSummary {
  readonly id: string;
  readonly rule: string;
  readonly subject: string;
  /** The agent the escalation is about, when there is one. */
  readonly agent?: string;
  /** 1-based level on the rule's ladder. */
  readonly level: number;
  readonly status: 'open' | 'acknowledged' | 'resolved';
  /** Person ids of the current level. */
  readonly targets: readonly string[];
  /** Why it was opened, as a sentence. */
  readonly reason: string;
}

/** An escalation opened, climbed a level, was acknowledged or was resolved. */
export interface EscalationDetail {
  readonly project: string;
  readonly escalation: EscalationSummary;
  /** The person who acknowledged or resolved it (`person:pm`, `admin`); absent when Convoy did. */
  readonly by?: string;
  /** How a resolved escalation ended. */
  readonly resolution?: 'condition-cleared' | 'resolved-by-event' | 'person';
  readonly at: string;
}

/** An agent missed two heartbeat intervals. */
export interface AgentDownDetail {
  readonly project: string;
  readonly agent: string;
  readonly lastHeartbeatAt: string;
  readonly at: string;
}

/** An agent that was down sent a heartbeat again. */
export interface AgentUpDetail {
  readonly project: string;
  readonly agent: string;
  readonly downSince: string;
  readonly at: string;
}

/** Metric points were posted: the newest point of each metric the request named. */
export interface MetricsRecordedDetail {
  readonly project: string;
  readonly metrics: readonly { readonly name: string; readonly value: number; readonly at: string }[];
  readonly at: string;
}

/**
 * An event was added to the audit trail for escalation rules to hear: posted to the events API
 * (`POST /v1/plans/{project}/events`), or recorded by Convoy itself (`sync.failed`).
 */
export interface EventRecordedDetail {
  readonly project: string;
  /** The audit trail's id of the event. */
  readonly event: string;
  readonly type: string;
  readonly subject?: string;
  readonly note?: string;
  /** What else Convoy recorded with an event of its own (`sync.failed`: the outbox `entry`). */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Who posted it, as the audit trail writes it. */
  readonly by: string;
  readonly at: string;
}

/** The detail shape of each event type. */
export interface DomainEventDetails {
  readonly 'task.changed': TaskChangedDetail;
  readonly 'phase.tasks_completed': PhaseTasksCompletedDetail;
  readonly 'phase.passed': PhasePassedDetail;
  readonly 'gate.decided': GateDecidedDetail;
  readonly 'escalation.opened': EscalationDetail;
  readonly 'escalation.escalated': EscalationDetail;
  readonly 'escalation.acknowledged': EscalationDetail;
  readonly 'escalation.resolved': EscalationDetail;
  readonly 'agent.down': AgentDownDetail;
  readonly 'agent.up': AgentUpDetail;
  readonly 'metrics.recorded': MetricsRecordedDetail;
  readonly 'event.recorded': EventRecordedDetail;
  readonly 'task.claimed': TaskClaimedDetail;
  readonly 'task.released': TaskReleasedDetail;
  readonly 'lease.acquired': LeaseDetail;
  readonly 'lease.released': LeaseDetail;
  readonly 'lease.expired': LeaseDetail;
  readonly 'resource.conflict': ResourceConflictDetail;
}

/**
 * One domain event: the EventBridge event's `detail`. `project` and `at` repeat the detail's so that
 * every event can be routed and ordered the same way.
 */
export type DomainEvent = {
  readonly [T in DomainEventType]: {
    /**
     * Derived from what the event is about (never from the time it is published), so publishing the
     * same event again, or rebuilding it from stored state on a retry, gives the same id: consumers
     * de-duplicate on it.
     */
    readonly id: string;
    readonly type: T;
    readonly project: string;
    readonly at: string;
    readonly detail: DomainEventDetails[T];
  };
}[DomainEventType];

export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { readonly type: T }>;

/**
 * Where Convoy publishes its domain events: EventBridge deployed, an in-process bus locally.
 * Delivery to subscribers is at least once and asynchronous; `publish` resolves once the bus has
 * accepted every event and throws when it could not take some of them.
 */
export interface DomainEventBus {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

type KeyPart = string | number;

// What makes each event unique besides its type and project. A retried use case rebuilds these parts
// from stored state (a task's version, an escalation's level, a heartbeat's time), so ids repeat.
const KEYS: { readonly [T in DomainEventType]: (detail: DomainEventDetails[T]) => readonly KeyPart[] } = {
  'task.changed': (d) => [d.task, `v${d.version}`],
  'phase.tasks_completed': (d) => [d.phase, d.at],
  'phase.passed': (d) => [d.phase],
  'gate.decided': (d) => [d.gate, d.attempt, ...(d.override ? [d.override] : [])],
  'escalation.opened': (d) => [d.escalation.id],
  'escalation.escalated': (d) => [d.escalation.id, `level-${d.escalation.level}`],
  'escalation.acknowledged': (d) => [d.escalation.id, `level-${d.escalation.level}`],
  'escalation.resolved': (d) => [d.escalation.id],
  'agent.down': (d) => [d.agent, d.lastHeartbeatAt],
  'agent.up': (d) => [d.agent, d.downSince],
  'metrics.recorded': (d) => [d.at, shortHash(JSON.stringify(d.metrics))],
  'event.recorded': (d) => [d.event],
  'task.claimed': (d) => [d.task, `v${d.version}`],
  'task.released': (d) => [d.task, `v${d.version}`],
  'lease.acquired': (d) => [d.lease],
  'lease.released': (d) => [d.lease],
  'lease.expired': (d) => [d.lease],
  'resource.conflict': (d) =>
    d.source === 'push' || d.source === 'pull_request'
      ? [d.resource ?? d.lease ?? '', d.requestedBy, d.commit ?? `pr-${d.pr ?? 0}`, d.at]
      : [d.lease ?? '', d.requestedBy, d.at],
};

/**
 * `<type>/<project>/<key>/...`, e.g. `task.changed/sprint-20/api-auth/v3`: readable, and unique because
 * `%` and `/` inside a part are escaped.
 */
export function domainEventId<T extends DomainEventType>(type: T, detail: DomainEventDetails[T]): string {
  const escapePart = (part: KeyPart) => String(part).replaceAll('%', '%25').replaceAll('/', '%2F');
  return [type, detail.project, ...KEYS[type](detail)].map(escapePart).join('/');
}

/** The event of this type with this detail, with its deterministic id. */
export function domainEvent<T extends DomainEventType>(
  type: T,
  detail: DomainEventDetails[T],
): DomainEventOf<T> {
  return {
    id: domainEventId(type, detail),
    type,
    project: detail.project,
    at: detail.at,
    detail,
  } as DomainEventOf<T>;
}

/** `gate.decided` for a recorded gate decision. */
export function gateDecidedEvent(project: string, decision: GateDecision): DomainEventOf<'gate.decided'> {
  return domainEvent('gate.decided', {
    project,
    gate: decision.gate,
    phase: decision.phase,
    attempt: decision.attempt,
    decision: decision.decision,
    ...(decision.override ? { override: decision.override } : {}),
    ...(decision.decidedBy ? { decidedBy: decision.decidedBy } : {}),
    ...(decision.note ? { note: decision.note } : {}),
    criteria: decision.evaluation.criteria.map((criterion) => ({
      metric: criterion.metric,
      value: criterion.value,
      go: criterion.go,
      ...(criterion.caution === undefined ? {} : { caution: criterion.caution }),
      goHolds: criterion.goHolds,
      cautionHolds: criterion.cautionHolds,
    })),
    tasksNotDone: decision.evaluation.tasksNotDone,
    at: decision.at,
  });
}

/** `event.recorded` for an event of the audit trail, written with it so escalation rules follow it. */
export function eventRecordedEvent(
  project: string,
  recorded: {
    readonly id: string;
    readonly type: string;
    readonly subject?: string;
    readonly note?: string;
    readonly data?: Readonly<Record<string, unknown>>;
    readonly actor: string;
    readonly at: string;
  },
): DomainEventOf<'event.recorded'> {
  return domainEvent('event.recorded', {
    project,
    event: recorded.id,
    type: recorded.type,
    ...(recorded.subject ? { subject: recorded.subject } : {}),
    ...(recorded.note ? { note: recorded.note } : {}),
    ...(recorded.data ? { data: recorded.data } : {}),
    by: recorded.actor,
    at: recorded.at,
  });
}

type EscalationEventType =
  | 'escalation.opened'
  | 'escalation.escalated'
  | 'escalation.acknowledged'
  | 'escalation.resolved';

// The kinds of change that are events; updates, reminders and reassignment proposals are not.
const ESCALATION_EVENT_TYPES: ReadonlyMap<EscalationChange['kinds'][number], EscalationEventType> = new Map([
  ['opened', 'escalation.opened'],
  ['escalated', 'escalation.escalated'],
  ['acknowledged', 'escalation.acknowledged'],
  ['resolved', 'escalation.resolved'],
]);

/**
 * The events of one escalation change, in the order its `kinds` list them. The time is when the change
 * happened: the resolution's, the acknowledgement's, the level's start or the opening.
 */
export function escalationEvents(change: Pick<EscalationChange, 'kinds' | 'escalation'>): DomainEvent[] {
  const { escalation } = change;
  const events: DomainEvent[] = [];
  for (const kind of change.kinds) {
    const type = ESCALATION_EVENT_TYPES.get(kind);
    if (type) events.push(escalationEvent(type, escalation));
  }
  return events;
}

function escalationEvent(type: EscalationEventType, escalation: Escalation): DomainEvent {
  const summary: EscalationSummary = {
    id: escalation.id,
    rule: escalation.rule,
    subject: escalation.subject,
    ...(escalation.agent === undefined ? {} : { agent: escalation.agent }),
    level: escalation.level,
    status: escalation.status,
    targets: escalation.targets,
    reason: escalation.reason,
  };
  const who = (by: string | undefined) => (by === undefined ? {} : { by });
  switch (type) {
    case 'escalation.opened':
      return domainEvent(type, { project: escalation.project, escalation: summary, at: escalation.openedAt });
    case 'escalation.escalated':
      return domainEvent(type, {
        project: escalation.project,
        escalation: summary,
        at: escalation.levelSince,
      });
    case 'escalation.acknowledged':
      return domainEvent(type, {
        project: escalation.project,
        escalation: summary,
        ...who(escalation.acknowledgedBy),
        at: escalation.acknowledgedAt ?? escalation.levelSince,
      });
    case 'escalation.resolved':
      return domainEvent(type, {
        project: escalation.project,
        escalation: summary,
        ...who(escalation.resolvedBy),
        ...(escalation.resolution === undefined ? {} : { resolution: escalation.resolution }),
        at: escalation.resolvedAt ?? escalation.levelSince,
      });
  }
}

/**
 * The event as an EventBridge target receives it (a Lambda function's `event`). The in-process bus
 * hands its subscribers the same shape, so a handler never knows where it runs.
 */
export interface DomainEventEnvelope<E extends DomainEvent = DomainEvent> {
  readonly version: '0';
  /** EventBridge's id of this delivery's event: new on every publish. De-duplicate on `detail.id`. */
  readonly id: string;
  readonly 'detail-type': DomainEventDetailType;
  readonly source: typeof CONVOY_EVENT_SOURCE;
  readonly account: string;
  /** The event's `at`, to the second, as EventBridge writes times. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: E;
}

/** `2026-01-14T09:30:00Z`: EventBridge's `time` has whole seconds. */
export function eventBridgeTime(at: string): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * What a rule matches, as Convoy's own rules use it: every field given must match one of its values;
 * a field left out matches every event.
 */
export interface DomainEventRule {
  readonly detailType?: DomainEventDetailType | readonly DomainEventDetailType[];
  readonly type?: DomainEventType | readonly DomainEventType[];
  readonly project?: string | readonly string[];
}

/** An EventBridge event pattern of exact values, as `aws events put-rule --event-pattern` takes it. */
export interface DomainEventPattern {
  readonly source: readonly string[];
  readonly 'detail-type'?: readonly string[];
  readonly detail?: {
    readonly type?: readonly string[];
    readonly project?: readonly string[];
  };
}

const list = <T>(value: T | readonly T[]): readonly T[] =>
  Array.isArray(value) ? (value as readonly T[]) : [value as T];

/** The EventBridge event pattern of a rule: `source` is always Convoy's. */
export function domainEventPattern(rule: DomainEventRule = {}): DomainEventPattern {
  const detail = {
    ...(rule.type === undefined ? {} : { type: list(rule.type) }),
    ...(rule.project === undefined ? {} : { project: list(rule.project) }),
  };
  return {
    source: [CONVOY_EVENT_SOURCE],
    ...(rule.detailType === undefined ? {} : { 'detail-type': list(rule.detailType) }),
    ...(Object.keys(detail).length === 0 ? {} : { detail }),
  };
}

/**
 * Whether an event matches a pattern of exact values the way EventBridge matches it: every field of the
 * pattern must be in the event, a list matches when the event's value (or one of the event's values,
 * for an array) equals one of its entries, and nested objects match field by field.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(event) ? event : [event];
    return values.some((value) => pattern.some((allowed) => allowed === value));
  }
  if (pattern === null || typeof pattern !== 'object') return false;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const fields = event as Readonly<Record<string, unknown>>;
  return Object.entries(pattern).every(
    ([key, expected]) => Object.hasOwn(fields, key) && matchesPattern(expected, fields[key]),
  );
}
