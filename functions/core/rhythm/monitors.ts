import type { CoordinationPorts } from '../coordination/commands.js';
import type { Actor, MetricPoint, ProjectSnapshot } from '../coordination/model.js';
import { auditEvent } from '../coordination/records.js';
import { domainEvent } from '../domain-events.js';
import { VersionConflictError } from '../errors.js';
import { escalateMetrics, escalateOverdue } from '../escalations/hooks.js';
import type { AgentNotice } from '../integrations/model.js';
import { wallClockMillis } from '../plan/lexical.js';
import { blockedTasks, downAgents, scheduleSlipDays } from './computed-metrics.js';

/** Work in progress with no activity for this long counts as stale (`tasks.stale`, docs/plan-format.md). */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * A computed metric gets a new point when its value changes, and at least this often while it does
 * not, so its history shows a trend without a point every minute.
 */
const METRIC_REFRESH_MS = 60 * 60 * 1000;

const SYSTEM: Actor = { kind: 'system' };

export interface MonitorOutcome {
  readonly project: string;
  /** Agents this run marked down. */
  readonly down: readonly string[];
  /** Computed metric points this run recorded. */
  readonly metrics: readonly MetricPoint[];
  /** Tasks found stale (stale-work sweep only). */
  readonly stale?: readonly string[];
  /** Escalations this run opened, moved up or resolved (heartbeat monitor only). */
  readonly escalations?: number;
  /** Tasks whose claim expired and went back to todo (heartbeat monitor run only). */
  readonly released?: readonly string[];
  /** Resource leases that expired and were cleared (heartbeat monitor run only). */
  readonly expiredLeases?: readonly string[];
}

/**
 * The monitor's ports. (It no longer starts gates whose "Phase Tasks Completed" was lost: that event
 * is written with the task change that completes the phase, and the publisher delivers it.)
 */
export type MonitorPorts = CoordinationPorts;

/**
 * The heartbeat monitor for one project: an agent with a `heartbeat` interval that missed two in a
 * row is marked down (the event `agent.down`, a notice to its channel naming its owner); its next
 * heartbeat brings it back (`recordHeartbeat`). Then the computed metrics `agents.down`,
 * `tasks.blocked` and `schedule.slip_days` are brought up to date.
 */
export async function runHeartbeatMonitor(ports: MonitorPorts, project: string): Promise<MonitorOutcome> {
  const snapshot = await ports.store.snapshot(project);
  if (!snapshot) return { project, down: [], metrics: [] };
  const now = ports.clock.now();
  const at = now.toISOString();
  const { plan } = snapshot.plan;
  const down: string[] = [];
  for (const agent of plan.agents) {
    const state = snapshot.agents.get(agent.id);
    // An agent never heard from has missed nothing yet: its clock starts with its first heartbeat.
    if (!agent.heartbeat || !state?.lastHeartbeatAt || state.downSince) continue;
    const silentFor = now.getTime() - Date.parse(state.lastHeartbeatAt);
    if (silentFor <= 2 * wallClockMillis(agent.heartbeat)) continue;
    // The mark, its audit event, its notice and its domain event in one transaction; the escalation
    // rules follow the event. A heartbeat that arrived meanwhile wins: nothing is written.
    const owner = plan.people.find((person) => person.id === agent.owner);
    const channel = agent.channel ?? plan.integrations.slack?.channel;
    const key = `agent-down:${project}:${agent.id}:${state.lastHeartbeatAt}`;
    const notice: AgentNotice = {
      type: 'agent-down',
      project,
      agent: { id: agent.id, name: agent.name },
      lastHeartbeatAt: state.lastHeartbeatAt,
      owner: { name: owner?.name ?? agent.owner, ...(owner?.slack ? { slack: owner.slack } : {}) },
    };
    const published = [
      domainEvent('agent.down', { project, agent: agent.id, lastHeartbeatAt: state.lastHeartbeatAt, at }),
    ];
    try {
      await ports.store.commit(project, {
        agentsDown: [{ agent: agent.id, at, lastHeartbeatAt: state.lastHeartbeatAt }],
        events: [
          auditEvent(ports, at, SYSTEM, {
            type: 'agent.down',
            subject: agent.id,
            note: agentDownNote(agent.id, state.lastHeartbeatAt, agent.heartbeat),
            data: { lastHeartbeatAt: state.lastHeartbeatAt, heartbeat: agent.heartbeat, owner: agent.owner },
          }),
        ],
        ...(ports.outbox && channel
          ? {
              outbox: {
                entries: [{ id: `slack:${key}`, project, command: { kind: 'slack', channel, key, notice } }],
                now,
              },
            }
          : {}),
        published,
      });
    } catch (error) {
      if (error instanceof VersionConflictError) continue;
      throw error;
    }
    down.push(agent.id);
    await ports.follow?.(published);
  }
  const agents = new Map(snapshot.agents);
  for (const id of down) {
    const state = agents.get(id);
    if (state) agents.set(id, { ...state, downSince: at });
  }
  const current = { ...snapshot, agents };
  const metrics = await refreshMetrics(ports, project, current, [
    { name: 'agents.down', value: downAgents(current) },
    { name: 'tasks.blocked', value: blockedTasks(current) },
    { name: 'schedule.slip_days', value: scheduleSlipDays(plan, current, now) },
  ]);
  // The computed metrics just written carry their `metrics.recorded` event (followed at once and by the
  // publisher, like a posted metric): a change's consequences go through its events. What the clock
  // alone moves is decided here, directly, every minute; the escalation writes carry their own events
  // and notices in their own transaction (`saveEscalations`), and running the same decision twice (a
  // tick and an event's follower) writes once (conditional on the escalation's version):
  // - `when` rules over the latest values nothing rewrote: an escalation a person resolved while its
  //   condition still holds opens again at the next check (docs/gates-and-escalations.md), and a plan
  //   applied with a new or changed rule applies to values already stored; neither writes a metric,
  //   so no event carries them;
  // - the SLA ladder (levels climbing, reminders, snoozes ending, a down agent's reassignment after its
  //   restartSla): time passing, nothing changed.
  const written = new Set(metrics.map((point) => point.name));
  const unchanged = new Map([...current.metrics].filter(([name]) => !written.has(name)));
  const escalations = [
    ...(await escalateMetrics(ports, project, unchanged)),
    ...(await escalateOverdue(ports, project, current)),
  ];
  return { project, down, metrics, escalations: escalations.length };
}

/**
 * The stale-work sweep for one project: tasks in progress or in review with no activity for 24 h —
 * no change of the task, no event about it, no heartbeat of its agent naming it — counted as
 * `tasks.stale` and listed in a `tasks.stale` event when the set of stale tasks changes.
 */
export async function runStaleWorkSweep(ports: CoordinationPorts, project: string): Promise<MonitorOutcome> {
  const snapshot = await ports.store.snapshot(project);
  if (!snapshot) return { project, down: [], metrics: [] };
  const now = ports.clock.now();
  const since = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  const { plan } = snapshot.plan;
  const recent = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await ports.store.listEvents(project, { since, limit: 500, ...(cursor ? { cursor } : {}) });
    for (const event of page.events) if (event.subject) recent.add(event.subject);
    cursor = page.cursor;
  } while (cursor);
  const stale: string[] = [];
  for (const phase of plan.phases) {
    for (const task of phase.tasks) {
      const state = snapshot.tasks.get(task.id);
      if (!state || (state.status !== 'in_progress' && state.status !== 'in_review')) continue;
      if (state.updatedAt >= since || recent.has(task.id)) continue;
      const worker = state.assignee ?? task.agent;
      const agent = worker === undefined ? undefined : snapshot.agents.get(worker);
      if (agent?.currentTask === task.id && (agent.lastHeartbeatAt ?? '') >= since) continue;
      stale.push(task.id);
    }
  }
  const previous = snapshot.metrics.get('tasks.stale');
  if (stale.length > 0 && previous?.value !== stale.length) {
    const at = now.toISOString();
    await ports.store.appendEvents(project, [
      auditEvent(ports, at, SYSTEM, {
        type: 'tasks.stale',
        subject: project,
        note: `${stale.length} task${stale.length === 1 ? '' : 's'} with no activity for 24 h: ${stale.join(', ')}`,
        data: { tasks: stale },
      }),
    ]);
  }
  const metrics = await refreshMetrics(ports, project, snapshot, [
    { name: 'tasks.stale', value: stale.length },
  ]);
  return { project, down: [], metrics, stale };
}

async function refreshMetrics(
  ports: CoordinationPorts,
  project: string,
  snapshot: ProjectSnapshot,
  values: readonly { name: string; value: number }[],
): Promise<MetricPoint[]> {
  const now = ports.clock.now();
  const points = values
    .filter(({ name, value }) => {
      const latest = snapshot.metrics.get(name);
      return !latest || latest.value !== value || now.getTime() - Date.parse(latest.at) >= METRIC_REFRESH_MS;
    })
    .map(({ name, value }) => ({ name, value, at: now.toISOString() }));
  if (points.length === 0) return points;
  // The points and their event in one transaction: the `when` rules over them follow the event.
  const published = [
    domainEvent('metrics.recorded', {
      project,
      metrics: points.map(({ name, value, at }) => ({ name, value, at })),
      at: now.toISOString(),
    }),
  ];
  await ports.store.putMetrics(project, points, published);
  await ports.follow?.(published);
  return points;
}

/** The audit trail's note of an agent marked down; the escalation rules quote it. */
export function agentDownNote(agent: string, lastHeartbeatAt: string, heartbeat: string | undefined): string {
  return `no heartbeat from ${agent} since ${lastHeartbeatAt} (expected every ${heartbeat})`;
}
