import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../../../functions/adapters/dynamodb/coordination-store.js';
import { memoryStores } from '../../../../functions/adapters/memory/index.js';
import {
  applyPlan,
  type CoordinationPorts,
  setBlocker,
} from '../../../../functions/core/coordination/commands.js';
import type { MetricPoint } from '../../../../functions/core/coordination/model.js';
import type { DomainEvent } from '../../../../functions/core/domain-events.js';
import { escalateMetrics } from '../../../../functions/core/escalations/hooks.js';
import { resolveEscalation } from '../../../../functions/core/escalations/service.js';
import { followNow } from '../../../../functions/core/integrations/publisher.js';
import { runHeartbeatMonitor } from '../../../../functions/core/rhythm/monitors.js';
import { validPlan } from '../../../fixtures/plans.js';

const PLAN = `version: 1
project: { id: tick, timezone: UTC, start: 2026-03-02 }
people: [{ id: lead, slack: U0LEAD0001 }]
agents: [{ id: alpha, owner: lead }]
phases: [{ id: build, tasks: [{ id: api, agent: alpha, estimate: 1d }] }]
escalations:
  - { id: blocked-work, when: "tasks.blocked > 0", notify: [lead], sla: 1h }
integrations:
  slack: { channel: "#tick", escalations: "#esc" }
`;

const MINUTE = 60_000;
const admin = { kind: 'admin' } as const;
let now: Date;
let stores: ReturnType<typeof memoryStores>;
let ports: CoordinationPorts & ReturnType<typeof memoryStores>;

beforeEach(async () => {
  now = new Date('2026-03-02T09:00:00Z');
  stores = memoryStores();
  ports = { ...stores, clock: { now: () => now }, ids: timeOrderedIds, follow: followNow(() => ports) };
  await applyPlan(ports, { project: 'tick', plan: validPlan(PLAN), actor: admin });
});

const later = (minutes: number) => {
  now = new Date(now.getTime() + minutes * MINUTE);
};
const unresolved = () => stores.escalations.unresolvedEscalations('tick');
const escalationPosts = async () =>
  (await stores.outbox.due(new Date('9999-01-01'), 100)).filter(
    (entry) => entry.command.kind === 'slack' && entry.command.channel === '#esc',
  );
const recorded = () =>
  stores.store.stream
    .pending()
    .filter(
      (event): event is DomainEvent & { type: 'metrics.recorded' } => event.type === 'metrics.recorded',
    );

describe('the heartbeat monitor’s escalations', () => {
  it('writes a computed metric with its metrics.recorded event, and the rules over it follow that event, once however often they run', async () => {
    // Prepare
    await setBlocker(ports, { project: 'tick', task: 'api', reason: 'waiting on credentials', actor: admin });

    // Act: the tick writes tasks.blocked = 1; the publisher follows its event again (a redelivery);
    // the next tick finds nothing changed.
    later(1);
    const first = await runHeartbeatMonitor(ports, 'tick');
    const events = recorded();
    for (const event of events)
      await escalateMetrics(
        ports,
        'tick',
        new Map<string, MetricPoint>(event.detail.metrics.map((point) => [point.name, { ...point }])),
      );
    later(1);
    const second = await runHeartbeatMonitor(ports, 'tick');

    // Assess
    expect(first.metrics.map((point) => point.name)).toContain('tasks.blocked');
    expect(events).toHaveLength(1);
    expect(events[0]?.detail.metrics).toEqual(
      expect.arrayContaining([{ name: 'tasks.blocked', value: 1, at: first.metrics[0]?.at }]),
    );
    expect(second.metrics).toEqual([]);
    expect(await unresolved()).toEqual([expect.objectContaining({ rule: 'blocked-work', version: 1 })]);
    expect(await escalationPosts()).toHaveLength(1);
  });

  it('opens again at the next tick an escalation a person resolved while its condition still holds', async () => {
    // Prepare
    await setBlocker(ports, { project: 'tick', task: 'api', reason: 'waiting on credentials', actor: admin });
    later(1);
    await runHeartbeatMonitor(ports, 'tick');
    const [opened] = await unresolved();
    await resolveEscalation(ports, { project: 'tick', id: opened?.id as string, actor: admin });

    // Act: nothing rewrites tasks.blocked (its value did not change), yet the tick checks it again.
    later(1);
    const tick = await runHeartbeatMonitor(ports, 'tick');

    // Assess
    expect(tick.metrics).toEqual([]);
    const reopened = await unresolved();
    expect(reopened).toEqual([expect.objectContaining({ rule: 'blocked-work', status: 'open' })]);
    expect(reopened[0]?.id).not.toBe(opened?.id);
  });

  it('climbs the SLA ladder with time alone', async () => {
    // Prepare
    await setBlocker(ports, { project: 'tick', task: 'api', reason: 'waiting on credentials', actor: admin });
    later(1);
    await runHeartbeatMonitor(ports, 'tick');

    // Act
    later(61);
    const tick = await runHeartbeatMonitor(ports, 'tick');

    // Assess: past its 1 h SLA with one level, it is posted again; nothing else changed.
    expect(tick.escalations).toBeGreaterThanOrEqual(1);
    expect(await escalationPosts()).toHaveLength(2);
  });
});
