import type {
  EventBridgeClient,
  PutEventsRequestEntry,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import {
  CONVOY_EVENT_SOURCE,
  DETAIL_TYPES,
  type DomainEvent,
  type DomainEventBus,
} from '../../core/domain-events.js';
import { ConvoyError } from '../../core/errors.js';

/** PutEvents takes at most this many entries per request. */
export const MAX_ENTRIES_PER_REQUEST = 10;

/** PutEvents needs a request's entries to total less than 256 KB, as {@link entrySize} counts them. */
export const MAX_REQUEST_BYTES = 256 * 1024;

// EventBridge counts a Time as 14 bytes, whatever its text.
const TIME_BYTES = 14;

// The per-entry error codes EventBridge documents as retryable are InternalFailure and ThrottlingException;
// these are the ones it documents as not. An unknown code is retried: a spurious retry only costs time.
const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'InvalidAccountIdException',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

/** The part of the EventBridge client {@link EventBridgeDomainEventBus} uses. */
export type EventBridgePutClient = Pick<EventBridgeClient, 'send'>;

/** Options of {@link EventBridgeDomainEventBus}. */
export interface EventBridgeDomainEventBusOptions {
  /**
   * How many times an entry EventBridge failed with a retryable code is sent in all. Whole-request
   * failures are the SDK's to retry, with its own retry strategy.
   *
   * @default 4
   */
  readonly maxAttempts?: number;

  /**
   * The wait before the first retry, doubled for each further one, with jitter.
   *
   * @default 100
   */
  readonly baseDelayMs?: number;

  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** An event EventBridge did not take. */
export interface FailedDomainEvent {
  readonly id: string;
  readonly type: DomainEvent['type'];
  /** EventBridge's error code, or the name of the error that failed the whole request. */
  readonly errorCode: string;
  readonly errorMessage?: string;
}

/** Some events of a publish did not reach the bus; the others did. */
export class DomainEventPublishError extends ConvoyError {
  constructor(
    readonly failures: readonly FailedDomainEvent[],
    options?: ErrorOptions,
  ) {
    super('event_publish_failed', describeFailures(failures), options);
    this.name = 'DomainEventPublishError';
  }
}

function describeFailures(failures: readonly FailedDomainEvent[]): string {
  const counts = new Map<string, number>();
  for (const failure of failures) counts.set(failure.type, (counts.get(failure.type) ?? 0) + 1);
  const types = [...counts].map(([type, count]) => (count === 1 ? type : `${type} ×${count}`)).join(', ');
  const codes = [...new Set(failures.map((failure) => failure.errorCode))].join(', ');
  return `EventBridge did not take ${failures.length} event(s): ${types} (${codes})`;
}

/** The PutEvents entry of an event: Convoy's source, the type's detail type, the event itself as detail. */
export function toPutEventsEntry(event: DomainEvent, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: CONVOY_EVENT_SOURCE,
    DetailType: DETAIL_TYPES[event.type],
    Detail: JSON.stringify(event),
    Time: new Date(event.at),
  };
}

/** An entry's size as EventBridge counts it against {@link MAX_REQUEST_BYTES} (the bus name is not counted). */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (
    (entry.Time === undefined ? 0 : TIME_BYTES) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

/**
 * Splits items into PutEvents requests, in order: at most {@link MAX_ENTRIES_PER_REQUEST} per request
 * and under {@link MAX_REQUEST_BYTES} in all. Every item must fit in a request on its own.
 */
export function batchBySize<T>(items: readonly T[], sizeOf: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (
      current.length === MAX_ENTRIES_PER_REQUEST ||
      (current.length > 0 && bytes + size >= MAX_REQUEST_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

interface Pending {
  readonly event: DomainEvent;
  readonly entry: PutEventsRequestEntry;
}

/**
 * {@link DomainEventBus} on an EventBridge event bus: PutEvents in requests of at most 10 entries and
 * 256 KB. Entries EventBridge fails with a retryable code (throttling, internal failures) are sent again
 * with exponential backoff; once the attempts are spent, or for a permanent code, `publish` throws a
 * {@link DomainEventPublishError} naming the events that did not get through, after trying every other
 * request. An event that is too large for any request fails before anything is sent.
 *
 * A retry can deliver an event twice (EventBridge may have taken an entry whose answer was lost), which
 * is why every event carries a deterministic id.
 */
export class EventBridgeDomainEventBus implements DomainEventBus {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgePutClient,
    private readonly eventBusName: string,
    options: EventBridgeDomainEventBusOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    const pending = events.map((event) => ({ event, entry: toPutEventsEntry(event, this.eventBusName) }));
    const tooLarge = pending.filter(({ entry }) => entrySize(entry) >= MAX_REQUEST_BYTES);
    if (tooLarge.length > 0) {
      throw new DomainEventPublishError(
        tooLarge.map(({ event, entry }) => ({
          id: event.id,
          type: event.type,
          errorCode: 'EntryTooLarge',
          errorMessage: `${entrySize(entry)} bytes; PutEvents takes less than ${MAX_REQUEST_BYTES}`,
        })),
      );
    }

    const failures: FailedDomainEvent[] = [];
    const batches = batchBySize(pending, ({ entry }) => entrySize(entry));
    for (const [index, batch] of batches.entries()) {
      try {
        failures.push(...(await this.putWithRetries(batch)));
      } catch (error) {
        // The SDK has already retried the request: the service is unreachable or refuses the caller, and the
        // requests not sent yet would fare no better.
        const unsent = batches.slice(index).flat();
        throw new DomainEventPublishError(
          [...failures, ...unsent.map(({ event }) => requestFailure(event, error))],
          { cause: error },
        );
      }
    }
    if (failures.length > 0) throw new DomainEventPublishError(failures);
  }

  /** Sends one request, then again its retryable failures; returns what never got through. */
  private async putWithRetries(batch: readonly Pending[]): Promise<FailedDomainEvent[]> {
    const permanent: FailedDomainEvent[] = [];
    let pending = batch;
    // The SDK module loads on the first publish, not with the function (see sfn-gate-workflow.ts).
    const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    for (let attempt = 1; ; attempt++) {
      const response = await this.client.send(
        new PutEventsCommand({ Entries: pending.map(({ entry }) => entry) }),
      );
      if ((response.FailedEntryCount ?? 0) === 0) return permanent;

      const retryable: { item: Pending; result: PutEventsResultEntry }[] = [];
      for (const [i, item] of pending.entries()) {
        // A failed entry has an error code; the answer lists entries in the order of the request.
        const result = response.Entries?.[i] ?? { ErrorCode: 'MissingResult' };
        if (result.ErrorCode === undefined) continue;
        if (PERMANENT_ERROR_CODES.has(result.ErrorCode)) permanent.push(entryFailure(item.event, result));
        else retryable.push({ item, result });
      }
      if (retryable.length === 0) return permanent;
      if (attempt >= this.maxAttempts) {
        return [...permanent, ...retryable.map(({ item, result }) => entryFailure(item.event, result))];
      }
      pending = retryable.map(({ item }) => item);
      await this.sleep(this.backoff(attempt));
    }
  }

  /** Exponential, with half the wait random so that concurrent publishers spread out. */
  private backoff(attempt: number): number {
    const ceiling = this.baseDelayMs * 2 ** (attempt - 1);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

function entryFailure(event: DomainEvent, result: PutEventsResultEntry): FailedDomainEvent {
  return {
    id: event.id,
    type: event.type,
    errorCode: result.ErrorCode ?? 'Unknown',
    ...(result.ErrorMessage === undefined ? {} : { errorMessage: result.ErrorMessage }),
  };
}

function requestFailure(event: DomainEvent, error: unknown): FailedDomainEvent {
  return {
    id: event.id,
    type: event.type,
    errorCode: error instanceof Error ? error.name : 'Error',
    errorMessage: error instanceof Error ? error.message : String(error),
  };
}
