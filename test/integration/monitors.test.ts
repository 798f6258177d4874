import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbCoordinationStore,
  timeOrderedIds,
} from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordEvent,
  recordHeartbeat,
  setBlocker,
  transitionTask,
} from '../../functions/core/coordination/commands.js';
import { computeStatus } from '../../functions/core/coordination/status.js';
import { followNow } from '../../functions/core/integrations/publisher.js';
import { parsePlan } from '../../functions/core/plan/index.js';
import { runHeartbeatMonitor, runStaleWorkSweep } from '../../functions/core/rhythm/monitors.js';
import { runMonitor } from '../../functions/core/rhythm/run-monitor.js';
import { createTestTable } from '../support/dynamodb.js';

const PLAN = `version: 1
project: { id: watch, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm, name: Pat Manager, slack: U0PM }]
agents:
  - { id: alpha, name: Agent Alpha, owner: pm, heartbeat: 15m, channel: "#alpha" }
  - { id: beta, owner: pm }
phases:
  - id: build
    due: 2026-03-03
    tasks:
      - { id: api, agent: alpha, estimate: 2d }
      - { id: docs, agent: beta, estimate: 1d, dependsOn: [api] }
      - { id: ops, agent: beta, estimate: 1d }
integrations:
  slack: { channel: "#project" }
`;

const MINUTE = 60_000;
const admin = { kind: 'admin' } as const;

let ports: CoordinationPorts & { store: DynamoDbCoordinationStore; outbox: DynamoDbOutbox };
let now: Date;
const at = (iso: string) => {
  now = new Date(iso);
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
  ports = {
    store,
    outbox: new DynamoDbOutbox(documentClient, tableName),
    idempotency: store,
    clock: { now: () => now },
    // The followers of a change (the escalation rules) run at once, as the composition wires them.
    follow: followNow(() => ports),
    ids: timeOrderedIds,
  };
  at('2026-03-02T09:00:00Z');
  const parsed = parsePlan(PLAN, { file: 'watch.yaml' });
  if (!parsed.ok) throw new Error('the test plan is invalid');
  await applyPlan(ports, { project: 'watch', plan: parsed.plan, actor: admin });
});

const eventsOf = async (type: string) => (await ports.store.listEvents('watch', { type, limit: 100 })).events;
const outboxNotices = async () =>
  (await ports.outbox.due(new Date('9999-01-01'), 100)).flatMap((entry) =>
    entry.command.kind === 'slack' && 'notice' in entry.command
      ? [{ channel: entry.command.channel, notice: entry.command.notice }]
      : [],
  );
const latest = async (metric: string) => (await ports.store.snapshot('watch'))?.metrics.get(metric)?.value;

describe('heartbeat monitor', () => {
  it('marks an agent down after two missed intervals, once, and tells its owner in its channel', async () => {
    // Prepare
    await recordHeartbeat(ports, { project: 'watch', agent: 'alpha', actor: admin });

    // Act
    later(30);
    const early = await runHeartbeatMonitor(ports, 'watch');
    later(1);
    const late = await runHeartbeatMonitor(ports, 'watch');
    later(5);
    const again = await runHeartbeatMonitor(ports, 'watch');

    // Assess
    expect(early.down).toEqual([]);
    expect(late.down).toEqual(['alpha']);
    expect(again.down).toEqual([]);
    expect(await eventsOf('agent.down')).toHaveLength(1);
    expect(await outboxNotices()).toEqual([
      {
        channel: '#alpha',
        notice: expect.objectContaining({
          type: 'agent-down',
          agent: { id: 'alpha', name: 'Agent Alpha' },
          owner: { name: 'Pat Manager', slack: 'U0PM' },
        }),
      },
    ]);
    const snapshot = await ports.store.snapshot('watch');
    const status = computeStatus(snapshot as NonNullable<typeof snapshot>, now);
    expect(status.agents.find((agent) => agent.id === 'alpha')).toMatchObject({
      status: 'down',
      downSince: '2026-03-02T09:31:00.000Z',
    });
    expect(await latest('agents.down')).toBe(1);
  });

  it('brings an agent back up with its next heartbeat', async () => {
    // Prepare
    await recordHeartbeat(ports, { project: 'watch', agent: 'alpha', actor: admin });
    later(31);
    await runHeartbeatMonitor(ports, 'watch');

    // Act
    later(10);
    const agent = await recordHeartbeat(ports, { project: 'watch', agent: 'alpha', actor: admin });
    await runHeartbeatMonitor(ports, 'watch');

    // Assess
    expect(agent.downSince).toBeUndefined();
    expect(agent.heartbeats).toBe(2);
    const up = await eventsOf('agent.up');
    expect(up).toHaveLength(1);
    expect(up[0]).toMatchObject({ subject: 'alpha', data: { downSince: '2026-03-02T09:31:00.000Z' } });
    expect((await outboxNotices()).map((entry) => entry.notice.type)).toEqual(['agent-down', 'agent-up']);
    expect(await latest('agents.down')).toBe(0);
  });

  it('leaves an agent up when a heartbeat arrived after the monitor read it', async () => {
    // Prepare
    await recordHeartbeat(ports, { project: 'watch', agent: 'alpha', actor: admin });
    const seen = (await ports.store.snapshot('watch'))?.agents.get('alpha')?.lastHeartbeatAt as string;
    later(40);
    await recordHeartbeat(ports, { project: 'watch', agent: 'alpha', actor: admin });

    // Act
    const marked = await ports.store.markAgentDown('watch', 'alpha', {
      at: now.toISOString(),
      lastHeartbeatAt: seen,
    });

    // Assess
    expect(marked).toBe(false);
    expect((await ports.store.snapshot('watch'))?.agents.get('alpha')?.downSince).toBeUndefined();
  });

  it('records the blocked tasks and the schedule slip of the active phase as metrics, again only when they change', async () => {
    // Prepare: build is due Tuesday; on Wednesday 4 working days of chained work remain (api 2d, then docs 1d).
    at('2026-03-04T09:00:00Z');
    await setBlocker(ports, { project: 'watch', task: 'ops', reason: 'no credentials', actor: admin });

    // Act
    const first = await runHeartbeatMonitor(ports, 'watch');
    later(1);
    const second = await runHeartbeatMonitor(ports, 'watch');

    // Assess: the forecast finish is Friday 03-06, three working days past Tuesday.
    expect(Object.fromEntries(first.metrics.map((point) => [point.name, point.value]))).toEqual({
      'agents.down': 0,
      'tasks.blocked': 1,
      'schedule.slip_days': 3,
    });
    expect(second.metrics).toEqual([]);
  });
});

describe('stale-work sweep', () => {
  it('counts work in progress with no activity for 24 h, and not work with recent activity', async () => {
    // Prepare
    await transitionTask(ports, { project: 'watch', task: 'api', to: 'in_progress', actor: admin });
    await transitionTask(ports, { project: 'watch', task: 'ops', to: 'in_progress', actor: admin });
    later(23 * 60);
    await recordEvent(ports, { project: 'watch', type: 'review.requested', subject: 'ops', actor: admin });

    // Act
    later(2 * 60);
    const outcome = await runStaleWorkSweep(ports, 'watch');

    // Assess
    expect(outcome.stale).toEqual(['api']);
    expect(await latest('tasks.stale')).toBe(1);
    const [event] = await eventsOf('tasks.stale');
    expect(event?.data).toEqual({ tasks: ['api'] });
  });
});

describe('runMonitor', () => {
  it('runs a monitor over every project', async () => {
    // Act
    const { outcomes, failures } = await runMonitor(ports, 'heartbeats');

    // Assess
    expect(failures).toEqual([]);
    expect(outcomes.map((outcome) => outcome.project)).toContain('watch');
  });
});
