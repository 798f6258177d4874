import type { Plan } from '../plan/schema.js';

/** An escalation rule of the plan (`escalations[]`), with its defaults applied. */
export type EscalationRule = Plan['escalations'][number];

/** `acknowledged` is still unresolved: someone is on it, and the ladder waits for a while. */
export type EscalationStatus = 'open' | 'acknowledged' | 'resolved';

/**
 * How an escalation ended: its condition stopped holding, the rule's resolving event arrived (its
 * `resolvedBy`, or the built-in `agent.up` / `task.unblocked`), or a person resolved it.
 */
export type EscalationResolution = 'condition-cleared' | 'resolved-by-event' | 'person';

export interface EscalationHistoryEntry {
  readonly at: string;
  /** A short phrase: `opened at level 1`, `level 2: ...`, `acknowledged`, `resolved: ...`. */
  readonly what: string;
  /** The actor, as the audit trail writes it (`person:pm`, `admin`), when a person did it. */
  readonly by?: string;
}

/** Convoy's proposal to hand a down agent's open tasks to its backup (seed 000's emergency procedures). */
export interface Reassignment {
  readonly agent: string;
  /** The agent's backup, or its owner when it has none: the person who takes over. */
  readonly to: string;
  /** The agent's open tasks when the proposal was made. */
  readonly tasks: readonly string[];
  readonly proposedAt: string;
  readonly confirmedBy?: string;
  readonly confirmedAt?: string;
}

/** One escalation: a rule that fired for a subject, and where it stands on the rule's ladder. */
export interface Escalation {
  /** `<rule>:<openedAt, compact>:<hash of the subject>`: unique, URL-safe, and the same for a retry. */
  readonly id: string;
  readonly project: string;
  readonly rule: string;
  /** `condition` for a `when` rule, `event` for an `on` rule. */
  readonly kind: 'condition' | 'event';
  /** The metric of a condition rule; the event's subject (agent, task, person, alert) for an event rule. */
  readonly subject: string;
  /** `<rule>:<subject>`: at most one unresolved escalation per key. */
  readonly dedupKey: string;
  /** The agent the escalation is about, when there is one: `owner` and `backup` resolve through it. */
  readonly agent?: string;
  readonly status: EscalationStatus;
  /** 1-based: 1 is the rule's `notify`, 2 its first `levels` entry, and so on. */
  readonly level: number;
  /** Person ids of the current level, with `owner` / `backup` resolved. */
  readonly targets: readonly string[];
  readonly openedAt: string;
  /** When the current level began (for level 2 and up: when the previous level's SLA lapsed). */
  readonly levelSince: string;
  /**
   * When the next step is due: the current level's SLA from `levelSince`; after an acknowledgement,
   * the SLA from then; at the last level, the next reminder.
   */
  readonly dueAt: string;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAt?: string;
  /**
   * Until when a person snoozed it: before then it neither climbs, nor is posted again, nor proposes
   * a reassignment, and (being unresolved) keeps its rule from opening another for the same subject.
   * `dueAt` is this time meanwhile; then it is open again at its level with a fresh SLA, and posted.
   */
  readonly snoozedUntil?: string;
  readonly snoozedBy?: string;
  readonly resolvedBy?: string;
  readonly resolvedAt?: string;
  readonly resolution?: EscalationResolution;
  /** What the person who resolved it said. */
  readonly note?: string;
  /** The latest value of a condition rule's metric while it holds. */
  readonly lastValue?: number;
  readonly lastValueAt?: string;
  /** How often the rule fired for this subject while the escalation was unresolved (1 when opened). */
  readonly occurrences: number;
  /** Why it was opened, as a sentence. */
  readonly reason: string;
  readonly reassignment?: Reassignment;
  readonly history: readonly EscalationHistoryEntry[];
  /** 1 when opened, then one more per change; conditional writes compare it. */
  readonly version: number;
}

/** What the engine hears: an audit event, an events-API post, a monitor's finding. */
export interface EscalationEvent {
  readonly type: string;
  /** The agent (`agent.down`), task (`task.blocked`), person (`member.unavailable`), alert... */
  readonly subject?: string;
  readonly at: string;
  readonly note?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** A post for the escalations channel. */
export interface EscalationNotice {
  /** Idempotency key for the outbox: the same change never posts twice. */
  readonly key: string;
  /** `integrations.slack.escalations` (which defaults to the project channel); none without Slack. */
  readonly channel: string | undefined;
  readonly text: string;
  /** Person ids to mention. */
  readonly targets: readonly string[];
  /** Slack user ids of those targets that have one in `plan.people`. */
  readonly mentions: readonly string[];
  /** The JIRA issue the rule asks for: only ever on the notice of an opening, and only when the rule has `jira`. */
  readonly jiraIssue?: EscalationJiraIssue;
}

/** Where a rule's JIRA issue goes: the rule's `jira` field with its default type applied. */
export interface EscalationJiraIssue {
  /** A project key of `integrations.jira.projects`. */
  readonly project: string;
  /** The issue type's name, e.g. `Task`. */
  readonly type: string;
}

export type EscalationChangeKind =
  | 'opened'
  | 'updated'
  | 'escalated'
  | 'renotified'
  | 'acknowledged'
  | 'snoozed'
  | 'snooze-ended'
  | 'resolved'
  | 'reassignment-proposed'
  | 'reassignment-confirmed';

/**
 * One write for the caller to make: the escalation's new state, put only if the stored version is
 * still `expectedVersion` (0: put only if no escalation has this id, nor an unresolved one this
 * `dedupKey`). Each call yields at most one change per escalation; `kinds` says everything that
 * happened to it (a tick can climb a level and propose a reassignment at once).
 */
export interface EscalationChange {
  readonly kinds: readonly EscalationChangeKind[];
  readonly escalation: Escalation;
  readonly expectedVersion: number;
  readonly notices: readonly EscalationNotice[];
}
