import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
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
  type ResourceLease,
  type StoredPlan,
  type TaskState,
} from '../../core/coordination/model.js';
import type { DomainEvent } from '../../core/domain-events.js';
import { ValidationError, VersionConflictError } from '../../core/errors.js';
import type { Plan } from '../../core/plan/index.js';
import type {
  AgentUp,
  Change,
  ChartArchive,
  CoordinationStore,
  EventPage,
  IdempotencyClaim,
  IdempotencyStore,
  StoredToken,
  TaskSummary,
  TokenAudit,
  TokenStore,
} from '../../core/ports.js';
import {
  assertFitsOneTransaction,
  decodeCursor,
  domainEventPut,
  encodeCursor,
  eventPut,
  type Item,
  MAX_TRANSACTION_ITEMS,
  strip,
  type TransactItem,
  transactWrite,
} from './items.js';
import { idOf, itemKind, type Key, keys } from './keys.js';
import { outboxItem } from './outbox.js';
import { queryAll } from './query.js';

/**
 * How long a container trusts the plan pointer it read. A plan applied through this container is
 * seen at once; one applied elsewhere within a second at most.
 */
const POINTER_CACHE_MS = 1_000;

/**
 * A pointer read this recently is fresh enough for the change counter: the read that authenticated
 * the same request (a person or agent token is checked against the plan), so one poll of
 * `GET …/changes` costs one read, not two.
 */
const CHANGES_FRESH_MS = 250;

/** Plan versions never change once written, so each container keeps the ones it has read. */
const planCache = new Map<string, Plan>();
const PLAN_CACHE_LIMIT = 32;

/** Charts are kept 90 days: long enough to look back over a project's phases. */
const CHART_KEEP_SECONDS = 90 * 24 * 60 * 60;

/**
 * The coordination state in one DynamoDB table (key schema in keys.ts). Conditional writes compare
 * a `version` attribute; everything a request changes goes into one transaction.
 */
export class DynamoDbCoordinationStore
  implements CoordinationStore, TokenStore, IdempotencyStore, ChartArchive
{
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Plan pointers read in the last second: every request reads one, and plans change rarely. */
  private readonly pointers = new Map<string, { item: Item | undefined; readAt: number }>();
  /** Plans this container applied, per project: a change-counter bump racing one does not cache its pointer. */
  private readonly applies = new Map<string, number>();

  async currentPlan(project: string): Promise<StoredPlan | undefined> {
    const item = await this.pointer(project, POINTER_CACHE_MS);
    return item ? this.loadPlan(project, item) : undefined;
  }

  async changes(project: string): Promise<{ version: number; changes: number } | undefined> {
    const item = await this.pointer(project, CHANGES_FRESH_MS);
    return item
      ? { version: item.version as number, changes: (item.changes as number | undefined) ?? 0 }
      : undefined;
  }

  async bumpChanges(project: string, n: number): Promise<void> {
    const applies = this.applies.get(project) ?? 0;
    try {
      const response = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.planPointer(project),
          UpdateExpression: 'ADD changes :n',
          // No plan, no counter: ADD would otherwise create a pointer without a plan.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':n': n },
          ReturnValues: 'ALL_NEW',
        }),
      );
      // This container's pointer is now the stored one: requests keep it instead of reading it again
      // (in convoy dev the publisher shares the API's store, and bumps several times a second); unless
      // a plan was applied here meanwhile, which the pointer this write returned may predate.
      if ((this.applies.get(project) ?? 0) === applies)
        this.pointers.set(project, { item: response.Attributes, readAt: Date.now() });
      else this.pointers.delete(project);
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      this.pointers.delete(project);
    }
  }

  /** The plan pointer, from this container's cache when it was read less than `maxAgeMs` ago. */
  private async pointer(project: string, maxAgeMs: number): Promise<Item | undefined> {
    const now = Date.now();
    let cached = this.pointers.get(project);
    if (!cached || now - cached.readAt > maxAgeMs) {
      cached = { item: await this.get(keys.planPointer(project)), readAt: now };
      if (this.pointers.size > 1000) this.pointers.clear();
      this.pointers.set(project, cached);
    }
    return cached.item;
  }

  private async loadPlan(project: string, pointer: Item): Promise<StoredPlan> {
    const versionKey = pointer.planKey as Key;
    const cacheKey = `${versionKey.pk}/${versionKey.sk}`;
    let plan = planCache.get(cacheKey);
    if (!plan) {
      const item = await this.get(versionKey);
      if (!item)
        throw new Error(`plan version ${String(pointer.version)} of ${project} is missing from the table`);
      plan = JSON.parse(gunzipSync(item.plan as Uint8Array).toString('utf8')) as Plan;
      if (planCache.size >= PLAN_CACHE_LIMIT) planCache.delete(planCache.keys().next().value as string);
      planCache.set(cacheKey, plan);
    }
    return {
      project,
      version: pointer.version as number,
      plan,
      appliedAt: pointer.appliedAt as string,
      appliedBy: pointer.appliedBy as string,
    };
  }

  async savePlan(
    project: string,
    plan: Plan,
    expectedVersion: number,
    meta: { at: string; by: string; event: AuditEvent },
  ): Promise<StoredPlan> {
    const version = expectedVersion + 1;
    // A random suffix keeps two concurrent applies of the same version from overwriting each other's
    // body: only the one whose pointer update wins is ever read.
    const planKey = keys.planVersion(project, version);
    planKey.sk += `#${randomBytes(4).toString('hex')}`;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...planKey,
          version,
          plan: gzipSync(JSON.stringify(plan)),
          appliedAt: meta.at,
          appliedBy: meta.by,
        },
      }),
    );
    await this.transact([
      {
        Put: {
          TableName: this.tableName,
          // The change counter starts again at 0: `<version>.<changes>` is new all the same.
          Item: { ...keys.planPointer(project), version, planKey, appliedAt: meta.at, appliedBy: meta.by },
          ...this.versionCondition(expectedVersion),
        },
      },
      eventPut(this.tableName, project, meta.event),
      { Put: { TableName: this.tableName, Item: { ...keys.project(project), project, version } } },
    ]);
    this.pointers.delete(project);
    this.applies.set(project, (this.applies.get(project) ?? 0) + 1);
    return { project, version, plan, appliedAt: meta.at, appliedBy: meta.by };
  }

  async listProjects(): Promise<string[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'PROJECTS' },
    });
    return items.map((item) => item.sk as string);
  }

  async snapshot(project: string): Promise<ProjectSnapshot | undefined> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.projectPartition(project) },
    });
    const pointer = items.find((item) => item.sk === 'PLAN');
    if (!pointer) return undefined;
    const phases = new Map<string, PhaseState>();
    const tasks = new Map<string, TaskState>();
    const agents = new Map<string, AgentState>();
    const metrics = new Map<string, MetricPoint>();
    let leases: readonly ResourceLease[] = [];
    for (const item of items) {
      const sk = item.sk as string;
      if (sk === keys.leases(project).sk) leases = strip<LeaseSet>(item).leases;
      switch (itemKind(sk)) {
        case 'phase':
          phases.set(idOf(sk), toPhase(item));
          break;
        case 'task':
          tasks.set(idOf(sk), toTask(item));
          break;
        case 'agent':
          agents.set(idOf(sk), toAgent(item));
          break;
        case 'metric':
          metrics.set(idOf(sk), { name: idOf(sk), value: item.value as number, at: item.at as string });
          break;
        default:
      }
    }
    return { plan: await this.loadPlan(project, pointer), phases, tasks, agents, metrics, leases };
  }

  async getTasks(project: string, ids: readonly string[]): Promise<Map<string, TaskState>> {
    const found = new Map<string, TaskState>();
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += 100) {
      let request: Record<string, { Keys: Key[]; ConsistentRead: boolean }> | undefined = {
        [this.tableName]: {
          Keys: unique.slice(start, start + 100).map((id) => keys.task(project, id)),
          ConsistentRead: true,
        },
      };
      while (request && Object.keys(request).length > 0) {
        const response = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of response.Responses?.[this.tableName] ?? [])
          found.set(idOf(item.sk as string), toTask(item));
        request = response.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  async getTaskContext(
    project: string,
    taskIds: readonly string[],
    phase: string,
  ): Promise<{ tasks: Map<string, TaskState>; phase?: PhaseState; done: number }> {
    const wanted = [...new Set(taskIds)];
    if (wanted.length > 98) {
      const [tasks, phaseState, done] = await Promise.all([
        this.getTasks(project, wanted),
        this.getPhase(project, phase),
        this.countDone(project, phase, 0),
      ]);
      return { tasks, ...(phaseState ? { phase: phaseState } : {}), done };
    }
    const tasks = new Map<string, TaskState>();
    let phaseState: PhaseState | undefined;
    let done = 0;
    const doneKey = keys.phaseDoneCount(project, phase);
    let request: Record<string, { Keys: Key[]; ConsistentRead: boolean }> | undefined = {
      [this.tableName]: {
        Keys: [...wanted.map((id) => keys.task(project, id)), keys.phase(project, phase), doneKey],
        ConsistentRead: true,
      },
    };
    while (request && Object.keys(request).length > 0) {
      const response = await this.client.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of response.Responses?.[this.tableName] ?? []) {
        const sk = item.sk as string;
        if (sk === doneKey.sk) done = Number(item.done ?? 0);
        else if (itemKind(sk) === 'phase') phaseState = toPhase(item);
        else tasks.set(idOf(sk), toTask(item));
      }
      request = response.UnprocessedKeys as typeof request;
    }
    return { tasks, ...(phaseState ? { phase: phaseState } : {}), done };
  }

  async countDone(project: string, phase: string, delta: number): Promise<number> {
    // Only reading it (every transition to done asks): a consistent read, not a write of nothing.
    if (delta === 0) {
      const item = await this.get(keys.phaseDoneCount(project, phase));
      return Number(item?.done ?? 0);
    }
    const response = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.phaseDoneCount(project, phase),
        UpdateExpression: 'ADD #done :delta',
        ExpressionAttributeNames: { '#done': 'done' },
        ExpressionAttributeValues: { ':delta': delta },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(response.Attributes?.done ?? 0);
  }

  async getPhase(project: string, id: string): Promise<PhaseState | undefined> {
    const item = await this.get(keys.phase(project, id));
    return item ? toPhase(item) : undefined;
  }

  async commit(project: string, change: Change): Promise<void> {
    const now = change.outbox?.now;
    const items: TransactItem[] = [
      ...(change.tasks ?? []).map(({ next, expectedVersion }) => ({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.task(project, next.id), ...next },
          ...this.versionCondition(expectedVersion),
        },
      })),
      ...(change.phases ?? []).map(({ next, expectedVersion }) => ({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.phase(project, next.id), ...next },
          ...this.versionCondition(expectedVersion),
        },
      })),
      ...(change.handoffs ?? []).map((handoff) => ({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.handoff(project, handoff.id), ...handoff },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      ...(change.leases
        ? [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.leases(project), ...change.leases.next },
                ...this.versionCondition(change.leases.expectedVersion),
              },
            },
          ]
        : []),
      ...(change.agentsDown ?? []).map((mark) => ({ Update: this.downMark(project, mark.agent, mark) })),
      ...(change.agentsUp ?? []).map((up) => ({ Update: this.upMark(project, up) })),
      ...(change.doneCounts ?? []).map(({ phase, delta }) => ({
        Update: {
          TableName: this.tableName,
          Key: keys.phaseDoneCount(project, phase),
          UpdateExpression: 'ADD #done :delta',
          ExpressionAttributeNames: { '#done': 'done' },
          ExpressionAttributeValues: { ':delta': delta },
        },
      })),
      ...change.events.map((event) => eventPut(this.tableName, project, event)),
      // The ids name the change (a task version, a handoff): only this change's own conditional writes
      // can bring them, so a plain put never replaces an entry of another change.
      ...(change.outbox?.entries ?? []).map((entry, index) => ({
        Put: {
          TableName: this.tableName,
          Item: outboxItem(
            entry,
            (now as Date).toISOString(),
            new Date((now as Date).getTime() + index).toISOString(),
          ),
        },
      })),
      ...(change.published ?? []).map((event) => domainEventPut(this.tableName, event)),
    ];
    assertFitsOneTransaction(items);
    await this.transact(items);
  }

  async taskSummaries(
    project: string,
  ): Promise<{ tasks: Map<string, TaskSummary>; phases: Map<string, PhaseState> }> {
    // Two Queries of the project partition at once: the tasks, projected to what choosing one needs,
    // and the phases (a handful).
    const [taskItems, phaseItems] = await Promise.all([
      this.queryAll({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :task)',
        ProjectionExpression: 'sk, #status, blocked, claim, version',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': keys.projectPartition(project), ':task': 'TASK#' },
      }),
      this.queryAll({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :phase)',
        ExpressionAttributeValues: { ':pk': keys.projectPartition(project), ':phase': 'PHASE#' },
      }),
    ]);
    const tasks = new Map<string, TaskSummary>();
    for (const item of taskItems) {
      const id = idOf(item.sk as string);
      tasks.set(id, {
        id,
        status: item.status as TaskSummary['status'],
        blocked: item.blocked === true,
        version: item.version as number,
        ...(item.claim ? { claim: item.claim as NonNullable<TaskSummary['claim']> } : {}),
      });
    }
    const phases = new Map<string, PhaseState>();
    for (const item of phaseItems) phases.set(idOf(item.sk as string), toPhase(item));
    return { tasks, phases };
  }

  async getLeases(project: string): Promise<LeaseSet> {
    const item = await this.get(keys.leases(project));
    return item ? strip<LeaseSet>(item) : { leases: [], version: 0 };
  }

  async renewClaim(
    project: string,
    task: string,
    renewal: { agent: string; at: string; expiresAt: string },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.task(project, task),
          UpdateExpression: 'SET #claim.#expires = :expires ADD #version :one',
          // Its holder renews a claim until the monitor releases it, lapsed or not: nobody else can have
          // taken it meanwhile (core/coordination/fencing.ts).
          ConditionExpression: '#claim.#agent = :agent',
          ExpressionAttributeNames: {
            '#claim': 'claim',
            '#agent': 'agent',
            '#expires': 'expiresAt',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ':agent': renewal.agent,
            ':expires': renewal.expiresAt,
            ':one': 1,
          },
        }),
      );
      return true;
    } catch (error) {
      // Not (or no longer) its claim; or a transaction on the task (a transition, a release) is under
      // way, which the renewal must not outlive either: the next heartbeat renews a claim still held.
      const name = (error as Error).name;
      if (name === 'ConditionalCheckFailedException' || name === 'TransactionConflictException') return false;
      throw error;
    }
  }

  async recordHeartbeat(
    project: string,
    agent: string,
    heartbeat: Heartbeat,
  ): Promise<{ agent: AgentState; down?: string }> {
    const update = this.heartbeatUpdate(project, agent, heartbeat);
    // SET and ADD in one UpdateItem: no read, so concurrent heartbeats all count. The item as it was
    // before this very update gives the new state. Only a heartbeat at least as new as the stored one
    // moves lastHeartbeatAt (and what it reports), and only while the agent is not marked down: bringing
    // it back up is a change of its own, written with its consequences (`Change.agentsUp`).
    let response: { Attributes?: Item | undefined };
    try {
      response = await this.client.send(
        new UpdateCommand({
          ...update,
          ConditionExpression: '(attribute_not_exists(#at) OR #at <= :at) AND attribute_not_exists(#down)',
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      const stored = (error as { Item?: Record<string, AttributeValue> }).Item;
      // Without the item on the failure (an endpoint that ignores ReturnValuesOnConditionCheckFailure),
      // read it: taking a down agent's heartbeat for a stale one would leave it down for good.
      const found = stored ? unmarshall(stored) : await this.get(keys.agent(project, agent));
      const old = found ? toAgent(found) : undefined;
      // Marked down (and this heartbeat not older than its last one): nothing written; the caller brings
      // it back up in one transaction with the event, the notice and the trail.
      if (
        old?.downSince !== undefined &&
        !(old.lastHeartbeatAt !== undefined && old.lastHeartbeatAt > heartbeat.at)
      )
        return { agent: old, down: old.downSince };
      // A concurrent heartbeat stamped later got there first: this one still counts, but its older
      // time and report do not overwrite the newer ones.
      const counted = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.agent(project, agent),
          UpdateExpression: 'ADD #count :one, #version :one',
          ExpressionAttributeNames: { '#count': 'heartbeats', '#version': 'version' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { agent: toAgent(counted.Attributes ?? {}) };
    }
    return {
      agent: afterHeartbeat(response.Attributes ? toAgent(response.Attributes) : undefined, agent, heartbeat),
    };
  }

  /** The heartbeat's SET and ADD on the agent's item (its condition is the caller's). */
  private heartbeatUpdate(project: string, agent: string, heartbeat: Heartbeat) {
    const names: Record<string, string> = {
      '#at': 'lastHeartbeatAt',
      '#id': 'id',
      '#count': 'heartbeats',
      '#version': 'version',
      '#down': 'downSince',
    };
    const values: Record<string, unknown> = { ':at': heartbeat.at, ':id': agent, ':one': 1 };
    const sets = ['#at = :at', '#id = :id'];
    const fields = {
      currentTask: heartbeat.task,
      completion: heartbeat.completion,
      risk: heartbeat.risk,
      note: heartbeat.note,
    };
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    return {
      TableName: this.tableName,
      Key: keys.agent(project, agent),
      UpdateExpression: `SET ${sets.join(', ')} ADD #count :one, #version :one`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * An agent back up, in a change's transaction: its heartbeat written and its down mark removed, only
   * while the mark is still the one the caller saw (a concurrent heartbeat that brought it back wins)
   * and the heartbeat is not older than the stored one.
   */
  private upMark(project: string, up: AgentUp) {
    const update = this.heartbeatUpdate(project, up.agent, up.heartbeat);
    return {
      ...update,
      UpdateExpression: update.UpdateExpression.replace(' ADD ', ' REMOVE #down ADD '),
      ConditionExpression: '#down = :seen AND (attribute_not_exists(#at) OR #at <= :at)',
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':seen': up.downSince },
    };
  }

  /**
   * Marks an agent down, on its own or in a change's transaction: only while it is not already, and
   * only if no heartbeat arrived since the monitor read the agent (that heartbeat wins).
   */
  private downMark(project: string, agent: string, mark: { at: string; lastHeartbeatAt: string }) {
    return {
      TableName: this.tableName,
      Key: keys.agent(project, agent),
      UpdateExpression: 'SET #down = :at ADD #version :one',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#down) AND #last = :last',
      ExpressionAttributeNames: { '#down': 'downSince', '#last': 'lastHeartbeatAt', '#version': 'version' },
      ExpressionAttributeValues: { ':at': mark.at, ':last': mark.lastHeartbeatAt, ':one': 1 },
    };
  }

  async markAgentDown(
    project: string,
    agent: string,
    mark: { at: string; lastHeartbeatAt: string },
  ): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand(this.downMark(project, agent, mark)));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async metricHistory(project: string, name: string, since: string): Promise<MetricPoint[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: { ':pk': keys.metricSeries(project, name), ':since': since },
      ProjectionExpression: '#name, #value, #at',
      ExpressionAttributeNames: { '#name': 'name', '#value': 'value', '#at': 'at' },
      ConsistentRead: false,
    });
    return items as unknown as MetricPoint[];
  }

  async listHandoffs(project: string, since: string): Promise<Handoff[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: { ':pk': keys.handoffs(project), ':since': since },
      ConsistentRead: false,
    });
    return items.map((item) => strip<Handoff>(item, ['pk', 'sk']));
  }

  async saveChart(project: string, name: string, chart: { at: string; png: Uint8Array }): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.chart(project, name, chart.at),
          name,
          at: chart.at,
          png: chart.png,
          expiresAt: Math.floor(Date.parse(chart.at) / 1000) + CHART_KEEP_SECONDS,
        },
      }),
    );
  }

  async chartAt(
    project: string,
    name: string,
    at: string,
  ): Promise<{ at: string; png: Uint8Array } | undefined> {
    const item = await this.get(keys.chart(project, name, at));
    return item ? { at: item.at as string, png: item.png as Uint8Array } : undefined;
  }

  async latestChart(project: string, name: string): Promise<{ at: string; png: Uint8Array } | undefined> {
    const response = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :name)',
        ExpressionAttributeValues: { ':pk': keys.charts(project), ':name': `${name}#` },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = response.Items?.[0];
    return item ? { at: item.at as string, png: item.png as Uint8Array } : undefined;
  }

  async putMetrics(
    project: string,
    points: readonly MetricPoint[],
    published: readonly DomainEvent[] = [],
  ): Promise<void> {
    if (points.length > MAX_TRANSACTION_ITEMS)
      throw new ValidationError(`at most ${MAX_TRANSACTION_ITEMS} metrics per request`);
    const events = published.map((event) => domainEventPut(this.tableName, event));
    // Keyed by name, time and value (keys.ts): a point posted again is the same item, written with the
    // same content, and a repeat inside one request is written once (a transaction may not touch an
    // item twice).
    const unique = new Map<string, TransactItem>();
    for (const point of points) {
      const key = keys.metricPoint(project, point.name, point.at, point.value);
      unique.set(`${key.pk}\n${key.sk}`, {
        Put: {
          TableName: this.tableName,
          Item: { ...key, name: point.name, value: point.value, at: point.at },
        },
      });
    }
    // The latest value of each metric is a cache of its series, moved only forward in time.
    const latest = new Map<string, MetricPoint>();
    for (const point of points) {
      const current = latest.get(point.name);
      if (!current || current.at <= point.at) latest.set(point.name, point);
    }
    const moves = [...latest.values()].map((point) => ({
      TableName: this.tableName,
      Key: keys.latestMetric(project, point.name),
      UpdateExpression: 'SET #value = :value, #at = :at',
      ConditionExpression: 'attribute_not_exists(#at) OR #at <= :at',
      ExpressionAttributeNames: { '#value': 'value', '#at': 'at' },
      ExpressionAttributeValues: { ':value': point.value, ':at': point.at },
    }));
    // Usually every point is the newest of its metric: the points and the moves go in one request.
    // A point older than the stored latest (or a concurrent writer) cancels it; then the points are
    // written alone and each latest value moves if it may, as below.
    if (unique.size + moves.length + events.length <= MAX_TRANSACTION_ITEMS) {
      try {
        await this.transact([...unique.values(), ...moves.map((Update) => ({ Update }))].concat(events));
        return;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
    // The events go with the points. Only 100 distinct points, one older than its stored latest value,
    // leave no room: then the event follows them, and the monitor's minute run over every metric's
    // latest value is what still applies the `when` rules should it be lost.
    const points100 = [...unique.values()];
    if (points100.length + events.length <= MAX_TRANSACTION_ITEMS)
      await this.transact(points100.concat(events));
    else {
      await this.transact(points100);
      await this.transact(events);
    }
    await Promise.all(
      moves.map((move) =>
        this.client.send(new UpdateCommand(move)).catch((error: Error) => {
          if (error.name !== 'ConditionalCheckFailedException') throw error;
        }),
      ),
    );
  }

  async appendEvents(project: string, events: readonly AuditEvent[]): Promise<void> {
    await this.transact(events.map((event) => eventPut(this.tableName, project, event)));
  }

  async listEvents(
    project: string,
    query: { type?: string; since?: string; limit: number; cursor?: string },
  ): Promise<EventPage> {
    const byType = query.type !== undefined;
    const [pkName, skName] = byType ? ['gsi1pk', 'gsi1sk'] : ['pk', 'sk'];
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ...(byType ? { IndexName: 'gsi1' } : {}),
      KeyConditionExpression: `#pk = :pk${query.since ? ' AND #sk >= :since' : ''}`,
      ExpressionAttributeNames: { '#pk': pkName, ...(query.since ? { '#sk': skName } : {}) },
      ExpressionAttributeValues: {
        ':pk': byType ? keys.eventsOfType(project, query.type as string) : keys.events(project),
        ...(query.since ? { ':since': query.since } : {}),
      },
      ScanIndexForward: false,
      Limit: query.limit,
      ...(query.cursor ? { ExclusiveStartKey: eventsPosition(query.cursor, project, query) } : {}),
    };
    const response = await this.client.send(new QueryCommand(input));
    const events = (response.Items ?? []).map(toEvent);
    return {
      events,
      ...(response.LastEvaluatedKey ? { cursor: encodeCursor(response.LastEvaluatedKey) } : {}),
    };
  }

  async saveToken(token: StoredToken, audit?: TokenAudit): Promise<void> {
    await this.transact([
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.token(token.id),
            gsi1pk: token.project === undefined ? keys.adminTokens : keys.projectTokens(token.project),
            gsi1sk: `${token.createdAt}#${token.id}`,
            ...token,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...(audit ? [eventPut(this.tableName, audit.project, audit.event)] : []),
    ]);
  }

  async findToken(id: string): Promise<StoredToken | undefined> {
    const item = await this.get(keys.token(id));
    return item ? strip<StoredToken>(item, ['pk', 'sk', 'gsi1pk', 'gsi1sk']) : undefined;
  }

  async listTokens(project: string): Promise<StoredToken[]> {
    // gsi1 reads are eventually consistent (DynamoDB offers no other kind on an index).
    const list = (gsi1pk: string) =>
      this.queryAll({
        IndexName: 'gsi1',
        ConsistentRead: false,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': gsi1pk },
      });
    const items = [...(await list(keys.adminTokens)), ...(await list(keys.projectTokens(project)))];
    return items
      .map((item) => strip<StoredToken>(item, ['pk', 'sk', 'gsi1pk', 'gsi1sk']))
      .sort((a, b) => (a.createdAt === b.createdAt ? 0 : a.createdAt < b.createdAt ? -1 : 1));
  }

  async deleteToken(id: string, audit?: TokenAudit): Promise<boolean> {
    try {
      await this.transact([
        {
          Delete: {
            TableName: this.tableName,
            Key: keys.token(id),
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        ...(audit ? [eventPut(this.tableName, audit.project, audit.event)] : []),
      ]);
      return true;
    } catch (error) {
      if (error instanceof VersionConflictError) {
        if (!(await this.get(keys.token(id)))) return false;
      }
      throw error;
    }
  }

  async claim(key: string, fingerprint: string, now: Date, holdSeconds: number): Promise<IdempotencyClaim> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      // TTL deletion lags by up to days, so an expired record is treated as absent here too.
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.idempotency(key),
            state: 'in_progress',
            fingerprint,
            expiresAt: nowSeconds + holdSeconds,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return { state: 'new' };
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
    const record = await this.get(keys.idempotency(key));
    if (record?.state !== 'done') return { state: 'in_progress' };
    return {
      state: 'done',
      fingerprint: record.fingerprint as string,
      outcome: JSON.parse(record.outcome as string),
    };
  }

  async complete(
    key: string,
    fingerprint: string,
    outcome: unknown,
    now: Date,
    keepSeconds: number,
  ): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.idempotency(key),
          state: 'done',
          fingerprint,
          outcome: JSON.stringify(outcome),
          expiresAt: Math.floor(now.getTime() / 1000) + keepSeconds,
        },
      }),
    );
  }

  async release(key: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.idempotency(key) }));
  }

  private versionCondition(expectedVersion: number) {
    return expectedVersion === 0
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : {
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        };
  }

  private async transact(items: TransactItem[]): Promise<void> {
    if (items.length > MAX_TRANSACTION_ITEMS)
      throw new Error(`a transaction holds at most ${MAX_TRANSACTION_ITEMS} items, got ${items.length}`);
    await transactWrite(this.client, items);
  }

  private async get(key: Key): Promise<Item | undefined> {
    const response = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return response.Item;
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    return queryAll(this.client, { TableName: this.tableName, ConsistentRead: true, ...input });
  }
}

/**
 * The key an events cursor holds, checked against the query it is used with: the project's trail
 * (or its index by type, for a `type` query), inside `since`. A cursor of another project or query,
 * or a crafted key (a token item, an empty sort key), is a 400, never a read elsewhere.
 */
function eventsPosition(
  cursor: string,
  project: string,
  query: { type?: string; since?: string },
): Record<string, unknown> {
  const byType = query.type !== undefined;
  return decodeCursor<Record<string, unknown>>(
    cursor,
    (key) => {
      const names = Object.keys(key).sort().join(',');
      const sk = key.sk as string;
      return (
        names === (byType ? 'gsi1pk,gsi1sk,pk,sk' : 'pk,sk') &&
        key.pk === keys.events(project) &&
        (!byType || (key.gsi1pk === keys.eventsOfType(project, query.type as string) && key.gsi1sk === sk)) &&
        Buffer.byteLength(sk) <= 1024 &&
        (query.since === undefined || sk >= query.since)
      );
    },
    ' for this project and query',
  );
}

const toTask = (item: Item) => strip<TaskState>(item, ['pk', 'sk']);
const toPhase = (item: Item) => strip<PhaseState>(item, ['pk', 'sk']);
const toAgent = (item: Item) => strip<AgentState>(item, ['pk', 'sk']);
const toEvent = (item: Item) => strip<AuditEvent>(item, ['pk', 'sk', 'gsi1pk', 'gsi1sk']);

/** Event and handoff ids: the ISO time first, so they sort by time, then random bits against collisions. */
export const timeOrderedIds = { next: (at: string) => `${at}#${randomBytes(5).toString('hex')}` };
