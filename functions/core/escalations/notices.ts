import type { Actor } from '../coordination/model.js';
import type { Plan } from '../plan/schema.js';
import type { Escalation, EscalationJiraIssue, EscalationNotice } from './model.js';

/** The escalations channel: `integrations.slack.escalations`, else the project channel. */
export function escalationsChannel(plan: Plan): string | undefined {
  return plan.integrations.slack?.escalations ?? plan.integrations.slack?.channel;
}

/** A notice about the escalation in the state it is written with (its version keys the post). */
export function notice(
  plan: Plan,
  escalation: Escalation,
  what: string,
  text: string,
  targets: readonly string[],
  jiraIssue?: EscalationJiraIssue,
): EscalationNotice {
  const mentions = targets.flatMap((id) => {
    const slack = plan.people.find((person) => person.id === id)?.slack;
    return slack ? [slack] : [];
  });
  return {
    key: `escalation:${escalation.id}:v${escalation.version}:${what}`,
    channel: escalationsChannel(plan),
    text,
    targets: [...targets],
    mentions,
    ...(jiraIssue === undefined ? {} : { jiraIssue }),
  };
}

/** `Tech Lead and CTO`: the people's names, for sentences. */
export function peopleNames(plan: Plan, ids: readonly string[]): string {
  const names = ids.map((id) => plan.people.find((person) => person.id === id)?.name ?? id);
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** `Project Manager`, `an admin`: who did something, for sentences. */
export function actorName(plan: Plan, actor: Actor): string {
  switch (actor.kind) {
    case 'admin':
      return 'an admin';
    case 'system':
      return 'Convoy';
    case 'person':
      return peopleNames(plan, [actor.id]);
    case 'agent':
      return plan.agents.find((agent) => agent.id === actor.id)?.name ?? actor.id;
    case 'integration':
      return actor.id === 'github' ? 'GitHub' : 'JIRA';
  }
}

/** `Tech Lead and CTO: please resolve within 2h (due 2026-01-05T12:00:00.000Z).` */
export function callToAction(plan: Plan, targets: readonly string[], sla: string, dueAt: string): string {
  const who =
    targets.length > 0 ? `${peopleNames(plan, targets)}: please` : 'Nobody is named for this level;';
  return `${who} resolve within ${sla} (due ${dueAt}).`;
}
