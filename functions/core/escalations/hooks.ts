import type { CoordinationPorts } from '../coordination/commands.js';
import type { MetricPoint, ProjectSnapshot } from '../coordination/model.js';
import type { DomainEventBus } from '../domain-events.js';
import type { Plan } from '../plan/index.js';
import { parseCondition } from '../plan/lexical.js';
import type { EscalationStore } from '../ports.js';
import { onEvent, onMetrics, onTick } from './engine.js';
import type { EscalationChange, EscalationEvent } from './model.js';
import { CLEARING_EVENTS, escalationRules } from './rules.js';
import { type EscalationDecision, runEscalations } from './service.js';

/** Ports of a use case that may raise escalations and domain events; both are optional. */
export interface ReactivePorts extends CoordinationPorts {
  /** Without it (unit tests of other use cases), nothing is escalated. */
  readonly escalations?: EscalationStore;
  /** Without it, domain events are not published. */
  readonly events?: DomainEventBus;
}

async function runDecision(
  ports: ReactivePorts,
  project: string,
  decide: EscalationDecision,
): Promise<EscalationChange[]> {
  if (!ports.escalations) return [];
  // The changes' domain events are written with them; the publisher delivers them.
  return runEscalations({ ...ports, escalations: ports.escalations }, project, decide);
}

/**
 * Runs the `on` rules of the plan over events that just happened (`agent.down`, `task.blocked`,
 * `sync.failed`, `security.critical`, anything posted to the events API, and the events that end
 * them: `agent.up`, `task.unblocked`, a rule's `resolvedBy`).
 */
export async function escalateEvents(
  ports: ReactivePorts,
  project: string,
  events: readonly EscalationEvent[],
): Promise<EscalationChange[]> {
  if (events.length === 0) return [];
  // No rule opens on these events or ends with them: nothing to read (the plan is cached).
  const plan = (await ports.store.currentPlan(project))?.plan;
  if (
    plan &&
    !listensFor(
      plan,
      events.map((event) => event.type),
    )
  )
    return [];
  const now = ports.clock.now();
  return runDecision(ports, project, (plan, unresolved) => {
    let open = [...unresolved];
    const changes: EscalationChange[] = [];
    for (const event of events) {
      for (const change of onEvent(plan, open, event, now)) {
        changes.push(change);
        open = [...open.filter((escalation) => escalation.id !== change.escalation.id), change.escalation];
        // A resolved escalation no longer counts as open for the next event of the batch.
        if (change.escalation.status === 'resolved')
          open = open.filter((escalation) => escalation.id !== change.escalation.id);
      }
    }
    return mergeChanges(changes);
  });
}

/** Whether an `on` rule of the plan (or a built-in one) opens on one of these event types, or ends with one. */
export function listensFor(plan: Plan, types: readonly string[]): boolean {
  const wanted = new Set(types);
  return escalationRules(plan).some(
    (rule) =>
      rule.on !== undefined &&
      (wanted.has(rule.on) ||
        (rule.resolvedBy !== undefined && wanted.has(rule.resolvedBy)) ||
        (CLEARING_EVENTS[rule.on] !== undefined && wanted.has(CLEARING_EVENTS[rule.on] as string))),
  );
}

/**
 * Runs the `when` rules over metric values: after an ingest the points just posted (a rule over a
 * metric that did not change has nothing new to decide), and every minute the latest value of every
 * metric (the monitor, with the snapshot it read).
 */
export async function escalateMetrics(
  ports: ReactivePorts,
  project: string,
  latest: ReadonlyMap<string, MetricPoint>,
): Promise<EscalationChange[]> {
  if (latest.size === 0 || !ports.escalations) return [];
  // No `when` rule watches these metrics: nothing can open, change or clear, so no escalation is read
  // (the plan is cached; a metrics ingest then costs no extra round trip).
  const plan = (await ports.store.currentPlan(project))?.plan;
  const watched = new Set(
    plan?.escalations.flatMap((rule) => (rule.when ? [parseCondition(rule.when).metric] : [])) ?? [],
  );
  if (![...latest.keys()].some((name) => watched.has(name))) return [];
  const now = ports.clock.now();
  return runDecision(ports, project, (current, unresolved) => onMetrics(current, unresolved, latest, now));
}

/**
 * The SLA monitor: overdue escalations climb a level; a down agent that stayed down past its
 * `restartSla` gets a proposal to hand its open tasks to its backup.
 */
export async function escalateOverdue(ports: ReactivePorts, project: string, snapshot: ProjectSnapshot) {
  const now = ports.clock.now();
  const openTasks = new Map<string, string[]>();
  for (const phase of snapshot.plan.plan.phases) {
    for (const task of phase.tasks) {
      // Only tasks the plan assigns: a claimed task of a silent agent goes back to ready when its lease expires.
      if (task.agent === undefined || snapshot.tasks.get(task.id)?.status === 'done') continue;
      const list = openTasks.get(task.agent) ?? [];
      list.push(task.id);
      openTasks.set(task.agent, list);
    }
  }
  return runDecision(ports, project, (plan, unresolved) => onTick(plan, unresolved, now, { openTasks }));
}

/**
 * Several changes of one escalation in a batch (opened, then updated by the next event) become one
 * write of its last state, expected at the version it had before the batch.
 */
function mergeChanges(changes: readonly EscalationChange[]): EscalationChange[] {
  const byId = new Map<string, EscalationChange>();
  for (const change of changes) {
    const earlier = byId.get(change.escalation.id);
    byId.set(
      change.escalation.id,
      earlier
        ? {
            kinds: [...earlier.kinds, ...change.kinds],
            escalation: change.escalation,
            expectedVersion: earlier.expectedVersion,
            notices: [...earlier.notices, ...change.notices],
          }
        : change,
    );
  }
  return [...byId.values()];
}
