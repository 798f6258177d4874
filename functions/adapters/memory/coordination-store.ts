import {
  type AgentState,
  type AuditEvent,
  afterHeartbeat,
  type Handoff,
  type Heartbeat,
  type LeaseSet,
  type MetricPoint,
  type PhaseState,
  type ProjectSnapshot,
  type StoredPlan,
  type TaskState,
} from '../../core/coordination/model.js';
import type { DomainEvent } from '../../core/domain-events.js';
import { UnprocessableError, ValidationError } from '../../core/errors.js';
import type { Plan } from '../../core/plan/index.js';
import type { Change, CoordinationStore, EventPage, TaskSummary, VersionedWrite } from '../../core/ports.js';
import { MemoryAuditTrail } from './audit-trail.js';
import { MemoryEventStream } from './event-stream.js';
import type { MemoryOutbox } from './outbox.js';
import {
  compareKeys,
  copy,
  decodeCursor,
  encodeCursor,
  MAX_TRANSACTION_ITEMS,
  partitionOf,
  SortedItems,
  transact,
  type Write,
} from './table.js';

/** The state of one project, as DynamoDbCoordinationStore's items hold it. */
interface Project {
  /** The current plan, kept as JSON so every read is a copy. */
  pointer?: { version: number; plan: string; appliedAt: string; appliedBy: string; changes?: number };
  readonly phases: Map<string, PhaseState>;
  readonly tasks: Map<string, TaskState>;
  readonly agents: Map<string, AgentState>;
  /** The latest value of each metric. */
  readonly metrics: Map<string, MetricPoint>;
  /** Each phase's count of done tasks. */
  readonly done: Map<string, number>;
  /** Each metric's points, by `<at>#<value>`. */
  readonly series: Map<string, SortedItems<MetricPoint>>;
  readonly handoffs: SortedItems<Handoff>;
  leases: LeaseSet;
}

/**
 * The coordination state in memory, behaving as DynamoDbCoordinationStore does (test/contract/
 * proves it): conditional writes on `version`, every change of a call in one all-or-nothing
 * transaction, events newest first with cursors. For `convoy simulate` and use-case tests.
 */
export class MemoryCoordinationStore implements CoordinationStore {
  private readonly projects = new Map<string, Project>();
  private readonly registry = new Set<string>();

  /**
   * `trail`: the audit trail, shared with the stores whose transactions record events; `outbox`:
   * where a commit's outbox entries go (none: a commit with entries fails).
   */
  constructor(
    readonly trail: MemoryAuditTrail = new MemoryAuditTrail(),
    private readonly outbox?: MemoryOutbox,
    /** Where the domain events a change publishes are written (the table's stream, in memory). */
    readonly stream: MemoryEventStream = new MemoryEventStream(),
  ) {}

  async currentPlan(project: string): Promise<StoredPlan | undefined> {
    const pointer = this.projects.get(project)?.pointer;
    return pointer && storedPlan(project, pointer);
  }

  async changes(project: string): Promise<{ version: number; changes: number } | undefined> {
    const pointer = this.projects.get(project)?.pointer;
    return pointer && { version: pointer.version, changes: pointer.changes ?? 0 };
  }

  async bumpChanges(project: string, n: number): Promise<void> {
    const pointer = this.projects.get(project)?.pointer;
    if (pointer) pointer.changes = (pointer.changes ?? 0) + n;
  }

  async savePlan(
    project: string,
    plan: Plan,
    expectedVersion: number,
    meta: { at: string; by: string; event: AuditEvent },
  ): Promise<StoredPlan> {
    const state = this.of(project);
    const version = expectedVersion + 1;
    transact([
      {
        item: `plan\n${project}`,
        holds: () => (state.pointer?.version ?? 0) === expectedVersion,
        apply: () => {
          state.pointer = { version, plan: JSON.stringify(plan), appliedAt: meta.at, appliedBy: meta.by };
        },
      },
      this.trail.put(project, meta.event),
      { item: `project\n${project}`, apply: () => this.registry.add(project) },
    ]);
    return { project, version, plan, appliedAt: meta.at, appliedBy: meta.by };
  }

  /** In key order. */
  async listProjects(): Promise<string[]> {
    return [...this.registry].sort(compareKeys);
  }

  async snapshot(project: string): Promise<ProjectSnapshot | undefined> {
    const state = this.projects.get(project);
    if (!state?.pointer) return undefined;
    return {
      plan: storedPlan(project, state.pointer),
      phases: copyMap(state.phases),
      tasks: copyMap(state.tasks),
      agents: copyMap(state.agents),
      metrics: copyMap(state.metrics),
      leases: copy(state.leases).leases,
    };
  }

  async getTasks(project: string, ids: readonly string[]): Promise<Map<string, TaskState>> {
    const tasks = this.of(project).tasks;
    const found = new Map<string, TaskState>();
    for (const id of ids) {
      const task = tasks.get(id);
      if (task) found.set(id, copy(task));
    }
    return found;
  }

  async getPhase(project: string, id: string): Promise<PhaseState | undefined> {
    const phase = this.of(project).phases.get(id);
    return phase && copy(phase);
  }

  async getTaskContext(
    project: string,
    taskIds: readonly string[],
    phase: string,
  ): Promise<{ tasks: Map<string, TaskState>; phase?: PhaseState; done: number }> {
    const phaseState = await this.getPhase(project, phase);
    return {
      tasks: await this.getTasks(project, taskIds),
      ...(phaseState ? { phase: phaseState } : {}),
      done: this.of(project).done.get(phase) ?? 0,
    };
  }

  async countDone(project: string, phase: string, delta: number): Promise<number> {
    const done = this.of(project).done;
    const count = (done.get(phase) ?? 0) + delta;
    done.set(phase, count);
    return count;
  }

  async commit(project: string, change: Change): Promise<void> {
    const state = this.of(project);
    const now = change.outbox?.now.getTime() ?? 0;
    const queued = (change.outbox?.entries ?? []).map((entry, index) => {
      if (!this.outbox) throw new Error('this store has no outbox to queue the change’s entries in');
      return this.outbox.put(entry, new Date(now).toISOString(), new Date(now + index).toISOString());
    });
    const writes = [
      ...(change.tasks ?? []).map((write) => versioned(`task\n${project}`, state.tasks, write)),
      ...(change.phases ?? []).map((write) => versioned(`phase\n${project}`, state.phases, write)),
      ...(change.handoffs ?? []).map(
        (handoff): Write => ({
          item: `handoff\n${project}\n${handoff.id}`,
          holds: () => !state.handoffs.has(handoff.id),
          apply: () => state.handoffs.set(handoff.id, copy(handoff)),
        }),
      ),
      ...(change.leases ? [this.leaseSetWrite(project, state, change.leases)] : []),
      ...change.events.map((event) => this.trail.put(project, event)),
      ...(change.agentsDown ?? []).map(
        (mark): Write => ({
          item: `agent\n${project}\n${mark.agent}`,
          // A heartbeat that arrived since the monitor read the agent wins.
          holds: () => {
            const agent = state.agents.get(mark.agent);
            return agent?.downSince === undefined && agent?.lastHeartbeatAt === mark.lastHeartbeatAt;
          },
          apply: () => {
            const agent = state.agents.get(mark.agent) as AgentState;
            state.agents.set(mark.agent, { ...agent, downSince: mark.at, version: agent.version + 1 });
          },
        }),
      ),
      ...(change.agentsUp ?? []).map(
        (up): Write => ({
          item: `agent\n${project}\n${up.agent}`,
          // A heartbeat that brought it back meanwhile wins, and an older one does not overwrite a newer.
          holds: () => {
            const agent = state.agents.get(up.agent);
            return (
              agent?.downSince === up.downSince &&
              !(
                agent.lastHeartbeatAt !== undefined && compareKeys(agent.lastHeartbeatAt, up.heartbeat.at) > 0
              )
            );
          },
          apply: () =>
            state.agents.set(
              up.agent,
              afterHeartbeat(state.agents.get(up.agent), up.agent, copy(up.heartbeat)),
            ),
        }),
      ),
      ...(change.published ?? []).map((event) => this.stream.put(event)),
      ...(change.doneCounts ?? []).map(
        ({ phase, delta }): Write => ({
          item: `done\n${project}\n${phase}`,
          apply: () => state.done.set(phase, (state.done.get(phase) ?? 0) + delta),
        }),
      ),
      ...queued,
    ];
    // As the DynamoDB store: a change one transaction cannot hold is refused before anything is written.
    if (writes.length > MAX_TRANSACTION_ITEMS)
      throw new UnprocessableError(
        `this change needs ${writes.length} writes, but one DynamoDB transaction holds at most ${MAX_TRANSACTION_ITEMS} items; nothing was written — split it into smaller changes`,
      );
    transact(writes);
  }

  async taskSummaries(
    project: string,
  ): Promise<{ tasks: Map<string, TaskSummary>; phases: Map<string, PhaseState> }> {
    const state = this.of(project);
    const tasks = new Map<string, TaskSummary>();
    for (const [id, task] of state.tasks)
      tasks.set(id, {
        id,
        status: task.status,
        blocked: task.blocked,
        version: task.version,
        ...(task.claim ? { claim: copy(task.claim) } : {}),
      });
    return { tasks, phases: copyMap(state.phases) };
  }

  async getLeases(project: string): Promise<LeaseSet> {
    return copy(this.of(project).leases);
  }

  async renewClaim(
    project: string,
    task: string,
    renewal: { agent: string; at: string; expiresAt: string },
  ): Promise<boolean> {
    const tasks = this.of(project).tasks;
    const current = tasks.get(task);
    // As the DynamoDB condition: the agent still holds the claim and has not expired (ISO strings compare).
    if (!current?.claim || current.claim.agent !== renewal.agent) return false;
    tasks.set(task, {
      ...current,
      claim: { ...current.claim, expiresAt: renewal.expiresAt },
      version: current.version + 1,
    });
    return true;
  }

  private leaseSetWrite(
    project: string,
    state: Project,
    { next, expectedVersion }: VersionedWrite<LeaseSet>,
  ): Write {
    return {
      item: `leases\n${project}`,
      holds: () => state.leases.version === expectedVersion,
      apply: () => {
        state.leases = copy(next);
      },
    };
  }

  /**
   * Counts every heartbeat; only one at least as new as the stored one moves `lastHeartbeatAt` and
   * what it reports. An agent marked down is left as it is (see `Change.agentsUp`).
   */
  async recordHeartbeat(
    project: string,
    agent: string,
    heartbeat: Heartbeat,
  ): Promise<{ agent: AgentState; down?: string }> {
    const agents = this.of(project).agents;
    const before = agents.get(agent);
    if (before?.lastHeartbeatAt !== undefined && compareKeys(before.lastHeartbeatAt, heartbeat.at) > 0) {
      // A heartbeat stamped later got there first: this one counts, but does not overwrite it.
      const next = { ...before, heartbeats: before.heartbeats + 1, version: before.version + 1 };
      agents.set(agent, next);
      return { agent: copy(next) };
    }
    if (before?.downSince !== undefined) return { agent: copy(before), down: before.downSince };
    const next = afterHeartbeat(before, agent, copy(heartbeat));
    agents.set(agent, next);
    return { agent: copy(next) };
  }

  async markAgentDown(
    project: string,
    agent: string,
    mark: { at: string; lastHeartbeatAt: string },
  ): Promise<boolean> {
    const agents = this.of(project).agents;
    const state = agents.get(agent);
    // A heartbeat that arrived since the monitor read the agent wins.
    if (!state || state.downSince !== undefined || state.lastHeartbeatAt !== mark.lastHeartbeatAt)
      return false;
    agents.set(agent, { ...state, downSince: mark.at, version: state.version + 1 });
    return true;
  }

  /** Oldest first, by time and then value (as text). */
  async metricHistory(project: string, name: string, since: string): Promise<MetricPoint[]> {
    requireKey(since);
    const series = this.of(project).series.get(name);
    return (series?.ascending(since) ?? []).map(({ name, value, at }) => ({ name, value, at }));
  }

  /** By id, which starts with the time. */
  async listHandoffs(project: string, since: string): Promise<Handoff[]> {
    requireKey(since);
    return this.of(project).handoffs.ascending(since).map(copy);
  }

  async putMetrics(
    project: string,
    points: readonly MetricPoint[],
    published: readonly DomainEvent[] = [],
  ): Promise<void> {
    if (points.length > MAX_TRANSACTION_ITEMS)
      throw new ValidationError(`at most ${MAX_TRANSACTION_ITEMS} metrics per request`);
    const state = this.of(project);
    // The events go with the points (the DynamoDB store writes them in the points' transaction).
    transact(published.map((event) => this.stream.put(event)));
    // A point is its name, time and value: the same point again is the same item.
    for (const { name, value, at } of points)
      partitionOf(state.series, name).set(`${at}#${String(value)}`, { name, value, at });
    // The latest value of each metric is a cache of its series, moved only forward in time.
    const latest = new Map<string, MetricPoint>();
    for (const point of points) {
      const current = latest.get(point.name);
      if (!current || current.at <= point.at) latest.set(point.name, point);
    }
    for (const { name, value, at } of latest.values()) {
      const stored = state.metrics.get(name);
      if (!stored || compareKeys(stored.at, at) <= 0) state.metrics.set(name, { name, value, at });
    }
  }

  async appendEvents(project: string, events: readonly AuditEvent[]): Promise<void> {
    transact(events.map((event) => this.trail.put(project, event)));
  }

  /** Newest first; `cursor` continues after the last event of the page before. */
  async listEvents(
    project: string,
    query: { type?: string; since?: string; limit: number; cursor?: string },
  ): Promise<EventPage> {
    const before = query.cursor === undefined ? undefined : eventsPosition(query.cursor, project, query);
    const events: AuditEvent[] = [];
    let more = false;
    for (const { key, value } of this.trail.of(project).descending(before)) {
      if (query.since && compareKeys(key, query.since) < 0) break;
      if (query.type !== undefined && value.type !== query.type) continue;
      // As a DynamoDB Query with a Limit: a page that fills up has a cursor, even when nothing follows.
      if (events.length === query.limit) break;
      events.push(copy(value));
      if (events.length === query.limit) more = true;
    }
    const last = events.at(-1);
    return {
      events,
      ...(more && last
        ? {
            cursor: encodeCursor({
              project,
              before: last.id,
              ...(query.type === undefined ? {} : { type: query.type }),
            }),
          }
        : {}),
    };
  }

  private of(project: string): Project {
    let state = this.projects.get(project);
    if (!state) {
      state = {
        phases: new Map(),
        tasks: new Map(),
        agents: new Map(),
        metrics: new Map(),
        done: new Map(),
        series: new Map(),
        handoffs: new SortedItems(),
        leases: { leases: [], version: 0 },
      };
      this.projects.set(project, state);
    }
    return state;
  }
}

/** The put of a task or phase, on condition that it still has `expectedVersion` (0: it must not exist). */
function versioned<T extends { id: string; version: number }>(
  kind: string,
  items: Map<string, T>,
  { next, expectedVersion }: VersionedWrite<T>,
): Write {
  return {
    item: `${kind}\n${next.id}`,
    holds: () =>
      expectedVersion === 0 ? !items.has(next.id) : items.get(next.id)?.version === expectedVersion,
    apply: () => items.set(next.id, copy(next)),
  };
}

function storedPlan(
  project: string,
  pointer: { version: number; plan: string; appliedAt: string; appliedBy: string },
): StoredPlan {
  return {
    project,
    version: pointer.version,
    plan: JSON.parse(pointer.plan) as Plan,
    appliedAt: pointer.appliedAt,
    appliedBy: pointer.appliedBy,
  };
}

/** A sort key bound: DynamoDB refuses an empty one (a ValidationException). */
function requireKey(since: string): void {
  if (since === '') throw new Error('a key condition value cannot be an empty string (since)');
}

const copyMap = <T>(items: ReadonlyMap<string, T>) =>
  new Map([...items].map(([id, value]) => [id, copy(value)]));

/**
 * The event a cursor continues after, checked against the query it is used with: the same project
 * and type, inside `since`. A cursor of another project or query is a 400, as in DynamoDB.
 */
function eventsPosition(cursor: string, project: string, query: { type?: string; since?: string }): string {
  const position = decodeCursor<Record<string, string>>(
    cursor,
    (candidate) =>
      Object.keys(candidate).sort().join(',') ===
        (query.type === undefined ? 'before,project' : 'before,project,type') &&
      candidate.project === project &&
      candidate.type === query.type &&
      (query.since === undefined || compareKeys(candidate.before as string, query.since) >= 0),
    ' for this project and query',
  );
  return position.before as string;
}
