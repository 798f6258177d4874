import {
  type PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResponse,
  type PutEventsResultEntry,
  ThrottlingException,
} from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import {
  batchBySize,
  DomainEventPublishError,
  EventBridgeDomainEventBus,
  type EventBridgePutClient,
  entrySize,
  MAX_ENTRIES_PER_REQUEST,
  MAX_REQUEST_BYTES,
  toPutEventsEntry,
} from '../../../../functions/adapters/eventbridge/eventbridge-bus.js';
import { type DomainEvent, domainEvent } from '../../../../functions/core/domain-events.js';

const BUS = 'convoy';
const AT = '2026-01-14T14:30:00.000Z';

const taskChanged = (version: number, note?: string): DomainEvent =>
  domainEvent('task.changed', {
    project: 'sprint-20-23',
    task: 'grpc-services',
    phase: 'sprint-20',
    agent: 'grpc-agent',
    from: 'in_progress',
    to: 'in_review',
    version,
    by: 'agent:grpc-agent',
    ...(note === undefined ? {} : { note }),
    at: AT,
  });

const agentDown = (agent: string): DomainEvent =>
  domainEvent('agent.down', { project: 'sprint-20-23', agent, lastHeartbeatAt: AT, at: AT });

type Answer = (entries: readonly PutEventsRequestEntry[], call: number) => PutEventsResponse | Error;

const ok: Answer = (entries) => ({
  FailedEntryCount: 0,
  Entries: entries.map((_, i) => ({ EventId: `eb-${i}` })),
  $metadata: {},
});

/**
 * A client whose `send` records each PutEvents request and answers with `answer`. EventBridge has no local
 * stand-in, and partial failures (throttled entries) are only ever produced by the service itself.
 */
function fakeClient(answer: Answer = ok) {
  const requests: PutEventsRequestEntry[][] = [];
  const client = {
    async send(command: PutEventsCommand) {
      const entries = command.input.Entries ?? [];
      requests.push(entries);
      const result = answer(entries, requests.length);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { client: client as unknown as EventBridgePutClient, requests };
}

/** Fails the entries `fail` picks (by their event's id) with `code`; the others succeed. */
function failing(fail: (id: string, call: number) => boolean, code: string): Answer {
  return (entries, call) => {
    const results: PutEventsResultEntry[] = entries.map((entry, i) => {
      const id = (JSON.parse(entry.Detail ?? '{}') as { id: string }).id;
      return fail(id, call) ? { ErrorCode: code, ErrorMessage: `${code}!` } : { EventId: `eb-${i}` };
    });
    return {
      FailedEntryCount: results.filter((result) => result.ErrorCode).length,
      Entries: results,
      $metadata: {},
    };
  };
}

const ids = (entries: readonly PutEventsRequestEntry[]) =>
  entries.map((entry) => (JSON.parse(entry.Detail ?? '{}') as { id: string }).id);

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('toPutEventsEntry', () => {
  it('puts the event on the bus with Convoy source, its detail type, the event as detail and its time', () => {
    // Prepare
    const event = taskChanged(3);

    // Act
    const entry = toPutEventsEntry(event, BUS);

    // Assess
    expect(entry).toEqual({
      EventBusName: BUS,
      Source: 'convoy',
      DetailType: 'Task Changed',
      Detail: JSON.stringify(event),
      Time: new Date(AT),
    });
  });
});

describe('entrySize', () => {
  it('counts Time as 14 bytes and the UTF-8 bytes of source, detail type, detail and resources', () => {
    // Act
    const size = entrySize({
      Time: new Date(AT),
      Source: 'convoy',
      DetailType: 'Task Changed',
      Detail: '{"note":"é"}',
      Resources: ['arn:x'],
      EventBusName: 'not counted',
    });

    // Assess
    expect(size).toBe(14 + 6 + 12 + 13 + 5);
  });
});

describe('batchBySize', () => {
  it('puts at most 10 items in a request', () => {
    // Act
    const batches = batchBySize(
      Array.from({ length: 23 }, (_, i) => i),
      () => 1,
    );

    // Assess
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(batches.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('starts a new request when the total would reach 256 KB, which PutEvents refuses', () => {
    // Prepare
    const half = MAX_REQUEST_BYTES / 2;

    // Act
    const batches = batchBySize([half, half - 1, 1, 100, half, half], (size) => size);

    // Assess
    expect(batches).toEqual([[half, half - 1], [1, 100, half], [half]]);
    for (const batch of batches) {
      expect(batch.reduce((sum, size) => sum + size, 0)).toBeLessThan(MAX_REQUEST_BYTES);
    }
  });
});

describe('EventBridgeDomainEventBus', () => {
  it('sends nothing for no events', async () => {
    // Prepare
    const { client, requests } = fakeClient();

    // Act
    await new EventBridgeDomainEventBus(client, BUS).publish([]);

    // Assess
    expect(requests).toEqual([]);
  });

  it('publishes 25 events in requests of 10, 10 and 5, in order', async () => {
    // Prepare
    const { client, requests } = fakeClient();
    const events = Array.from({ length: 25 }, (_, i) => taskChanged(i + 1));

    // Act
    await new EventBridgeDomainEventBus(client, BUS).publish(events);

    // Assess
    expect(requests.map((entries) => entries.length)).toEqual([MAX_ENTRIES_PER_REQUEST, 10, 5]);
    expect(requests.flatMap(ids)).toEqual(events.map((event) => event.id));
    expect(requests.flat().every((entry) => entry.EventBusName === BUS)).toBe(true);
  });

  it('keeps every request under 256 KB when events are large', async () => {
    // Prepare
    const { client, requests } = fakeClient();
    const note = 'x'.repeat(100 * 1024);
    const events = [taskChanged(1, note), taskChanged(2, note), taskChanged(3, note), taskChanged(4)];

    // Act
    await new EventBridgeDomainEventBus(client, BUS).publish(events);

    // Assess
    expect(requests.map(ids)).toEqual([
      [events[0]?.id, events[1]?.id],
      [events[2]?.id, events[3]?.id],
    ]);
    for (const entries of requests) {
      expect(entries.reduce((sum, entry) => sum + entrySize(entry), 0)).toBeLessThan(MAX_REQUEST_BYTES);
    }
  });

  it('refuses, before sending anything, an event too large for any request', async () => {
    // Prepare
    const { client, requests } = fakeClient();
    const huge = taskChanged(2, 'x'.repeat(MAX_REQUEST_BYTES));

    // Act
    const error = await new EventBridgeDomainEventBus(client, BUS)
      .publish([taskChanged(1), huge])
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(DomainEventPublishError);
    expect((error as DomainEventPublishError).failures).toEqual([
      expect.objectContaining({ id: huge.id, type: 'task.changed', errorCode: 'EntryTooLarge' }),
    ]);
    expect(requests).toEqual([]);
  });

  it('sends again only the entries EventBridge throttled, after a growing wait', async () => {
    // Prepare
    const events = [taskChanged(1), taskChanged(2), taskChanged(3)];
    const throttled = events[1]?.id;
    const { client, requests } = fakeClient(
      failing((id, call) => id === throttled && call < 3, 'ThrottlingException'),
    );
    const { waits, sleep } = recordingSleep();

    // Act
    await new EventBridgeDomainEventBus(client, BUS, { baseDelayMs: 100, sleep }).publish(events);

    // Assess
    expect(requests.map(ids)).toEqual([events.map((event) => event.id), [throttled], [throttled]]);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
  });

  it('throws an error naming the event types that still failed after the last attempt', async () => {
    // Prepare
    const events = [taskChanged(1), agentDown('qa-agent'), agentDown('ai-agent'), taskChanged(2)];
    const { client, requests } = fakeClient(failing((id) => id.startsWith('agent.down'), 'InternalFailure'));
    const { sleep } = recordingSleep();

    // Act
    const error = await new EventBridgeDomainEventBus(client, BUS, { maxAttempts: 3, sleep })
      .publish(events)
      .catch((caught: unknown) => caught);

    // Assess
    expect(requests).toHaveLength(3);
    expect(error).toBeInstanceOf(DomainEventPublishError);
    expect((error as Error).message).toBe(
      'EventBridge did not take 2 event(s): agent.down ×2 (InternalFailure)',
    );
    expect((error as DomainEventPublishError).failures).toEqual([
      {
        id: events[1]?.id,
        type: 'agent.down',
        errorCode: 'InternalFailure',
        errorMessage: 'InternalFailure!',
      },
      {
        id: events[2]?.id,
        type: 'agent.down',
        errorCode: 'InternalFailure',
        errorMessage: 'InternalFailure!',
      },
    ]);
  });

  it('does not retry an entry EventBridge refused for good, but still publishes the other requests', async () => {
    // Prepare
    const events = Array.from({ length: 12 }, (_, i) => taskChanged(i + 1));
    const refused = events[0]?.id;
    const { client, requests } = fakeClient(failing((id) => id === refused, 'MalformedDetail'));
    const { waits, sleep } = recordingSleep();

    // Act
    const error = await new EventBridgeDomainEventBus(client, BUS, { sleep })
      .publish(events)
      .catch((caught: unknown) => caught);

    // Assess
    expect(requests.map((entries) => entries.length)).toEqual([10, 2]);
    expect(waits).toEqual([]);
    expect((error as DomainEventPublishError).failures).toEqual([
      expect.objectContaining({ id: refused, type: 'task.changed', errorCode: 'MalformedDetail' }),
    ]);
    expect((error as Error).message).toContain('task.changed (MalformedDetail)');
  });

  it('names every unsent event when a whole request fails, keeping the cause', async () => {
    // Prepare
    const events = Array.from({ length: 12 }, (_, i) => taskChanged(i + 1));
    const outage = new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
    const { client, requests } = fakeClient((entries, call) => (call === 1 ? ok(entries, call) : outage));

    // Act
    const error = await new EventBridgeDomainEventBus(client, BUS)
      .publish(events)
      .catch((caught: unknown) => caught);

    // Assess
    expect(requests).toHaveLength(2);
    expect(error).toBeInstanceOf(DomainEventPublishError);
    expect((error as Error).cause).toBe(outage);
    expect((error as DomainEventPublishError).failures.map((failure) => failure.id)).toEqual(
      events.slice(10).map((event) => event.id),
    );
    expect((error as Error).message).toBe(
      'EventBridge did not take 2 event(s): task.changed ×2 (ThrottlingException)',
    );
  });
});
