import { describe, expect, it } from 'vitest';
import {
  DETAIL_TYPES,
  type DomainEvent,
  type DomainEventEnvelope,
  domainEvent,
} from '../../../functions/core/domain-events.js';
import { InProcessEventBus } from '../../../functions/local/event-bus.js';

const AT = '2026-01-20T21:15:42.318Z';

const tasksCompleted = (project = 'sprint-20-23', phase = 'sprint-20'): DomainEvent =>
  domainEvent('phase.tasks_completed', { project, phase, gate: phase, at: AT });

const agentDown = (agent: string): DomainEvent =>
  domainEvent('agent.down', { project: 'sprint-20-23', agent, lastHeartbeatAt: AT, at: AT });

/** A bus whose log lines are kept, and a subscriber that records what it received. */
function busUnderTest() {
  const lines: string[] = [];
  const bus = new InProcessEventBus({ log: (line) => lines.push(line), account: '123456789012' });
  const received = (rule: Parameters<InProcessEventBus['subscribe']>[0]) => {
    const envelopes: DomainEventEnvelope[] = [];
    bus.subscribe(rule, (envelope) => {
      envelopes.push(envelope);
    });
    return envelopes;
  };
  return { bus, lines, received };
}

describe('InProcessEventBus', () => {
  it('delivers an event in the envelope an EventBridge Lambda target gets', async () => {
    // Prepare
    const { bus, received } = busUnderTest();
    const envelopes = received({ detailType: 'Phase Tasks Completed' });
    const event = tasksCompleted();

    // Act
    await bus.publish([event]);
    await bus.drain();

    // Assess
    expect(envelopes).toEqual([
      {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'Phase Tasks Completed',
        source: 'convoy',
        account: '123456789012',
        time: '2026-01-20T21:15:42Z',
        region: 'local',
        resources: [],
        detail: event,
      },
    ]);
    expect(envelopes[0]?.detail).not.toBe(event);
  });

  it('runs handlers only after publish has resolved', async () => {
    // Prepare
    const { bus } = busUnderTest();
    const order: string[] = [];
    bus.subscribe({}, () => {
      order.push('handler');
    });

    // Act
    await bus.publish([agentDown('qa-agent')]);
    order.push('publisher resumed');
    await bus.drain();

    // Assess
    expect(order).toEqual(['publisher resumed', 'handler']);
  });

  it('matches rules the way the CDK rule patterns do: detail type, type and project', async () => {
    // Prepare
    const { bus, received } = busUnderTest();
    const everything = received({});
    const byDetailType = received({ detailType: [DETAIL_TYPES['agent.down'], DETAIL_TYPES['agent.up']] });
    const byType = received({ type: 'phase.tasks_completed' });
    const byProject = received({ project: 'other-project' });
    const both = received({ type: 'phase.tasks_completed', project: 'other-project' });

    // Act
    await bus.publish([tasksCompleted(), agentDown('qa-agent'), tasksCompleted('other-project', 'alpha')]);
    await bus.drain();

    // Assess
    const types = (envelopes: DomainEventEnvelope[]) =>
      envelopes.map((envelope) => `${envelope.detail.type} ${envelope.detail.project}`);
    expect(types(everything)).toEqual([
      'phase.tasks_completed sprint-20-23',
      'agent.down sprint-20-23',
      'phase.tasks_completed other-project',
    ]);
    expect(types(byDetailType)).toEqual(['agent.down sprint-20-23']);
    expect(types(byType)).toEqual([
      'phase.tasks_completed sprint-20-23',
      'phase.tasks_completed other-project',
    ]);
    expect(types(byProject)).toEqual(['phase.tasks_completed other-project']);
    expect(types(both)).toEqual(['phase.tasks_completed other-project']);
  });

  it('logs a failing handler without failing the publisher or the other handlers', async () => {
    // Prepare
    const { bus, lines, received } = busUnderTest();
    bus.subscribe(
      {},
      async () => {
        throw new Error('state machine unreachable');
      },
      'gate-starter',
    );
    const others = received({});
    const event = tasksCompleted();

    // Act
    const published = bus.publish([event]);
    await bus.drain();

    // Assess
    await expect(published).resolves.toBeUndefined();
    expect(others).toHaveLength(1);
    expect(lines).toEqual([
      `gate-starter failed on Phase Tasks Completed ${event.id}: state machine unreachable`,
    ]);
  });

  it('drains handlers of events that handlers published', async () => {
    // Prepare
    const { bus, received } = busUnderTest();
    bus.subscribe({ type: 'phase.tasks_completed' }, async (envelope) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await bus.publish([agentDown(`after-${envelope.detail.id}`)]);
    });
    const downs = received({ type: 'agent.down' });

    // Act
    await bus.publish([tasksCompleted()]);
    await bus.drain();

    // Assess
    expect(downs).toHaveLength(1);
  });

  it('no longer delivers to a subscription once it is ended', async () => {
    // Prepare
    const { bus } = busUnderTest();
    let calls = 0;
    const unsubscribe = bus.subscribe({}, () => {
      calls++;
    });

    // Act
    await bus.publish([agentDown('qa-agent')]);
    await bus.drain();
    unsubscribe();
    await bus.publish([agentDown('ai-agent')]);
    await bus.drain();

    // Assess
    expect(calls).toBe(1);
  });

  it('lets handlers in flight finish on stop, then drops and logs what is published', async () => {
    // Prepare
    const { bus, lines } = busUnderTest();
    let finished = 0;
    bus.subscribe({}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      finished++;
    });
    await bus.publish([agentDown('qa-agent')]);

    // Act
    await bus.stop();
    const late = agentDown('ai-agent');
    await bus.publish([late]);
    await bus.drain();

    // Assess
    expect(finished).toBe(1);
    expect(lines).toEqual([`event bus stopped; dropped ${late.id}`]);
  });

  it('fails the publisher, as EventBridge would, for an event that is not JSON', async () => {
    // Prepare
    const { bus } = busUnderTest();
    const event = { ...agentDown('qa-agent'), detail: { cycle: 1n } } as unknown as DomainEvent;

    // Act
    const published = bus.publish([event]);

    // Assess
    await expect(published).rejects.toThrow(TypeError);
  });
});
