import type { MetricPoint } from '../coordination/model.js';
import { formatCondition, formatNumber } from '../gates/wording.js';
import { fnv1a32 } from '../hash.js';
import { type Condition, holds, parseCondition } from '../plan/lexical.js';
import type { Plan } from '../plan/schema.js';
import type {
  Escalation,
  EscalationChange,
  EscalationChangeKind,
  EscalationEvent,
  EscalationHistoryEntry,
  EscalationNotice,
  EscalationResolution,
  EscalationRule,
} from './model.js';
import { callToAction, notice, peopleNames } from './notices.js';
import {
  agentAbout,
  CLEARING_EVENTS,
  escalationRules,
  eventSubject,
  findAgent,
  findRule,
  levelCount,
  levelSlaMillis,
  PROJECT_SUBJECT,
  resolveTargets,
  restartMillis,
  ruleLevel,
  wantsJiraIssue,
} from './rules.js';

/**
 * The escalation engine: pure functions from the plan, the unresolved escalations and what just
 * happened to the writes to make. The caller stores each change with a conditional write on its
 * version (and, for an opening, on its dedup key), then posts its notices to the escalations
 * channel through the outbox. Losing a race only means reading again and calling again: the
 * functions look at the state they are given, so a retry yields the change the winner did not make.
 */

/** `<rule>:<subject>`: at most one unresolved escalation per key. */
export function dedupKey(rule: string, subject: string): string {
  return `${rule}:${subject}`;
}

/**
 * Runs every `when` rule against the latest metric points (on each ingest, and from the monitors).
 * The subject of a condition escalation is its metric, so a rule has at most one open at a time.
 *
 * - holds and none unresolved → open one (level 1);
 * - holds and one unresolved → record the new value, if it changed (no second escalation, no post);
 * - does not hold and one unresolved → resolve it (`condition-cleared`);
 * - the metric has no point in `latest` → nothing: no evidence either way.
 *
 * A condition escalation a person resolved while the condition still held opens again at the next
 * evaluation: the rule is "never missed".
 */
export function onMetrics(
  plan: Plan,
  open: readonly Escalation[],
  latest: ReadonlyMap<string, MetricPoint>,
  now: Date,
): EscalationChange[] {
  const byKey = unresolvedByKey(open);
  const changes: EscalationChange[] = [];
  for (const rule of escalationRules(plan)) {
    if (rule.when === undefined) continue;
    const condition = parseCondition(rule.when);
    const point = latest.get(condition.metric);
    if (!point) continue;
    const existing = byKey.get(dedupKey(rule.id, condition.metric));
    // A value older than the one the escalation last saw (an event delivered again after a newer one,
    // a monitor's read overtaken by a post) decides nothing: the stored latest value moves only forward.
    if (existing?.lastValueAt !== undefined && point.at < existing.lastValueAt) continue;
    // A point stamped ahead of this clock (the API takes up to 5 minutes) counts as seen now, so that it
    // cannot hold off the next, correctly stamped one.
    const seenAt = [point.at, now.toISOString()].sort()[0] as string;
    if (holds(condition, point.value)) {
      if (!existing) {
        changes.push(
          openEscalation(plan, rule, condition.metric, now, conditionReason(condition, point.value), {
            kind: 'condition',
            lastValue: point.value,
            lastValueAt: seenAt,
          }),
        );
      } else if (existing.lastValue !== point.value) {
        changes.push({
          kinds: ['updated'],
          escalation: next(existing, { lastValue: point.value, lastValueAt: seenAt }),
          expectedVersion: existing.version,
          notices: [],
        });
      }
    } else if (existing) {
      const how = `condition cleared: ${condition.metric} is ${formatNumber(point.value)}`;
      changes.push(resolved(plan, rule, existing, now, 'condition-cleared', how, { lastValue: point.value }));
    }
  }
  return changes;
}

/**
 * Handles one event (events API, GitHub security alert, monitor, sync worker, task blocker...).
 * First it resolves what the event ends — unresolved escalations of rules whose `resolvedBy` is
 * this type, or whose `on` it clears (`agent.up` ends `agent.down`, `task.unblocked` ends
 * `task.blocked`), for the same subject; an event with no subject ends them for every subject.
 * Then every rule `on` this type opens an escalation for the event's subject (`project` when it
 * names none), unless one is unresolved for that rule and subject: that one counts one more
 * occurrence instead, without a post.
 */
export function onEvent(
  plan: Plan,
  open: readonly Escalation[],
  event: EscalationEvent,
  now: Date,
): EscalationChange[] {
  const rules = escalationRules(plan);
  const explicit = eventSubject(event);
  const subject = explicit ?? PROJECT_SUBJECT;
  const changes: EscalationChange[] = [];
  const changed = new Set<string>();

  for (const escalation of open) {
    if (escalation.status === 'resolved') continue;
    const rule = rules.find((candidate) => candidate.id === escalation.rule);
    if (rule?.on === undefined) continue;
    const ends = rule.resolvedBy === event.type || CLEARING_EVENTS[rule.on] === event.type;
    if (!ends || (explicit !== undefined && escalation.subject !== explicit)) continue;
    changes.push(
      resolved(plan, rule, escalation, now, 'resolved-by-event', `resolved by ${event.type}`, {}, event.at),
    );
    changed.add(escalation.id);
  }

  const byKey = unresolvedByKey(open);
  for (const rule of rules) {
    if (rule.on !== event.type) continue;
    const existing = byKey.get(dedupKey(rule.id, subject));
    if (existing && changed.has(existing.id)) continue;
    if (existing) {
      changes.push({
        kinds: ['updated'],
        escalation: next(existing, { occurrences: existing.occurrences + 1 }, [
          { at: now.toISOString(), what: `${event.type} again${event.note ? `: ${event.note}` : ''}` },
        ]),
        expectedVersion: existing.version,
        notices: [],
      });
      continue;
    }
    changes.push(
      openEscalation(plan, rule, subject, now, eventReason(plan, event, subject), {
        kind: 'event',
        data: event.data,
      }),
    );
  }
  return changes;
}

export interface TickOptions {
  /**
   * Open (not done) tasks of each agent, for the reassignment proposal of a down agent. An agent
   * that is missing has none.
   */
  readonly openTasks?: ReadonlyMap<string, readonly string[]>;
}

/**
 * The SLA monitor. For every unresolved escalation whose `dueAt` has passed:
 *
 * - below the last level it climbs: the next level starts when the previous one's SLA lapsed, so
 *   a late tick climbs every level that lapsed meanwhile, and one post names everyone climbed to;
 * - at the last level it stays there and is posted again once per SLA period of that level;
 * - an acknowledged escalation climbs too once its acknowledgement times out (see `acknowledge`),
 *   and is open again: the new level's people have not acknowledged it.
 *
 * For an escalation of an `agent.down` rule, once the agent's `restartSla` (or, for an agent
 * without one, the rule's level-1 SLA) has passed since it opened, the tick also proposes — once —
 * handing the agent's open tasks to its backup (its owner when it has none).
 *
 * After a tick, no unresolved escalation is overdue.
 */
export function onTick(
  plan: Plan,
  open: readonly Escalation[],
  now: Date,
  options: TickOptions = {},
): EscalationChange[] {
  const changes: EscalationChange[] = [];
  const nowMs = now.getTime();
  for (const escalation of open) {
    if (escalation.status === 'resolved') continue;
    const rule = findRule(plan, escalation.rule);
    if (!rule) continue;
    if (escalation.snoozedUntil !== undefined) {
      // Snoozed: nothing climbs, reminds or proposes until the snooze ends; then it wakes, and only that.
      if (Date.parse(escalation.snoozedUntil) <= nowMs) changes.push(wake(plan, rule, escalation));
      continue;
    }
    const kinds: EscalationChangeKind[] = [];
    const history: EscalationHistoryEntry[] = [];
    let patch: Partial<Mutable<Escalation>> = {};
    const pending: ((escalation: Escalation) => EscalationNotice)[] = [];

    if (Date.parse(escalation.dueAt) <= nowMs) {
      const climb = climbLadder(plan, rule, escalation, nowMs);
      patch = climb.patch;
      history.push(...climb.history);
      kinds.push(...climb.kinds);
      pending.push(climb.notice);
    }

    const reassignment = proposeReassignment(plan, rule, escalation, nowMs, options);
    if (reassignment) {
      patch = { ...patch, reassignment: reassignment.proposal };
      history.push({ at: now.toISOString(), what: `reassignment proposed to ${reassignment.proposal.to}` });
      kinds.push('reassignment-proposed');
      pending.push(reassignment.notice);
    }

    if (kinds.length === 0) continue;
    const updated = next(escalation, patch, history);
    changes.push({
      kinds,
      escalation: updated,
      expectedVersion: escalation.version,
      notices: pending.map((make) => make(updated)),
    });
  }
  return changes;
}

/**
 * The earliest instant at which `onTick` has something to do for these escalations (a level-up, a
 * reminder, a reassignment proposal), or undefined when nothing is pending: when to wake the monitor.
 */
export function nextDueAt(plan: Plan, open: readonly Escalation[]): string | undefined {
  let earliest = Number.POSITIVE_INFINITY;
  for (const escalation of open) {
    if (escalation.status === 'resolved') continue;
    earliest = Math.min(earliest, Date.parse(escalation.dueAt));
    // A snoozed escalation has nothing to do before its snooze ends (its `dueAt`).
    if (escalation.snoozedUntil !== undefined) continue;
    const rule = findRule(plan, escalation.rule);
    if (rule?.on === 'agent.down' && escalation.agent && !escalation.reassignment)
      earliest = Math.min(
        earliest,
        Date.parse(escalation.openedAt) + restartMillis(plan, rule, escalation.agent),
      );
  }
  return Number.isFinite(earliest) ? new Date(earliest).toISOString() : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The end of a snooze: the escalation is open again at its level (an acknowledgement lapses with
 * it), its level's SLA starts again from when the snooze ended, and the level's people hear of it.
 */
function wake(plan: Plan, rule: EscalationRule, escalation: Escalation): EscalationChange {
  const until = escalation.snoozedUntil as string;
  const sla = ruleLevel(rule, escalation.level).sla;
  const dueAt = new Date(Date.parse(until) + levelSlaMillis(rule, escalation.level)).toISOString();
  const updated = next(
    escalation,
    {
      status: 'open',
      dueAt,
      snoozedUntil: undefined,
      snoozedBy: undefined,
      acknowledgedBy: undefined,
      acknowledgedAt: undefined,
    },
    [{ at: until, what: `snooze ended: open again at level ${escalation.level}` }],
  );
  const text = `Escalation ${rule.name} is still unresolved after its snooze${
    escalation.snoozedBy ? ` (by ${escalation.snoozedBy})` : ''
  } ended at ${until}; level ${escalation.level} of ${levelCount(rule)}: ${escalation.reason}. ${callToAction(
    plan,
    escalation.targets,
    sla,
    dueAt,
  )}`;
  return {
    kinds: ['snooze-ended'],
    escalation: updated,
    expectedVersion: escalation.version,
    notices: [notice(plan, updated, 'snooze-ended', text, escalation.targets)],
  };
}

function climbLadder(plan: Plan, rule: EscalationRule, escalation: Escalation, nowMs: number) {
  const last = levelCount(rule);
  const history: EscalationHistoryEntry[] = [];
  const kinds: EscalationChangeKind[] = [];
  let level = Math.min(escalation.level, last);
  let levelSince = escalation.levelSince;
  let due = Date.parse(escalation.dueAt);
  const reached: string[] = [];
  let targets = escalation.targets;

  while (due <= nowMs && level < last) {
    level++;
    levelSince = new Date(due).toISOString();
    targets = resolveTargets(plan, ruleLevel(rule, level).notify, escalation.agent, escalation.subject);
    reached.push(...targets);
    history.push({ at: levelSince, what: `level ${level}: ${targets.join(', ') || 'nobody'}` });
    due += levelSlaMillis(rule, level);
  }
  if (level > escalation.level) kinds.push('escalated');

  if (due <= nowMs) {
    // At the last level: a reminder once per SLA period; periods a late tick missed are skipped, not posted.
    const period = levelSlaMillis(rule, level);
    const periods = Math.floor((nowMs - due) / period) + 1;
    due += periods * period;
    history.push({ at: new Date(nowMs).toISOString(), what: `still unresolved at level ${level}: reminded` });
    kinds.push('renotified');
  }

  const sla = ruleLevel(rule, level).sla;
  const dueAt = new Date(due).toISOString();
  const acknowledged = escalation.status === 'acknowledged';
  const patch: Partial<Mutable<Escalation>> = {
    level,
    levelSince,
    dueAt,
    targets,
    ...(acknowledged
      ? { status: 'open' as const, acknowledgedBy: undefined, acknowledgedAt: undefined }
      : {}),
  };
  if (acknowledged) history.unshift({ at: escalation.dueAt, what: 'acknowledgement timed out: open again' });

  const notify = (updated: Escalation): EscalationNotice => {
    const name = rule.name;
    if (kinds.includes('escalated')) {
      const mention = [...new Set(reached)];
      const text = `Escalation ${name} moved from level ${escalation.level} to level ${level} of ${last}: unresolved since ${escalation.openedAt}. ${updated.reason}. ${callToAction(plan, targets, sla, dueAt)}`;
      return notice(plan, updated, 'escalated', text, mention);
    }
    const text = `Escalation ${name} is still unresolved at its last level (${level} of ${last}), open since ${escalation.openedAt}: ${updated.reason}. ${
      targets.length > 0
        ? `${peopleNames(plan, targets)}: please resolve it`
        : 'Nobody is named for this level'
    }; next reminder ${dueAt}.`;
    return notice(plan, updated, 'renotified', text, targets);
  };
  return { patch, history, kinds, notice: notify };
}

function proposeReassignment(
  plan: Plan,
  rule: EscalationRule,
  escalation: Escalation,
  nowMs: number,
  options: TickOptions,
) {
  if (rule.on !== 'agent.down' || escalation.reassignment) return undefined;
  const agent = escalation.agent === undefined ? undefined : findAgent(plan, escalation.agent);
  if (!agent) return undefined;
  if (Date.parse(escalation.openedAt) + restartMillis(plan, rule, agent.id) > nowMs) return undefined;
  const to = agent.backup ?? agent.owner;
  const tasks = [...(options.openTasks?.get(agent.id) ?? [])];
  const proposal = { agent: agent.id, to, tasks, proposedAt: new Date(nowMs).toISOString() };
  const window = agent.restartSla ?? ruleLevel(rule, 1).sla;
  const make = (updated: Escalation): EscalationNotice => {
    const what =
      tasks.length > 0
        ? `Convoy proposes reassigning its open tasks (${tasks.join(', ')}) to ${peopleNames(plan, [to])}`
        : `it has no open tasks to reassign; ${peopleNames(plan, [to])} takes over`;
    const text = `${agent.name} is not back within its restart window (${window}): ${what}. ${peopleNames(plan, [agent.owner])} (its owner) or an admin confirms.`;
    return notice(plan, updated, 'reassignment-proposed', text, [...new Set([agent.owner, to])]);
  };
  return { proposal, notice: make };
}

function openEscalation(
  plan: Plan,
  rule: EscalationRule,
  subject: string,
  now: Date,
  reason: string,
  extra: {
    kind: 'condition' | 'event';
    lastValue?: number;
    lastValueAt?: string;
    data?: Readonly<Record<string, unknown>> | undefined;
  },
): EscalationChange {
  const at = now.toISOString();
  const agent = agentAbout(plan, subject, extra.data);
  const targets = resolveTargets(plan, rule.notify, agent, subject);
  const dueAt = new Date(now.getTime() + levelSlaMillis(rule, 1)).toISOString();
  const escalation: Escalation = {
    id: escalationId(rule.id, subject, at),
    project: plan.project.id,
    rule: rule.id,
    kind: extra.kind,
    subject,
    dedupKey: dedupKey(rule.id, subject),
    ...(agent === undefined ? {} : { agent }),
    status: 'open',
    level: 1,
    targets,
    openedAt: at,
    levelSince: at,
    dueAt,
    ...(extra.lastValue === undefined ? {} : { lastValue: extra.lastValue }),
    ...(extra.lastValueAt === undefined ? {} : { lastValueAt: extra.lastValueAt }),
    occurrences: 1,
    reason,
    history: [{ at, what: `opened at level 1: ${targets.join(', ') || 'nobody'}` }],
    version: 1,
  };
  const text = `Escalation ${rule.name} (level 1 of ${levelCount(rule)}): ${reason}. ${callToAction(plan, targets, rule.sla, dueAt)}`;
  return {
    kinds: ['opened'],
    escalation,
    expectedVersion: 0,
    notices: [notice(plan, escalation, 'opened', text, targets, wantsJiraIssue(rule))],
  };
}

/** The resolution of an unresolved escalation, with its post. Shared with `resolve` in actions. */
export function resolved(
  plan: Plan,
  rule: EscalationRule | undefined,
  escalation: Escalation,
  now: Date,
  resolution: EscalationResolution,
  how: string,
  extra: Partial<Mutable<Escalation>>,
  eventAt?: string,
  by?: string,
): EscalationChange {
  const at = now.toISOString();
  const updated = next(
    escalation,
    {
      ...extra,
      status: 'resolved',
      resolution,
      resolvedAt: at,
      // A snooze ends with the escalation: a later breach is news.
      snoozedUntil: undefined,
      snoozedBy: undefined,
      ...(by === undefined ? {} : { resolvedBy: by }),
    },
    [{ at, what: eventAt && eventAt !== at ? `${how} (event at ${eventAt})` : how, ...(by ? { by } : {}) }],
  );
  const text = `Escalation ${rule?.name ?? escalation.rule} resolved (${how}); it was opened for: ${escalation.reason}.`;
  return {
    kinds: ['resolved'],
    escalation: updated,
    expectedVersion: escalation.version,
    notices: [notice(plan, updated, 'resolved', text, [])],
  };
}

/** The escalation one version later, with the patch applied and entries added to its history. */
export function next(
  escalation: Escalation,
  patch: Partial<Mutable<Escalation>>,
  history: readonly EscalationHistoryEntry[] = [],
): Escalation {
  const merged: Record<string, unknown> = { ...escalation, ...patch };
  // A patch clears a field by setting it to undefined; the stored item must not keep the key.
  for (const key of Object.keys(patch)) if (merged[key] === undefined) delete merged[key];
  return {
    ...(merged as unknown as Escalation),
    history: [...escalation.history, ...history],
    version: escalation.version + 1,
  };
}

function unresolvedByKey(open: readonly Escalation[]): Map<string, Escalation> {
  const byKey = new Map<string, Escalation>();
  for (const escalation of open)
    if (escalation.status !== 'resolved' && !byKey.has(escalation.dedupKey))
      byKey.set(escalation.dedupKey, escalation);
  return byKey;
}

function conditionReason(condition: Condition, value: number): string {
  return `${condition.metric} is ${formatNumber(value)} (${formatCondition(condition)})`;
}

function eventReason(plan: Plan, event: EscalationEvent, subject: string): string {
  const about =
    subject === PROJECT_SUBJECT
      ? ''
      : ` for ${findAgent(plan, subject)?.name ?? plan.people.find((person) => person.id === subject)?.name ?? subject}`;
  return `${event.type}${about}${event.note ? `: ${event.note}` : ''}`;
}

/**
 * `tps-below-1-5m:20260105T100000000Z:1f3a9c2e`: the rule, the opening instant and a hash of the
 * subject (subjects can be URLs). Deterministic, so a retried opening writes the same item.
 */
function escalationId(rule: string, subject: string, openedAt: string): string {
  return `${rule}:${openedAt.replace(/[-:.]/g, '')}:${fnv1a32(subject).toString(16).padStart(8, '0')}`;
}
