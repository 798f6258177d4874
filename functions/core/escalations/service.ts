import { type IdGenerator, withRetries } from '../coordination/commands.js';
import { type Actor, type AuditEvent, describeActor } from '../coordination/model.js';
import { auditEvent, requirePlan } from '../coordination/records.js';
import { type DomainEventBus, escalationEvents } from '../domain-events.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { shortHash } from '../hash.js';
import type {
  CreateIssueCommand,
  EscalationAction,
  EscalationPostNotice,
  OutboxCommand,
  SlackPost,
} from '../integrations/model.js';
import type { Plan } from '../plan/schema.js';
import type { Clock, CoordinationStore, EscalationPage, EscalationStore, Outbox, Pause } from '../ports.js';
import { acknowledge, confirmReassignment, resolve, snooze } from './actions.js';
import type {
  Escalation,
  EscalationChange,
  EscalationChangeKind,
  EscalationJiraIssue,
  EscalationNotice,
  EscalationStatus,
} from './model.js';
import { peopleNames } from './notices.js';
import { findRule } from './rules.js';

/** What the escalation use cases need: the plan, the escalations, the outbox for Slack posts and JIRA issues. */
export interface EscalationPorts {
  readonly store: CoordinationStore;
  readonly escalations: EscalationStore;
  /**
   * Where the posts for the escalations channel go, and the JIRA issues of rules with `jira`;
   * without one, nothing is posted or created.
   */
  readonly outbox?: Outbox;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Waits between the attempts of a step that lost a race; without one, it is tried again at once. */
  readonly pause?: Pause;
  /** Where acknowledgements and resolutions are published as domain events, when there is a bus. */
  readonly events?: DomainEventBus;
}

/**
 * A decision of the engine over the current plan and unresolved escalations, e.g.
 * `(plan, open) => onEvent(plan, open, event, clock.now())`. It may be called more than once: after
 * a lost race it is called again with what the winner wrote.
 */
export type EscalationDecision = (
  plan: Plan,
  unresolved: readonly Escalation[],
) => readonly EscalationChange[] | Promise<readonly EscalationChange[]>;

const SYSTEM: Actor = { kind: 'system' };

/** The audit event type of each change kind; `updated` (a new value, one more occurrence) has none. */
const EVENT_TYPES: Readonly<Record<EscalationChangeKind, string | undefined>> = {
  opened: 'escalation.opened',
  updated: undefined,
  escalated: 'escalation.escalated',
  renotified: 'escalation.renotified',
  acknowledged: 'escalation.acknowledged',
  snoozed: 'escalation.snoozed',
  'snooze-ended': 'escalation.snooze_ended',
  resolved: 'escalation.resolved',
  'reassignment-proposed': 'escalation.reassignment_proposed',
  'reassignment-confirmed': 'escalation.reassignment_confirmed',
};

/**
 * Runs one decision of the escalation engine for a project: reads the plan and the unresolved
 * escalations, asks `decide` for the changes and writes them — with their audit events — in one
 * conditional transaction. A lost race (another function changed or opened one of them meanwhile)
 * reads again and decides again, so at most one escalation per rule and subject is ever open. Then
 * each notice of the saved changes goes to the outbox under its own key, so a decision that is
 * repeated after a failure posts nothing twice; so does the JIRA issue of an opening whose rule
 * asks for one. Resolves to the changes written.
 */
export async function runEscalations(
  ports: EscalationPorts,
  project: string,
  decide: EscalationDecision,
): Promise<EscalationChange[]> {
  return withRetries(ports, async () => {
    const stored = await requirePlan(ports, project);
    const unresolved = await ports.escalations.unresolvedEscalations(project);
    const decided = [...(await decide(stored.plan, unresolved))];
    if (decided.length > 0)
      await ports.escalations.saveEscalations(
        project,
        decided.map(({ escalation, expectedVersion }) => ({ escalation, expectedVersion })),
        auditEvents(ports, decided, SYSTEM),
        noticesOf(ports, project, decided, stored.plan),
        decided.flatMap((change) => escalationEvents(change)),
      );
    return decided;
  });
}

export interface EscalationActionInput {
  readonly project: string;
  /** The escalation's id, as the API, the CLI and the Slack buttons carry it. */
  readonly id: string;
  readonly actor: Actor;
  /** Why, in the actor's words: kept in the audit trail (and, on a resolution, on the escalation). */
  readonly note?: string;
}

export interface EscalationActionResult {
  readonly escalation: Escalation;
  /** False when the request changed nothing (acknowledging twice, confirming twice). */
  readonly changed: boolean;
}

/**
 * Acknowledges an escalation: someone is on it, and the ladder waits one SLA period. For an admin
 * or a person its current or an earlier level reached (ForbiddenError otherwise); NotFoundError
 * for an unknown id, ConflictError once it is resolved. Acknowledging twice changes nothing.
 */
export function acknowledgeEscalation(
  ports: EscalationPorts,
  input: EscalationActionInput,
): Promise<EscalationActionResult> {
  return act(ports, input, (plan, escalation, now) => acknowledge(plan, escalation, input.actor, now));
}

/**
 * Snoozes an escalation until a time (see `snooze`), with the same permissions as acknowledging.
 * Snoozing again until the same time changes nothing.
 */
export function snoozeEscalation(
  ports: EscalationPorts,
  input: EscalationActionInput & { until: string },
): Promise<EscalationActionResult> {
  return act(ports, input, (plan, escalation, now) =>
    snooze(plan, escalation, input.actor, now, new Date(input.until), input.note),
  );
}

/**
 * Resolves an escalation on a person's word, with the same permissions as acknowledging. Resolving
 * a resolved escalation is a ConflictError: the caller learns that someone (or the condition
 * clearing) was first.
 */
export function resolveEscalation(
  ports: EscalationPorts,
  input: EscalationActionInput,
): Promise<EscalationActionResult> {
  return act(ports, input, (plan, escalation, now) => {
    const change = resolve(plan, escalation, input.actor, now, input.note);
    if (!change)
      throw new ConflictError(
        `escalation ${escalation.id} is already resolved (${describeResolution(escalation)})`,
      );
    return change;
  });
}

/**
 * Confirms the reassignment the engine proposed for a down agent (its owner or an admin may). The
 * plan is not changed: each of the agent's open tasks gets a `task.reassigned` event naming who
 * takes it over, for the people and the reports. Confirming twice changes nothing.
 */
export function confirmEscalationReassignment(
  ports: EscalationPorts,
  input: EscalationActionInput,
): Promise<EscalationActionResult> {
  return act(
    ports,
    input,
    (plan, escalation, now) => confirmReassignment(plan, escalation, input.actor, now),
    (change, at) => {
      const proposal = change.escalation.reassignment;
      if (!proposal) return [];
      return proposal.tasks.map((task) =>
        auditEvent(ports, at, input.actor, {
          type: 'task.reassigned',
          subject: task,
          ...(input.note ? { note: input.note } : {}),
          data: { from: proposal.agent, to: proposal.to, escalation: change.escalation.id },
        }),
      );
    },
  );
}

/** Escalations of a project newest first, optionally of one status; NotFoundError without a plan. */
export async function listEscalations(
  ports: EscalationPorts,
  input: { project: string; status?: EscalationStatus; limit?: number; cursor?: string },
): Promise<EscalationPage> {
  await requirePlan(ports, input.project);
  const { project, limit, ...query } = input;
  return ports.escalations.listEscalations(project, { ...query, limit: limit ?? 50 });
}

/** An escalation as the status shows it: everything but its history. */
export type EscalationSummary = Omit<Escalation, 'history'>;

export function summarizeEscalation(escalation: Escalation): EscalationSummary {
  const { history: _history, ...summary } = escalation;
  return summary;
}

/** The buttons a post about the escalation, in this state, offers. */
export function escalationActions(escalation: Escalation): EscalationAction[] {
  if (escalation.status === 'resolved') return [];
  const actions: EscalationAction[] = escalation.status === 'open' ? ['ack', 'resolve'] : ['resolve'];
  if (escalation.reassignment && !escalation.reassignment.confirmedAt) actions.push('reassign');
  return actions;
}

/**
 * The key of a notice's post and outbox entry: the notice's key, which names the change, scoped to
 * the project, because escalation ids are only unique within one (two projects with the same rule
 * and subject, decided by one monitor run at one instant, get the same id).
 */
export function escalationPostKey(project: string, notice: EscalationNotice): string {
  return `${project}:${notice.key}`;
}

/** The Slack post of one notice, keyed by the notice so the same change posts once. */
export function escalationPost(
  escalation: Escalation,
  notice: EscalationNotice & { channel: string },
): SlackPost {
  const post: EscalationPostNotice = {
    type: 'escalation',
    project: escalation.project,
    escalation: {
      id: escalation.id,
      rule: escalation.rule,
      subject: escalation.subject,
      level: escalation.level,
      status: escalation.status,
    },
    text: notice.text,
    mentions: [...notice.mentions],
    actions: escalationActions(escalation),
  };
  return {
    kind: 'slack',
    channel: notice.channel,
    key: escalationPostKey(escalation.project, notice),
    notice: post,
  };
}

async function act(
  ports: EscalationPorts,
  input: EscalationActionInput,
  decide: (plan: Plan, escalation: Escalation, now: Date) => EscalationChange | null,
  moreEvents: (change: EscalationChange, at: string) => AuditEvent[] = () => [],
): Promise<EscalationActionResult> {
  const { project, id, actor } = input;
  const outcome = await withRetries(ports, async () => {
    const stored = await requirePlan(ports, project);
    const escalation = await ports.escalations.getEscalation(project, id);
    if (!escalation) throw new NotFoundError(`project ${project} has no escalation ${id}`);
    const now = ports.clock.now();
    const change = decide(stored.plan, escalation, now);
    if (!change) return { escalation, change: undefined };
    const events = [
      ...auditEvents(ports, [change], actor, input.note),
      ...moreEvents(change, now.toISOString()),
    ];
    await ports.escalations.saveEscalations(
      project,
      [{ escalation: change.escalation, expectedVersion: change.expectedVersion }],
      events,
      noticesOf(ports, project, [change]),
      // The publisher delivers them from the table.
      escalationEvents(change),
    );
    return { escalation: change.escalation, change };
  });
  return { escalation: outcome.escalation, changed: outcome.change !== undefined };
}

/** One audit event per kind of each change (subject: the escalation id), in the order given. */
function auditEvents(
  ports: EscalationPorts,
  changes: readonly EscalationChange[],
  actor: Actor,
  note?: string,
): AuditEvent[] {
  const at = ports.clock.now().toISOString();
  return changes.flatMap((change) =>
    change.kinds.flatMap((kind) => {
      const type = EVENT_TYPES[kind];
      if (type === undefined) return [];
      const escalation = change.escalation;
      const said = note ?? change.notices.find((notice) => notice.key.endsWith(`:${kind}`))?.text;
      const by = recordedBy(escalation, kind) ?? describeActor(actor);
      return [
        auditEvent(ports, at, actor, {
          type,
          subject: escalation.id,
          ...(said ? { note: said } : {}),
          data: {
            rule: escalation.rule,
            subject: escalation.subject,
            level: escalation.level,
            status: escalation.status,
            targets: [...escalation.targets],
            by,
            ...(kind === 'resolved' && escalation.resolution ? { resolution: escalation.resolution } : {}),
            ...(kind.startsWith('reassignment') && escalation.reassignment
              ? {
                  agent: escalation.reassignment.agent,
                  to: escalation.reassignment.to,
                  tasks: [...escalation.reassignment.tasks],
                }
              : {}),
          },
        }),
      ];
    }),
  );
}

/** Who the escalation itself says did it, for the kinds a person does. */
function recordedBy(escalation: Escalation, kind: EscalationChangeKind): string | undefined {
  if (kind === 'acknowledged') return escalation.acknowledgedBy;
  if (kind === 'snoozed') return escalation.snoozedBy;
  if (kind === 'resolved') return escalation.resolvedBy;
  if (kind === 'reassignment-confirmed') return escalation.reassignment?.confirmedBy;
  return undefined;
}

/**
 * Every notice of the changes that has a channel, into the outbox under its post's key; with the
 * plan, also the JIRA issue each notice asks for (only an opening's, when its rule has `jira`).
 */
/** The outbox entries of the changes' notices, queued in the transaction that saves the changes. */
function noticesOf(
  ports: EscalationPorts,
  project: string,
  changes: readonly EscalationChange[],
  plan?: Plan,
): { entries: { id: string; project: string; command: OutboxCommand }[]; now: Date } | undefined {
  if (!ports.outbox) return undefined;
  const entries = changes.flatMap((change) =>
    change.notices.flatMap((notice) => {
      const out: { id: string; project: string; command: OutboxCommand }[] = [];
      if (notice.channel !== undefined)
        out.push({
          id: `slack:${escalationPostKey(project, notice)}`,
          project,
          command: escalationPost(change.escalation, { ...notice, channel: notice.channel }),
        });
      if (plan && notice.jiraIssue)
        out.push({
          id: `jira:${escalationPostKey(project, notice)}`,
          project,
          command: escalationIssue(plan, change.escalation, notice, notice.jiraIssue),
        });
      return out;
    }),
  );
  return entries.length > 0 ? { entries, now: ports.clock.now() } : undefined;
}

/**
 * The JIRA issue an opening asks for: its summary names the rule and the reason, its description
 * adds who is notified and where the escalation is handled. Its label derives from the project and
 * the escalation id, so every retry of the command looks for, and finds, the same issue.
 */
export function escalationIssue(
  plan: Plan,
  escalation: Escalation,
  notice: EscalationNotice,
  jira: EscalationJiraIssue,
): CreateIssueCommand {
  const rule = findRule(plan, escalation.rule)?.name ?? escalation.rule;
  const notified = peopleNames(plan, escalation.targets);
  return {
    kind: 'create-issue',
    project: jira.project,
    type: jira.type,
    summary: `Escalation ${rule}: ${escalation.reason}`,
    description: [
      notice.text,
      `Notified: ${notified === '' ? 'nobody (no target of this level resolves to a person)' : notified}.`,
      `Convoy escalation ${escalation.id} of project ${escalation.project} (rule ${escalation.rule}, subject ${escalation.subject}), opened ${escalation.openedAt}. Acknowledge and resolve it in Convoy: the API, the CLI or the Slack buttons.`,
    ].join('\n\n'),
    label: `convoy-${shortHash(`${escalation.project}:${escalation.id}`)}`,
  };
}

function describeResolution(escalation: Escalation): string {
  const how =
    escalation.resolution === 'person'
      ? `by ${escalation.resolvedBy ?? 'a person'}`
      : (escalation.resolution ?? 'resolved');
  return escalation.resolvedAt ? `${how} at ${escalation.resolvedAt}` : how;
}
