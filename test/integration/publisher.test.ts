import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbCoordinationStore,
  timeOrderedIds,
} from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../../functions/adapters/dynamodb/escalation-store.js';
import { DynamoDbGateStore } from '../../functions/adapters/dynamodb/gate-store.js';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordHeartbeat,
  transitionTask,
} from '../../functions/core/coordination/commands.js';
import type { DomainEvent, DomainEventBus } from '../../functions/core/domain-events.js';
import { evaluateStep, requestDecisionStep } from '../../functions/core/gates/steps.js';
import { parsePlan } from '../../functions/core/plan/index.js';
import { StreamPublisher } from '../../functions/local/stream-publisher.js';
import { createTestTable, type TestTable } from '../support/dynamodb.js';

const PLAN = `version: 1
project: { id: relay, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm, name: Pat Manager }]
agents: [{ id: alpha, owner: pm }]
gates:
  - id: build-gate
    approvers: [pm]
    criteria: [{ go: "coverage >= 80" }]
phases:
  - id: build
    gate: build-gate
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: REL-1 }
      - { id: docs, agent: alpha, estimate: 1d }
  - { id: ship, dependsOn: [build], tasks: [{ id: deploy, agent: alpha, estimate: 1d }] }
integrations:
  jira: { site: https://example.atlassian.net, statuses: { done: Done } }
  slack: { channel: "#relay" }
`;

const admin = { kind: 'admin' } as const;

/** A bus that records what it was given; `failures` publishes throw first. */
function recordingBus(failures = 0): DomainEventBus & { ids: string[] } {
  let left = failures;
  const ids: string[] = [];
  return {
    ids,
    async publish(events: readonly DomainEvent[]) {
      if (left > 0) {
        left--;
        throw new Error('EventBridge is unavailable');
      }
      ids.push(...events.map((event) => event.id));
    },
  };
}

let table: TestTable;
let documentClient: DynamoDBDocumentClient;
let ports: CoordinationPorts & { store: DynamoDbCoordinationStore; outbox: DynamoDbOutbox };
const publishers: StreamPublisher[] = [];

function publisher(bus: DomainEventBus): StreamPublisher {
  const started = new StreamPublisher({
    client: table.client,
    documentClient,
    tableName: table.tableName,
    ports: { ...ports, events: bus },
    log: () => undefined,
  });
  publishers.push(started);
  return started;
}

beforeEach(async () => {
  table = await createTestTable();
  documentClient = DynamoDBDocumentClient.from(table.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoDbCoordinationStore(documentClient, table.tableName);
  ports = {
    store,
    outbox: new DynamoDbOutbox(documentClient, table.tableName),
    escalations: new DynamoDbEscalationStore(documentClient, table.tableName),
    idempotency: store,
    clock: { now: () => new Date() },
    ids: timeOrderedIds,
  };
  const parsed = parsePlan(PLAN, { file: 'plan.yaml' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await applyPlan(ports, { project: 'relay', plan: parsed.plan, actor: admin });
});

afterEach(async () => {
  for (const started of publishers.splice(0)) await started.stop();
});

/** The build phase's tasks finished, with no publisher running: as if the process died after each commit. */
async function finishBuild() {
  for (const task of ['api', 'docs']) {
    await transitionTask(ports, { project: 'relay', task, to: 'in_progress', actor: admin });
    await transitionTask(ports, { project: 'relay', task, to: 'done', actor: admin });
  }
}

const step = { project: 'relay', phase: 'build', gate: 'build-gate', attempt: 1 };

/** An attempt at the build gate under way, and a gate store whose process dies on its next gate save. */
async function gateUnderWay() {
  const gates = new DynamoDbGateStore(documentClient, table.tableName);
  await gates.saveGate(
    'relay',
    {
      gate: step.gate,
      phase: step.phase,
      attempt: step.attempt,
      status: 'evaluating',
      updatedAt: new Date().toISOString(),
      version: 1,
    },
    0,
  );
  const dying = Object.assign(Object.create(gates) as DynamoDbGateStore, {
    saveGate: async () => {
      throw new Error('the process stopped');
    },
  });
  return { gates, dying };
}

const count = (ids: readonly string[], id: string) => ids.filter((candidate) => candidate === id).length;

describe('the transactional outbox and its publisher', () => {
  it('loses no event or command when the process stops between the transaction and the publisher', async () => {
    // Prepare
    await finishBuild();
    const bus = recordingBus();

    // Act: a publisher started afterwards reads what the transactions wrote.
    const delivered = await publisher(bus).publishOnce();

    // Assess
    const outbox = await ports.outbox.due(new Date(Date.now() + 60_000), 50);
    expect(delivered).toBeGreaterThanOrEqual(5);
    expect(count(bus.ids, 'task.changed/relay/api/v2')).toBe(1);
    expect(count(bus.ids, 'task.changed/relay/docs/v2')).toBe(1);
    expect(bus.ids.filter((id) => id.startsWith('phase.tasks_completed/relay/build/'))).toHaveLength(1);
    expect(outbox.map((entry) => entry.id).sort()).toEqual(
      expect.arrayContaining([
        'task:relay:api:v2',
        'slack:task-done:relay:api:v2',
        'slack:task-done:relay:docs:v2',
      ]),
    );
  });

  it('delivers every event again after the bus failed once, and a second run delivers nothing twice', async () => {
    // Prepare
    await finishBuild();
    const bus = recordingBus(1);
    const first = publisher(bus);

    // Act
    const refused = await first.publishOnce();
    const retried = await first.publishOnce();
    const again = await first.publishOnce();

    // Assess
    expect(refused).toBe(0);
    expect(retried).toBeGreaterThanOrEqual(5);
    expect(again).toBe(0);
    expect(new Set(bus.ids).size).toBe(bus.ids.length);
  });

  it('delivers the rest of a batch after a process stopped in the middle of it, following each event once', async () => {
    // Prepare: the first process dies in a follower (reading a phase's done count, once for the batch's
    // tasks of the phase: for its last one) after the bus took the batch.
    await finishBuild();
    const dying = recordingBus();
    let counts = 0;
    const store = ports.store;
    const broken = new Proxy(store, {
      get(target, property) {
        if (property === 'countDone')
          return async (...args: Parameters<typeof store.countDone>) => {
            counts++;
            if (counts === 1) throw new Error('the process stopped');
            return target.countDone(...args);
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const first = new StreamPublisher({
      client: table.client,
      documentClient,
      tableName: table.tableName,
      ports: { ...ports, store: broken, events: dying },
      log: () => undefined,
    });
    publishers.push(first);
    const partly = await first.publishOnce();
    await first.stop();

    // Act: a new process starts from the table's checkpoint.
    const bus = recordingBus();
    const rest = await publisher(bus).publishOnce();

    // Assess: every event reached a bus; none was left out, the rest of the batch came again.
    const all = new Set([...dying.ids, ...bus.ids]);
    expect(partly).toBeGreaterThanOrEqual(1);
    expect(rest).toBeGreaterThanOrEqual(1);
    expect(all.has('task.changed/relay/api/v2')).toBe(true);
    // The event whose follower died is delivered again by the new process.
    expect(bus.ids).toContain('task.changed/relay/docs/v2');
    expect([...all].filter((id) => id.startsWith('phase.tasks_completed/relay/build/'))).toHaveLength(1);
    const snapshot = await ports.store.snapshot('relay');
    expect(snapshot?.phases.get('build')?.status).toBe('active');
  });

  it('loses no gate.decided when the process stops right after the gate decision was saved', async () => {
    // Prepare
    const { gates, dying } = await gateUnderWay();
    const stopped = await evaluateStep(
      { ...ports, gates: dying },
      { ...step, step: 'evaluate', execution: 'relay-build-1', cautions: 0 },
    ).catch((error: Error) => error);
    const bus = recordingBus();
    const started = publisher(bus);

    // Act
    await started.publishOnce();
    await started.publishOnce();

    // Assess: the step died before its gate save, yet the decision's event is delivered, once.
    expect(stopped).toBeInstanceOf(Error);
    expect((await gates.getGate('relay', 'build-gate'))?.latest).toBeUndefined();
    expect(count(bus.ids, 'gate.decided/relay/build-gate/1')).toBe(1);
  });

  it('escalates a NO-GO to the approvers when the gate step stops right after recording it', async () => {
    // Prepare
    const { dying } = await gateUnderWay();
    const stopped = await requestDecisionStep(
      { ...ports, gates: dying },
      {
        ...step,
        step: 'request-decision',
        execution: 'relay-build-1',
        cautions: 0,
        taskToken: 'token-1',
        reminders: 0,
        evaluation: { decision: 'NO-GO', cautionWindowSeconds: 60, maxCautions: 1 },
      },
    ).catch((error: Error) => error);
    const before = await ports.escalations?.unresolvedEscalations('relay');
    const started = publisher(recordingBus());

    // Act
    await started.publishOnce();
    await started.publishOnce();

    // Assess: the step died before the gate said it waits, yet the approvers are escalated to, once.
    expect(stopped).toBeInstanceOf(Error);
    expect(before).toEqual([]);
    expect(await ports.escalations?.unresolvedEscalations('relay')).toEqual([
      expect.objectContaining({ subject: 'build-gate', targets: ['pm'], occurrences: 1 }),
    ]);
  });

  it('keeps an agent down when the process stops bringing it back up, so its next heartbeat publishes agent.up once', async () => {
    // Prepare: alpha was heard from, then marked down; the first process dies committing its return.
    await recordHeartbeat(ports, { project: 'relay', agent: 'alpha', actor: admin });
    const seen = (await ports.store.snapshot('relay'))?.agents.get('alpha')?.lastHeartbeatAt as string;
    const downSince = new Date().toISOString();
    await ports.store.markAgentDown('relay', 'alpha', { at: downSince, lastHeartbeatAt: seen });
    const store = ports.store;
    const dying = new Proxy(store, {
      get(target, property) {
        if (property === 'commit')
          return async (...args: Parameters<typeof store.commit>) => {
            if (args[1].agentsUp?.length) throw new Error('the process stopped');
            return target.commit(...args);
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const stopped = await recordHeartbeat(
      { ...ports, store: dying },
      { project: 'relay', agent: 'alpha', actor: admin },
    ).catch((error: Error) => error);
    const afterCrash = (await ports.store.snapshot('relay'))?.agents.get('alpha');

    // Act: the agent's next heartbeats reach a healthy process; a publisher delivers what was written.
    const back = await recordHeartbeat(ports, { project: 'relay', agent: 'alpha', actor: admin });
    await recordHeartbeat(ports, { project: 'relay', agent: 'alpha', actor: admin });
    const bus = recordingBus();
    const started = publisher(bus);
    await started.publishOnce();
    await started.publishOnce();

    // Assess: nothing of the return was written by the dead process, and it is published once.
    expect(stopped).toBeInstanceOf(Error);
    expect(afterCrash).toMatchObject({ downSince, heartbeats: 1 });
    expect(back).toMatchObject({ heartbeats: 2 });
    expect(back.downSince).toBeUndefined();
    expect(count(bus.ids, `agent.up/relay/alpha/${downSince}`)).toBe(1);
    expect(bus.ids.filter((id) => id.startsWith('agent.up/'))).toHaveLength(1);
    const trail = await ports.store.listEvents('relay', { type: 'agent.up', limit: 10 });
    expect(trail.events).toEqual([expect.objectContaining({ subject: 'alpha', data: { downSince } })]);
    const notices = (await ports.outbox.due(new Date(Date.now() + 60_000), 50)).map((entry) => entry.id);
    expect(notices.filter((id) => id.includes('agent-up'))).toEqual([
      `slack:agent-up:relay:alpha:${downSince}`,
    ]);
    const agent = (await ports.store.snapshot('relay'))?.agents.get('alpha');
    expect(agent).toMatchObject({ heartbeats: 3 });
    expect(agent?.downSince).toBeUndefined();
  });
});
