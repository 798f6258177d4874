import { randomUUID } from 'node:crypto';
import {
  CONVOY_EVENT_SOURCE,
  DETAIL_TYPES,
  type DomainEvent,
  type DomainEventBus,
  type DomainEventEnvelope,
  type DomainEventPattern,
  type DomainEventRule,
  domainEventPattern,
  eventBridgeTime,
  matchesPattern,
} from '../core/domain-events.js';

/** What a subscriber runs for each matching event: the same code an EventBridge rule's Lambda target runs. */
export type DomainEventHandler = (event: DomainEventEnvelope) => Promise<void> | void;

/** Options of {@link InProcessEventBus}. */
export interface InProcessEventBusOptions {
  /** Where a failing handler is reported. @default console.error */
  readonly log?: (line: string) => void;
  /** The envelope's `account`. @default '000000000000' */
  readonly account?: string;
  /** The envelope's `region`. @default 'local' */
  readonly region?: string;
}

interface Subscription {
  readonly name: string;
  readonly pattern: DomainEventPattern;
  readonly handler: DomainEventHandler;
}

/**
 * The local stand-in for Convoy's EventBridge bus in `convoy dev` and the tests. A subscription matches
 * events with the same pattern the CDK gives the rule (`domainEventPattern`), and its handler gets the
 * envelope a Lambda target would: the event goes through JSON, and `id` is new on every publish.
 *
 * As with EventBridge, `publish` only hands the events over: handlers run after it has resolved, each
 * (event, subscription) pair on its own, and a handler's failure is logged, never thrown to the
 * publisher. Handlers are not retried (Lambda retries an asynchronous invocation twice; here a failure
 * is in the log at once). Await {@link drain} to let every handler finish, events published by handlers
 * included.
 */
export class InProcessEventBus implements DomainEventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: (line: string) => void;
  private readonly account: string;
  private readonly region: string;
  private stopped = false;

  constructor(options: InProcessEventBusOptions = {}) {
    this.log = options.log ?? ((line) => console.error(line));
    this.account = options.account ?? '000000000000';
    this.region = options.region ?? 'local';
  }

  /**
   * Runs `handler` for every event published from now on that matches `rule`; `name` labels it in the
   * log. Returns a function that ends the subscription.
   */
  subscribe(rule: DomainEventRule, handler: DomainEventHandler, name = 'subscriber'): () => void {
    const subscription: Subscription = { name, pattern: domainEventPattern(rule), handler };
    this.subscriptions.add(subscription);
    return () => {
      this.subscriptions.delete(subscription);
    };
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    // Like the JSON EventBridge receives: a value that is not JSON fails the publisher, as it would there.
    const envelopes = events.map((event) => this.envelope(JSON.parse(JSON.stringify(event)) as DomainEvent));
    if (this.stopped) {
      if (envelopes.length > 0) this.log(`event bus stopped; dropped ${eventIds(envelopes)}`);
      return;
    }
    for (const envelope of envelopes) {
      for (const subscription of this.subscriptions) {
        if (matchesPattern(subscription.pattern, envelope)) this.deliver(subscription, envelope);
      }
    }
  }

  /** Resolves when every handler started so far has finished, including those of events they published. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Lets the handlers in flight finish; events published afterwards are dropped (and logged). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
  }

  private envelope(event: DomainEvent): DomainEventEnvelope {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': DETAIL_TYPES[event.type],
      source: CONVOY_EVENT_SOURCE,
      account: this.account,
      time: eventBridgeTime(event.at),
      region: this.region,
      resources: [],
      detail: event,
    };
  }

  private deliver(subscription: Subscription, envelope: DomainEventEnvelope): void {
    const run = async () => {
      // After the publisher's await has resumed, as an asynchronous target would.
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await subscription.handler(envelope);
      } catch (error) {
        this.log(
          `${subscription.name} failed on ${envelope['detail-type']} ${envelope.detail.id}: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      }
    };
    const running = run().finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }
}

function eventIds(envelopes: readonly DomainEventEnvelope[]): string {
  return envelopes.map((envelope) => envelope.detail.id).join(', ');
}
