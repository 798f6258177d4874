import { followTaskChange } from '../coordination/commands.js';
import type { MetricPoint } from '../coordination/model.js';
import type { DomainEvent, DomainEventBus, DomainEventOf } from '../domain-events.js';
import { escalateEvents, escalateMetrics, listensFor, type ReactivePorts } from '../escalations/hooks.js';
import type { EscalationEvent } from '../escalations/model.js';
import { agentDownNote } from '../rhythm/monitors.js';

/**
 * The publisher: delivers the domain events that use cases wrote into the table, in the transaction
 * of the change they report (a transactional outbox). Deployed, the table's stream invokes the
 * publisher function with the new event items; in `convoy dev` and the tests, the same code reads
 * DynamoDB Local's stream. Delivery is at least once: a batch that fails, or a process that stops
 * in the middle of one, is delivered again, so every consumer is idempotent on the event id.
 *
 * Each event goes to the bus (EventBridge, from which gates start; the in-process bus locally), moves
 * its project's change counter (what the dashboard polls), then goes to the followers that need further reads and writes: the phases settle when a task reaches done,
 * and the escalation rules run over task, agent, metric and posted events.
 *
 * @module
 */

/** What the publisher needs: the bus to deliver to, and the ports of the followers. */
export interface PublisherPorts extends ReactivePorts {
  readonly events: DomainEventBus;
}

/** How long a follower holds an event against a concurrent delivery of the same event. */
const FOLLOW_HOLD_SECONDS = 60;
/** How long a followed event is remembered: longer than the stream keeps a record (24 hours). */
const FOLLOW_KEEP_SECONDS = 2 * 24 * 60 * 60;

/**
 * Delivers a batch in order: every event to the bus at once, then each to its followers. Resolves to
 * the number of events fully delivered: all of them, or the index of the first whose followers
 * failed (the stream retries from there, the bus getting that event and those after it again).
 * Throws when the bus refused the batch: nothing of it counts as delivered.
 */
export async function deliverDomainEvents(
  ports: PublisherPorts,
  events: readonly DomainEvent[],
  log: (line: string) => void = () => undefined,
): Promise<number> {
  if (events.length === 0) return 0;
  await ports.events.publish(events);
  await bumpChanges(ports, events);
  const settledLater = settledByALaterEvent(events);
  for (const [index, event] of events.entries()) {
    if (settledLater.has(index)) continue;
    try {
      await follow(ports, event);
    } catch (error) {
      log(`following ${event.id} failed: ${error instanceof Error ? error.message : String(error)}`);
      return index;
    }
  }
  return events.length;
}

/**
 * The tasks reaching done whose only follower settles their phase, when a later event of the batch
 * settles the same phase: settling reads the phase's count as it is now, so settling once, for the
 * last of them, settles it for all (a batch of 100 such events costs one read, not 100). Should that
 * last one fail, the stream delivers again from it, and it settles for the ones before it then.
 */
function settledByALaterEvent(events: readonly DomainEvent[]): Set<number> {
  const last = new Map<string, number>();
  const superseded = new Set<number>();
  for (const [index, event] of events.entries()) {
    if (event.type !== 'task.changed' || !onlySettles(event)) continue;
    const phase = `${event.project}\u0000${event.detail.phase}`;
    const previous = last.get(phase);
    if (previous !== undefined) superseded.add(previous);
    last.set(phase, index);
  }
  return superseded;
}

/** A task reaching done that raises or lifts no blocker: following it only settles its phase. */
const onlySettles = (event: DomainEventOf<'task.changed'>) =>
  event.detail.to === 'done' && event.detail.from !== 'done' && blockerEvents(event).length === 0;

/**
 * Moves each project's change counter by its events in the batch, which the dashboard polls
 * (`GET …/changes`): one write per project and batch, none for a heartbeat, which writes no event.
 * A failure fails the batch as the bus's would, so it is delivered and counted again: a count too
 * high only costs a dashboard one refetch, a count missed would hide a change.
 */
async function bumpChanges(ports: PublisherPorts, events: readonly DomainEvent[]): Promise<void> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.project, (counts.get(event.project) ?? 0) + 1);
  await Promise.all([...counts].map(([project, n]) => ports.store.bumpChanges(project, n)));
}

/**
 * Runs the followers of one event once per event id: a claim under the id keeps a redelivery (or a
 * concurrent one) from running them twice; a failure gives the claim back, so a retry runs them.
 */
export async function follow(
  ports: ReactivePorts,
  event: DomainEvent,
  /** `skip`: another delivery holding the event is left to finish it (the shortcut of a use case). */
  whenBusy: 'retry' | 'skip' = 'retry',
): Promise<void> {
  if (!FOLLOWED.has(event.type) || !(await relevant(ports, event))) return;
  const key = `follow:${event.id}`;
  const idempotency = needsClaim(event) ? ports.idempotency : undefined;
  if (idempotency) {
    const claim = await idempotency.claim(key, event.id, ports.clock.now(), FOLLOW_HOLD_SECONDS);
    if (claim.state === 'done' || (claim.state === 'in_progress' && whenBusy === 'skip')) return;
    if (claim.state === 'in_progress')
      throw new Error(`event ${event.id} is being followed by another delivery; retry once it is done`);
  }
  try {
    await runFollowers(ports, event);
  } catch (error) {
    await idempotency?.release(key);
    throw error;
  }
  await idempotency?.complete(key, event.id, true, ports.clock.now(), FOLLOW_KEEP_SECONDS);
}

/**
 * The `follow` port of the use cases (`CoordinationPorts.follow`): runs the followers of events just
 * committed at once, in order. `ports` is called each time, so it may name ports composed later.
 */
export function followNow(ports: () => ReactivePorts): (events: readonly DomainEvent[]) => Promise<void> {
  return async (events) => {
    // The publisher may be following the same event right now: then it finishes it (or retries).
    for (const event of events) await follow(ports(), event, 'skip');
  };
}

const FOLLOWED: ReadonlySet<DomainEvent['type']> = new Set([
  'task.changed',
  'agent.down',
  'agent.up',
  'metrics.recorded',
  'event.recorded',
  'resource.conflict',
]);

async function runFollowers(ports: ReactivePorts, event: DomainEvent): Promise<void> {
  switch (event.type) {
    case 'task.changed':
      await followTaskChange(ports, event.detail);
      await escalateEvents(ports, event.project, blockerEvents(event));
      return;
    case 'agent.down': {
      const { agent, lastHeartbeatAt } = event.detail;
      const planned = (await ports.store.currentPlan(event.project))?.plan.agents.find(
        (candidate) => candidate.id === agent,
      );
      await escalateEvents(ports, event.project, [
        {
          type: 'agent.down',
          subject: agent,
          at: event.at,
          note: agentDownNote(agent, lastHeartbeatAt, planned?.heartbeat),
          data: { lastHeartbeatAt, heartbeat: planned?.heartbeat, owner: planned?.owner },
        },
      ]);
      return;
    }
    case 'agent.up':
      await escalateEvents(ports, event.project, [
        { type: 'agent.up', subject: event.detail.agent, at: event.at, data: { agent: event.detail.agent } },
      ]);
      return;
    case 'metrics.recorded':
      await escalateMetrics(
        ports,
        event.project,
        new Map<string, MetricPoint>(event.detail.metrics.map((point) => [point.name, { ...point }])),
      );
      return;
    case 'resource.conflict':
      await escalateEvents(ports, event.project, [conflictEvent(event)]);
      return;
    case 'event.recorded': {
      const { type, subject, note, data, at } = event.detail;
      await escalateEvents(ports, event.project, [
        {
          type,
          at,
          ...(subject === undefined ? {} : { subject }),
          ...(note === undefined ? {} : { note }),
          ...(data === undefined ? {} : { data }),
        },
      ]);
      return;
    }
    default:
  }
}

/** Whether an event has anything to follow in its plan: most task changes have not, and cost no claim. */
async function relevant(ports: ReactivePorts, event: DomainEvent): Promise<boolean> {
  const plan = (await ports.store.currentPlan(event.project))?.plan;
  if (!plan) return false;
  switch (event.type) {
    case 'task.changed':
      return (
        (event.detail.to === 'done' && event.detail.from !== 'done') ||
        listensFor(
          plan,
          blockerEvents(event).map((blocker) => blocker.type),
        )
      );
    case 'agent.down':
    case 'agent.up':
      return listensFor(plan, [event.type]);
    case 'event.recorded':
      return listensFor(plan, [event.detail.type]);
    case 'resource.conflict':
      // A refused lease collided with nothing; a push or PR into another agent's files did.
      return (
        event.detail.source !== undefined && event.detail.source !== 'lease' && listensFor(plan, [event.type])
      );
    default:
      return true;
  }
}

/**
 * Whether following `event` must be claimed first. A task change that raises or lifts no blocker only
 * settles phases (`followTaskChange`), which is idempotent by itself: settling again writes nothing
 * new and names the same `phase.tasks_completed`. A claim and its completion would be two more
 * DynamoDB calls on every transition to done, in the request and again in the publisher.
 */
function needsClaim(event: DomainEvent): boolean {
  return !(event.type === 'task.changed' && blockerEvents(event).length === 0);
}

/** The escalation events of a task change: its blocker raised or lifted (finishing a task lifts it). */
function blockerEvents(event: DomainEventOf<'task.changed'>): EscalationEvent[] {
  const { detail } = event;
  const data = { agent: detail.agent };
  if (detail.from === detail.to)
    return [
      {
        type: detail.blocked ? 'task.blocked' : 'task.unblocked',
        subject: detail.task,
        at: detail.at,
        ...(detail.blockedReason ? { note: detail.blockedReason } : {}),
        data,
      },
    ];
  if (detail.unblocked) return [{ type: 'task.unblocked', subject: detail.task, at: detail.at, data }];
  return [];
}

/**
 * The escalation event of a conflict a change raised: about its resource (what a
 * `resource.conflict_resolved` event names to end it) and the agent that changed it.
 */
function conflictEvent(event: DomainEventOf<'resource.conflict'>): EscalationEvent {
  const { detail } = event;
  const subject = detail.resource ?? `lease:${detail.lease ?? ''}`;
  const other = detail.holder ?? (detail.owner === undefined ? undefined : `agent:${detail.owner}`);
  return {
    type: 'resource.conflict',
    subject,
    at: detail.at,
    note: `${detail.requestedBy} changed ${detail.changedPaths ?? detail.paths.length} path(s) of ${subject}${other ? ` (${other}'s)` : ''}`,
    data: {
      ...(detail.changedBy !== undefined ? { agent: detail.changedBy } : {}),
      ...(detail.owner !== undefined ? { owner: detail.owner } : {}),
      ...(detail.holder !== undefined ? { holder: detail.holder } : {}),
      paths: detail.paths,
    },
  };
}
