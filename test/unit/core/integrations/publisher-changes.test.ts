import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../../../functions/adapters/dynamodb/coordination-store.js';
import { type MemoryStores, memoryStores } from '../../../../functions/adapters/memory/index.js';
import {
  applyPlan,
  recordHeartbeat,
  transitionTask,
} from '../../../../functions/core/coordination/commands.js';
import type { DomainEvent } from '../../../../functions/core/domain-events.js';
import {
  deliverDomainEvents,
  type PublisherPorts,
} from '../../../../functions/core/integrations/publisher.js';
import { parsePlan } from '../../../../functions/core/plan/index.js';

const plan = (project: string) => {
  const parsed = parsePlan(
    `version: 1
project: { id: ${project}, name: Relay, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm, name: Pat }]
agents: [{ id: alpha, name: Alpha, owner: pm }]
phases:
  - id: build
    tasks:
      - { id: api, title: API, agent: alpha, estimate: 1d }
      - { id: docs, title: Docs, agent: alpha, estimate: 1d }
`,
    { file: `${project}.yaml` },
  );
  if (!parsed.ok) throw new Error('the test plan is invalid');
  return parsed.plan;
};

const admin = { kind: 'admin' } as const;
let stores: MemoryStores;
let ports: PublisherPorts;
let published: DomainEvent[][];

/** What the stream holds now, delivered as one batch and acknowledged. */
async function deliverPending(): Promise<number> {
  const events = stores.store.stream.pending();
  const delivered = await deliverDomainEvents(ports, events);
  stores.store.stream.acknowledge(delivered);
  return delivered;
}

beforeEach(async () => {
  stores = memoryStores();
  published = [];
  ports = {
    ...stores,
    clock: { now: () => new Date('2026-03-02T15:00:00Z') },
    ids: timeOrderedIds,
    events: {
      publish: async (events) => {
        published.push([...events]);
      },
    },
  };
  for (const project of ['relay', 'other'])
    await applyPlan(ports, { project, plan: plan(project), actor: admin });
  await deliverPending();
});

describe('the publisher moves the change counter the dashboard polls', () => {
  it('adds each project its events of the batch, once per batch', async () => {
    // Prepare
    const before = await stores.store.changes('relay');
    await transitionTask(ports, { project: 'relay', task: 'api', to: 'in_progress', actor: admin });
    await transitionTask(ports, { project: 'relay', task: 'docs', to: 'in_progress', actor: admin });
    await transitionTask(ports, { project: 'other', task: 'api', to: 'in_progress', actor: admin });
    const pending = stores.store.stream.pending();

    // Act
    await deliverPending();

    // Assess
    const relayEvents = pending.filter((event) => event.project === 'relay').length;
    expect(relayEvents).toBeGreaterThanOrEqual(2);
    expect(await stores.store.changes('relay')).toEqual({
      version: 1,
      changes: (before?.changes ?? 0) + relayEvents,
    });
    expect((await stores.store.changes('other'))?.changes).toBeGreaterThan(0);
  });

  it('leaves the counter alone for a heartbeat, which writes no domain event', async () => {
    // Prepare
    const before = await stores.store.changes('relay');

    // Act
    await recordHeartbeat(ports, { project: 'relay', agent: 'alpha', actor: admin, completion: 10 });
    await deliverPending();

    // Assess
    expect(await stores.store.changes('relay')).toEqual(before);
  });

  it('counts nothing when the bus refuses the batch, which is delivered again', async () => {
    // Prepare
    const before = await stores.store.changes('relay');
    await transitionTask(ports, { project: 'relay', task: 'api', to: 'in_progress', actor: admin });
    const refusing: PublisherPorts = {
      ...ports,
      events: {
        publish: async () => {
          throw new Error('bus down');
        },
      },
    };

    // Act
    const failed = await deliverDomainEvents(refusing, stores.store.stream.pending()).catch(
      (error: Error) => error.message,
    );

    // Assess
    expect(failed).toBe('bus down');
    expect(await stores.store.changes('relay')).toEqual(before);
  });
});

describe('the publisher settles phases', () => {
  it('reads a phase’s done count once per batch, for the last task of it that reached done', async () => {
    // Prepare: both tasks of `build` done in two projects, their four events in one batch.
    for (const project of ['relay', 'other'])
      for (const task of ['api', 'docs']) {
        await transitionTask(ports, { project, task, to: 'in_progress', actor: admin });
        await transitionTask(ports, { project, task, to: 'done', actor: admin });
      }
    const counted: string[] = [];
    const countDone = stores.store.countDone.bind(stores.store);
    stores.store.countDone = async (project, phase, delta) => {
      counted.push(`${project}/${phase}`);
      return countDone(project, phase, delta);
    };

    // Act
    const delivered = await deliverPending();

    // Assess: every event delivered, one read per project's phase, and both phases passed.
    expect(delivered).toBeGreaterThanOrEqual(8);
    expect(counted.sort()).toEqual(['other/build', 'relay/build']);
    for (const project of ['relay', 'other'])
      expect((await stores.store.getPhase(project, 'build'))?.status).toBe('passed');
  });
});
