import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../../../functions/adapters/dynamodb/coordination-store.js';
import { memoryStores } from '../../../../functions/adapters/memory/index.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordHeartbeat,
} from '../../../../functions/core/coordination/commands.js';
import type { DomainEvent } from '../../../../functions/core/domain-events.js';
import { runHeartbeatMonitor } from '../../../../functions/core/rhythm/monitors.js';
import { validPlan } from '../../../fixtures/plans.js';

const PLAN = `version: 1
project: { id: beat, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm, heartbeat: 10m, channel: "#alpha" }]
phases: [{ id: build, tasks: [{ id: api, agent: alpha, estimate: 1d }] }]
`;

const admin = { kind: 'admin' } as const;
let now: Date;
let ports: CoordinationPorts & ReturnType<typeof memoryStores>;
let followed: DomainEvent[];

beforeEach(async () => {
  now = new Date('2026-03-02T09:00:00Z');
  followed = [];
  const stores = memoryStores();
  ports = {
    ...stores,
    clock: { now: () => now },
    ids: timeOrderedIds,
    follow: async (events) => void followed.push(...events),
  };
  await applyPlan(ports, { project: 'beat', plan: validPlan(PLAN), actor: admin });
  await recordHeartbeat(ports, { project: 'beat', agent: 'alpha', actor: admin });
  now = new Date('2026-03-02T09:21:00Z');
  await runHeartbeatMonitor(ports, 'beat');
  now = new Date('2026-03-02T09:30:00Z');
});

const heartbeat = () =>
  recordHeartbeat(ports, { project: 'beat', agent: 'alpha', actor: admin, completion: 30 });
const trail = async (type: string) => (await ports.store.listEvents('beat', { type, limit: 10 })).events;

describe('an agent coming back up', () => {
  it('brings it back once when two heartbeats arrive at once, counting both', async () => {
    // Act
    const [first, second] = await Promise.all([heartbeat(), heartbeat()]);

    // Assess: one return (trail, notice, event); both heartbeats counted, neither left it down.
    expect(first.downSince).toBeUndefined();
    expect(second.downSince).toBeUndefined();
    expect(await trail('agent.up')).toEqual([
      expect.objectContaining({ subject: 'alpha', data: { downSince: '2026-03-02T09:21:00.000Z' } }),
    ]);
    expect(followed.filter((event) => event.type === 'agent.up')).toHaveLength(1);
    const notices = (await ports.outbox.due(new Date('9999-01-01'), 50)).map((entry) => entry.id);
    expect(notices.filter((id) => id.includes('agent-up'))).toHaveLength(1);
    const agent = (await ports.store.snapshot('beat'))?.agents.get('alpha');
    expect(agent).toMatchObject({ heartbeats: 3, completion: 30, lastHeartbeatAt: now.toISOString() });
    expect(agent?.downSince).toBeUndefined();
  });

  it('leaves it down, heartbeat unrecorded, when its return cannot be written', async () => {
    // Prepare: the transaction holding the return fails (its outbox is unavailable).
    const commit = ports.store.commit.bind(ports.store);
    ports.store.commit = async () => {
      throw new Error('DynamoDB is unavailable');
    };

    // Act
    const failed = await heartbeat().catch((error: Error) => error);
    ports.store.commit = commit;
    const back = await heartbeat();

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(back).toMatchObject({ heartbeats: 2, completion: 30 });
    expect(back.downSince).toBeUndefined();
    expect(await trail('agent.up')).toHaveLength(1);
    expect(followed.filter((event) => event.type === 'agent.up')).toHaveLength(1);
  });
});
