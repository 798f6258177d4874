import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbCoordinationStore,
  timeOrderedIds,
} from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../../functions/adapters/dynamodb/escalation-store.js';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordEvent,
  recordHeartbeat,
  recordMetrics,
  setBlocker,
  transitionTask,
} from '../../functions/core/coordination/commands.js';
import type { DomainEvent } from '../../functions/core/domain-events.js';
import { confirmEscalationReassignment } from '../../functions/core/escalations/service.js';
import { followNow } from '../../functions/core/integrations/publisher.js';
import { runHeartbeatMonitor } from '../../functions/core/rhythm/monitors.js';
import { buildIntegrations } from '../../functions/handlers/integrations.js';
import { StreamPublisher } from '../../functions/local/stream-publisher.js';
import { validPlan } from '../fixtures/plans.js';
import { createTestTable } from '../support/dynamodb.js';

const PLAN = `version: 1
project: { id: esc, timezone: UTC, start: 2026-03-02 }
people:
  - { id: lead, name: Tech Lead, slack: U0LEAD0001 }
  - { id: cto, name: CTO, slack: U0CTO00001 }
  - { id: owner1, name: Owner One }
  - { id: backup1, name: Backup One }
agents:
  - { id: alpha, owner: owner1, backup: backup1, heartbeat: 15m, restartSla: 30m }
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
      - { id: docs, agent: alpha, estimate: 1d }
escalations:
  - id: tps-low
    when: "tps < 1_500_000"
    notify: [lead]
    sla: 1h
    levels: [{ notify: [cto], sla: 2h }]
  - { id: security, on: security.critical, notify: [cto] }
  - { id: blocked, on: task.blocked, notify: [owner] }
  - { id: sync, on: sync.failed, notify: [lead] }
integrations:
  slack: { channel: "#proj", escalations: "#esc" }
`;

const MINUTE = 60_000;
const admin = { kind: 'admin' } as const;
let now: Date;
let published: DomainEvent[];
let publisher: StreamPublisher;
let table: { documentClient: DynamoDBDocumentClient; tableName: string };
let ports: CoordinationPorts & {
  store: DynamoDbCoordinationStore;
  outbox: DynamoDbOutbox;
  escalations: DynamoDbEscalationStore;
};
const later = (minutes: number) => {
  now = new Date(now.getTime() + minutes * MINUTE);
};

beforeEach(async () => {
  const { client, tableName } = await createTestTable();
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoDbCoordinationStore(documentClient, tableName);
  table = { documentClient, tableName };
  now = new Date('2026-03-02T09:00:00Z');
  published = [];
  ports = {
    store,
    outbox: new DynamoDbOutbox(documentClient, tableName),
    escalations: new DynamoDbEscalationStore(documentClient, tableName),
    events: { publish: async (events) => void published.push(...events) },
    idempotency: store,
    clock: { now: () => now },
    ids: timeOrderedIds,
    // The followers of a change (the escalation rules) run at once, as the composition wires them.
    follow: followNow(() => ports),
  };
  // The publisher delivers the domain events the use cases wrote into the table.
  publisher = new StreamPublisher({
    client,
    documentClient,
    tableName,
    ports: { ...ports, events: { publish: async (events) => void published.push(...events) } },
    log: () => undefined,
  });
  await applyPlan(ports, { project: 'esc', plan: validPlan(PLAN), actor: admin });
});

const unresolved = () => ports.escalations.unresolvedEscalations('esc');
const escalationPosts = async () =>
  (await ports.outbox.due(new Date('9999-01-01'), 200)).flatMap((entry) =>
    entry.command.kind === 'slack' && 'notice' in entry.command && entry.command.notice.type === 'escalation'
      ? [
          {
            channel: entry.command.channel,
            text: entry.command.notice.text,
            mentions: entry.command.notice.mentions,
          },
        ]
      : [],
  );

describe('escalations hooked into Convoy', () => {
  it('opens one escalation while a condition holds, climbs its ladder on the monitor, and resolves it when the condition clears', async () => {
    // Act
    await recordMetrics(ports, { project: 'esc', metrics: [{ name: 'tps', value: 1_200_000 }] });
    later(5);
    await recordMetrics(ports, { project: 'esc', metrics: [{ name: 'tps', value: 1_100_000 }] });
    const opened = await unresolved();
    later(61);
    await runHeartbeatMonitor(ports, 'esc');
    const climbed = await unresolved();
    later(5);
    await recordMetrics(ports, { project: 'esc', metrics: [{ name: 'tps', value: 1_900_000 }] });

    // Assess
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ rule: 'tps-low', subject: 'tps', level: 1, targets: ['lead'] });
    expect(climbed[0]).toMatchObject({ level: 2, targets: ['cto'] });
    expect(await unresolved()).toEqual([]);
    const posts = await escalationPosts();
    expect(posts.map((post) => post.channel)).toEqual(['#esc', '#esc', '#esc']);
    expect(posts[0]?.mentions).toEqual(['U0LEAD0001']);
    expect(posts[1]?.mentions).toEqual(['U0CTO00001']);
    // The escalation events were written with the escalations; the publisher delivers them in order.
    await publisher.publishOnce();
    await publisher.stop();
    expect(published.map((event) => event.type).filter((type) => type.startsWith('escalation.'))).toEqual([
      'escalation.opened',
      'escalation.escalated',
      'escalation.resolved',
    ]);
  });

  it('opens one escalation for a security alert however often it arrives', async () => {
    // Act
    for (let i = 0; i < 3; i++)
      await recordEvent(ports, {
        project: 'esc',
        type: 'security.critical',
        subject: 'CVE-2026-1',
        actor: admin,
      });

    // Assess
    const open = await unresolved();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      rule: 'security',
      subject: 'CVE-2026-1',
      targets: ['cto'],
      occurrences: 3,
    });
    expect(await escalationPosts()).toHaveLength(1);
  });

  it('escalates a JIRA command the worker gave up on once the publisher follows its sync.failed, even after the worker stopped', async () => {
    // Prepare: the outbox worker as deployed, whose failures nobody follows at once.
    const { follow: _none, ...worker } = ports;
    const { drain } = await buildIntegrations(
      { ...worker, charts: ports.store, secrets: async () => ({}) },
      { ...table, print: () => undefined },
    );
    const entry = {
      id: 'delivery-1#0',
      project: 'esc',
      command: { kind: 'transition', issue: 'ESC-7', status: 'Done' },
      attempts: 5,
      notBefore: now.toISOString(),
      createdAt: now.toISOString(),
    } as const;

    // Act: the worker records the failure and stops; the publisher runs later, twice.
    await drain.recordFailure(entry, 'JIRA answered 400');
    const before = await unresolved();
    await publisher.publishOnce();
    await publisher.publishOnce();
    await publisher.stop();

    // Assess
    expect(before).toEqual([]);
    const open = await unresolved();
    expect(open).toEqual([
      expect.objectContaining({ rule: 'sync', subject: 'ESC-7', targets: ['lead'], occurrences: 1 }),
    ]);
    const trail = await ports.store.listEvents('esc', { type: 'sync.failed', limit: 10 });
    expect(trail.events.map((event) => event.data)).toEqual([{ entry: 'delivery-1#0' }]);
  });

  it('escalates a blocked task to its agent’s owner and resolves it when the task is unblocked', async () => {
    // Act
    await setBlocker(ports, { project: 'esc', task: 'api', reason: 'no credentials', actor: admin });
    const open = await unresolved();
    await setBlocker(ports, { project: 'esc', task: 'api', reason: null, actor: admin });

    // Assess
    expect(open).toEqual([expect.objectContaining({ rule: 'blocked', subject: 'api', targets: ['owner1'] })]);
    expect(await unresolved()).toEqual([]);
  });

  it('escalates a down agent to its owner, proposes its open tasks to the backup after restartSla, and reassigns on the owner’s word', async () => {
    // Prepare
    await recordHeartbeat(ports, { project: 'esc', agent: 'alpha', actor: admin });
    await transitionTask(ports, { project: 'esc', task: 'api', to: 'in_progress', actor: admin });

    // Act
    later(31);
    await runHeartbeatMonitor(ports, 'esc');
    const down = await unresolved();
    later(31);
    await runHeartbeatMonitor(ports, 'esc');
    const [proposed] = await unresolved();
    const stranger = await confirmEscalationReassignment(ports, {
      project: 'esc',
      id: proposed?.id as string,
      actor: { kind: 'person', id: 'backup1' },
    }).catch((error: Error) => error.name);
    const confirmed = await confirmEscalationReassignment(ports, {
      project: 'esc',
      id: proposed?.id as string,
      actor: { kind: 'person', id: 'owner1' },
    });
    later(5);
    await recordHeartbeat(ports, { project: 'esc', agent: 'alpha', actor: admin });

    // Assess
    expect(down).toEqual([
      expect.objectContaining({ rule: 'agent-down', subject: 'alpha', targets: ['owner1'] }),
    ]);
    expect(proposed?.reassignment).toMatchObject({ to: 'backup1', tasks: ['api', 'docs'] });
    expect(stranger).toBe('ForbiddenError');
    expect(confirmed.changed).toBe(true);
    const reassigned = await ports.store.listEvents('esc', { type: 'task.reassigned', limit: 10 });
    expect(reassigned.events.map((event) => event.subject).sort()).toEqual(['api', 'docs']);
    expect(await unresolved()).toEqual([]);
    await publisher.publishOnce();
    await publisher.stop();
    expect(published.map((event) => event.type)).toEqual(
      expect.arrayContaining(['agent.down', 'escalation.opened', 'agent.up', 'escalation.resolved']),
    );
  });
});
