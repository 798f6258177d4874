import type { AuditEvent, StatusView } from '../types.js';
import { ago, span, until } from './format.js';

export type Severity = 'critical' | 'warning' | 'notice';

export interface AttentionItem {
  /** Stable across refreshes: `<kind>:<id>`. */
  readonly key: string;
  readonly kind:
    | 'gate'
    | 'escalation'
    | 'agent-down'
    | 'blocked'
    | 'stale'
    | 'claim-expired'
    | 'resource-conflict';
  readonly severity: Severity;
  readonly title: string;
  readonly detail: string;
  /** Where in the dashboard the item is about. */
  readonly href: string;
}

/** Work in progress or in review untouched for this long is stale. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;
/** Resource conflicts recorded within this window are shown. */
export const CONFLICTS_WITHIN_MS = 24 * 60 * 60 * 1000;

const ORDER: Record<Severity, number> = { critical: 0, warning: 1, notice: 2 };

/**
 * What needs a person's attention now, most urgent first: gates waiting for a decision, open
 * escalations (overdue ones first), agents down, blocked tasks and why, stale work, claims past their
 * expiry, and recent resource conflicts. Pure: `now` is passed in.
 */
export function attentionItems(
  status: StatusView,
  now: number,
  conflicts: readonly AuditEvent[] = [],
): AttentionItem[] {
  const items: (AttentionItem & { rank: number })[] = [];
  const push = (item: AttentionItem, rank = 0) => items.push({ ...item, rank });
  for (const gate of status.gates) {
    if (gate.status === 'awaiting-decision')
      push({
        key: `gate:${gate.gate}`,
        kind: 'gate',
        severity: 'critical',
        title: `Gate ${gate.gate} waits for a decision`,
        detail: `${gate.phase ? `phase ${gate.phase}; ` : ''}approvers: ${gate.approvers.join(', ') || 'admin'}${gate.waitsFor ? `; waits for ${gate.waitsFor}` : ''}`,
        href: `/gates#gate-${gate.gate}`,
      });
    else if (gate.status === 'held' || gate.status === 'failed')
      push({
        key: `gate:${gate.gate}`,
        kind: 'gate',
        severity: 'warning',
        title: `Gate ${gate.gate} is ${gate.status}`,
        detail: gate.waitsFor ? `waits for ${gate.waitsFor}` : `phase ${gate.phase ?? '—'}`,
        href: `/gates#gate-${gate.gate}`,
      });
  }
  for (const escalation of status.escalations) {
    const overdue = escalation.slaLeftSeconds < 0;
    const snoozed = escalation.snoozedUntil !== undefined && Date.parse(escalation.snoozedUntil) > now;
    push(
      {
        key: `escalation:${escalation.id}`,
        kind: 'escalation',
        severity: snoozed ? 'notice' : overdue || escalation.status === 'open' ? 'critical' : 'warning',
        title: `Escalation ${escalation.name} (level ${escalation.level} of ${escalation.levels}, ${escalation.status})`,
        detail: `${escalation.reason ?? escalation.subject}; ${
          snoozed
            ? `snoozed until ${escalation.snoozedUntil}`
            : overdue
              ? `SLA ${span(escalation.slaLeftSeconds)} overdue`
              : `SLA left ${span(escalation.slaLeftSeconds)}`
        }`,
        href: `/escalations#escalation-${encodeURIComponent(escalation.id)}`,
      },
      escalation.slaLeftSeconds,
    );
  }
  for (const agent of status.agents) {
    if (agent.status !== 'down') continue;
    push({
      key: `agent-down:${agent.id}`,
      kind: 'agent-down',
      severity: 'critical',
      title: `Agent ${agent.name} is down`,
      detail: `last heartbeat ${ago(agent.lastHeartbeat, now)}${agent.currentTask ? `; was on ${agent.currentTask}` : ''}`,
      href: `/agents#agent-${agent.id}`,
    });
  }
  for (const task of status.tasks) {
    if (task.blocked)
      push({
        key: `blocked:${task.id}`,
        kind: 'blocked',
        severity: 'warning',
        title: `Task ${task.id} is blocked`,
        detail: `${task.reason ?? 'no reason given'}${task.holder ? ` (${task.holder})` : ''}`,
        href: `/board#task-${task.id}`,
      });
    else if (
      (task.status === 'in_progress' || task.status === 'in_review') &&
      now - Date.parse(task.updatedAt) > STALE_AFTER_MS
    )
      push({
        key: `stale:${task.id}`,
        kind: 'stale',
        severity: 'notice',
        title: `Task ${task.id} has not moved for ${span((now - Date.parse(task.updatedAt)) / 1000)}`,
        detail: `${task.status.replace('_', ' ')}${task.holder ? `, ${task.holder}` : ''}`,
        href: `/board#task-${task.id}`,
      });
    // A claim on a task the plan assigns to its holder never lapses: the monitor leaves it.
    if (task.claim && task.claim.agent !== task.agent && Date.parse(task.claim.expiresAt) < now)
      push({
        key: `claim-expired:${task.id}`,
        kind: 'claim-expired',
        severity: 'notice',
        title: `The claim of ${task.claim.agent} on ${task.id} expired`,
        detail: `expired ${until(task.claim.expiresAt, now).replace(' overdue', ' ago')}; the monitor gives the task back`,
        href: `/board#task-${task.id}`,
      });
  }
  for (const event of conflicts) {
    if (event.type !== 'resource.conflict' || now - Date.parse(event.at) > CONFLICTS_WITHIN_MS) continue;
    push({
      key: `resource-conflict:${event.id}`,
      kind: 'resource-conflict',
      severity: 'notice',
      title: `Resource conflict${event.subject ? ` on ${event.subject}` : ''}`,
      detail: `${event.note ?? `${event.actor} collided with another lease`}; ${ago(event.at, now)}`,
      href: '/activity?type=resource.conflict',
    });
  }
  return items
    .sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || a.rank - b.rank || a.key.localeCompare(b.key))
    .map(({ rank: _rank, ...item }) => item);
}
