import { type Actor, describeActor } from '../coordination/model.js';
import { ConflictError, ForbiddenError, ValidationError } from '../errors.js';
import type { Plan } from '../plan/schema.js';
import { next, resolved } from './engine.js';
import type { Escalation, EscalationChange } from './model.js';
import { actorName, notice, peopleNames } from './notices.js';
import { findAgent, findRule, levelCount, levelSlaMillis, targetsUpTo } from './rules.js';

/**
 * What people do to an escalation: acknowledge it, resolve it, confirm a proposed reassignment.
 * Each returns the change to write (or null when the request changes nothing, e.g. a second click
 * on the same Slack button) and throws the core's errors: ForbiddenError (403) for someone who may
 * not, ConflictError (409) for a request the escalation's state does not allow.
 */

/**
 * Whether the actor may acknowledge or resolve the escalation: an admin, or a person targeted by
 * its current level or an earlier one (`owner` / `backup` resolved through its agent). Agents and
 * integrations may not: an escalation asks for people.
 */
export function mayHandle(plan: Plan, escalation: Escalation, actor: Actor): boolean {
  if (actor.kind === 'admin') return true;
  if (actor.kind !== 'person') return false;
  const rule = findRule(plan, escalation.rule);
  const people = rule ? targetsUpTo(plan, rule, escalation) : escalation.targets;
  return people.includes(actor.id);
}

function assertMayHandle(plan: Plan, escalation: Escalation, actor: Actor, what: string): void {
  if (mayHandle(plan, escalation, actor)) return;
  const rule = findRule(plan, escalation.rule);
  const people = rule ? targetsUpTo(plan, rule, escalation) : escalation.targets;
  throw new ForbiddenError(
    `${describeActor(actor)} may not ${what} escalation ${escalation.id}; only ${
      people.length > 0 ? `the people it has reached (${people.join(', ')}) or an admin` : 'an admin'
    } may`,
  );
}

/**
 * Acknowledges an unresolved escalation: someone is on it. Like PagerDuty's acknowledgement with
 * an acknowledgement timeout, it holds the ladder for one SLA period of the current level counted
 * from now; if the escalation is still unresolved then, `onTick` climbs it and it is open again.
 * Acknowledging an acknowledged escalation changes nothing (null).
 */
export function acknowledge(
  plan: Plan,
  escalation: Escalation,
  actor: Actor,
  now: Date,
): EscalationChange | null {
  assertMayHandle(plan, escalation, actor, 'acknowledge');
  if (escalation.status === 'resolved')
    throw new ConflictError(`escalation ${escalation.id} is already resolved (${escalation.resolution})`);
  if (escalation.status === 'acknowledged') return null;
  const rule = findRule(plan, escalation.rule);
  const at = now.toISOString();
  const by = describeActor(actor);
  const period = rule ? levelSlaMillis(rule, escalation.level) : Date.parse(escalation.dueAt) - now.getTime();
  const dueAt = new Date(now.getTime() + Math.max(period, 0)).toISOString();
  const updated = next(
    escalation,
    // Someone is on it now: a snooze ends, and the acknowledgement's timeout runs instead.
    {
      status: 'acknowledged',
      acknowledgedBy: by,
      acknowledgedAt: at,
      dueAt,
      snoozedUntil: undefined,
      snoozedBy: undefined,
    },
    [{ at, what: 'acknowledged', by }],
  );
  const last = rule ? levelCount(rule) : escalation.level;
  const then =
    escalation.level < last
      ? `it moves to level ${escalation.level + 1} at ${dueAt} unless resolved`
      : `it is reminded again at ${dueAt} unless resolved`;
  const text = `Escalation ${rule?.name ?? escalation.rule} acknowledged by ${actorName(plan, actor)}; ${then}.`;
  return {
    kinds: ['acknowledged'],
    escalation: updated,
    expectedVersion: escalation.version,
    notices: [notice(plan, updated, 'acknowledged', text, [])],
  };
}

/** The longest snooze: a typo in the year must not silence an escalation for good. */
export const MAX_SNOOZE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Snoozes an unresolved escalation until `until` (same permissions as acknowledging): until then it
 * neither climbs nor is posted again, and since it stays unresolved its rule opens no other for the
 * same subject — so a condition that still holds stops paging without being resolved. If its
 * condition clears or its resolving event arrives meanwhile, it is resolved as usual. When the
 * snooze ends it is open again at its level, with a fresh SLA, and posted. Snoozing again moves the
 * end; the same end again changes nothing (null). ValidationError when `until` is not within the
 * next 30 days, ConflictError once it is resolved.
 */
export function snooze(
  plan: Plan,
  escalation: Escalation,
  actor: Actor,
  now: Date,
  until: Date,
  note?: string,
): EscalationChange | null {
  assertMayHandle(plan, escalation, actor, 'snooze');
  if (escalation.status === 'resolved')
    throw new ConflictError(`escalation ${escalation.id} is already resolved (${escalation.resolution})`);
  if (Number.isNaN(until.getTime())) throw new ValidationError('until: not a date and time');
  if (until.getTime() <= now.getTime())
    throw new ValidationError(
      `until: ${until.toISOString()} is not in the future (it is ${now.toISOString()}); snooze until a later time`,
    );
  if (until.getTime() - now.getTime() > MAX_SNOOZE_MS)
    throw new ValidationError(
      `until: ${until.toISOString()} is more than 30 days ahead; snooze for at most 30 days`,
    );
  const end = until.toISOString();
  if (escalation.snoozedUntil === end) return null;
  const rule = findRule(plan, escalation.rule);
  const at = now.toISOString();
  const by = describeActor(actor);
  const updated = next(escalation, { snoozedUntil: end, snoozedBy: by, dueAt: end }, [
    { at, what: `snoozed until ${end}${note ? `: ${note}` : ''}`, by },
  ]);
  const text = `Escalation ${rule?.name ?? escalation.rule} snoozed by ${actorName(plan, actor)} until ${end}${
    note ? ` (${note})` : ''
  }: no reminders or level changes before then, unless it is resolved meanwhile.`;
  return {
    kinds: ['snoozed'],
    escalation: updated,
    expectedVersion: escalation.version,
    notices: [notice(plan, updated, 'snoozed', text, [])],
  };
}

/**
 * Resolves an unresolved escalation on a person's word (`resolution: 'person'`). A condition that
 * still holds opens a new escalation at its next evaluation; an event rule stays resolved until its
 * event comes again. Resolving a resolved escalation changes nothing (null).
 */
export function resolve(
  plan: Plan,
  escalation: Escalation,
  actor: Actor,
  now: Date,
  note?: string,
): EscalationChange | null {
  assertMayHandle(plan, escalation, actor, 'resolve');
  if (escalation.status === 'resolved') return null;
  const how = `resolved by ${actorName(plan, actor)}${note ? `: ${note}` : ''}`;
  return resolved(
    plan,
    findRule(plan, escalation.rule),
    escalation,
    now,
    'person',
    how,
    note === undefined ? {} : { note },
    undefined,
    describeActor(actor),
  );
}

/**
 * Confirms the reassignment `onTick` proposed for a down agent: allowed for an admin or the agent's
 * owner. The change records who confirmed; the caller then moves `reassignment.tasks` to
 * `reassignment.to`. A resolved escalation (the agent is back) or one with no proposal is a
 * ConflictError; confirming twice changes nothing (null).
 */
export function confirmReassignment(
  plan: Plan,
  escalation: Escalation,
  actor: Actor,
  now: Date,
): EscalationChange | null {
  const proposal = escalation.reassignment;
  const agent = findAgent(plan, proposal?.agent ?? escalation.agent ?? '');
  const allowed = actor.kind === 'admin' || (actor.kind === 'person' && agent?.owner === actor.id);
  if (!allowed)
    throw new ForbiddenError(
      `${describeActor(actor)} may not confirm the reassignment of ${agent ? `agent ${agent.id}'s` : 'the'} tasks; only ${
        agent ? `its owner (${agent.owner}) or ` : ''
      }an admin may`,
    );
  if (!proposal)
    throw new ConflictError(`escalation ${escalation.id} has no reassignment proposal to confirm`);
  if (proposal.confirmedAt) return null;
  if (escalation.status === 'resolved')
    throw new ConflictError(
      `escalation ${escalation.id} is resolved (${escalation.resolution}); its reassignment proposal has lapsed`,
    );
  const at = now.toISOString();
  const by = describeActor(actor);
  const updated = next(escalation, { reassignment: { ...proposal, confirmedBy: by, confirmedAt: at } }, [
    { at, what: `reassignment to ${proposal.to} confirmed`, by },
  ]);
  const agentName = agent?.name ?? proposal.agent;
  const toName = peopleNames(plan, [proposal.to]);
  const text =
    proposal.tasks.length > 0
      ? `${actorName(plan, actor)} confirmed reassigning ${agentName}'s open tasks (${proposal.tasks.join(', ')}) to ${toName}.`
      : `${actorName(plan, actor)} confirmed that ${toName} takes over from ${agentName} (it has no open tasks).`;
  return {
    kinds: ['reassignment-confirmed'],
    escalation: updated,
    expectedVersion: escalation.version,
    notices: [notice(plan, updated, 'reassignment-confirmed', text, [proposal.to])],
  };
}
