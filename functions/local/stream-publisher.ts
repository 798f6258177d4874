import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { domainEventOfRecord } from '../adapters/dynamodb/domain-event-stream.js';
import { keys } from '../adapters/dynamodb/keys.js';
import { streamArn } from '../adapters/dynamodb/table-definition.js';
import type { MemoryEventStream } from '../adapters/memory/event-stream.js';
import type { DomainEvent } from '../core/domain-events.js';
import { deliverDomainEvents, type PublisherPorts } from '../core/integrations/publisher.js';

/** Options of {@link StreamPublisher}. */
export interface StreamPublisherOptions {
  /** The client of the table (DynamoDB Local); the stream is read at the same endpoint. */
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The bus to deliver to and the followers' ports. */
  readonly ports: PublisherPorts;
  readonly log?: (line: string) => void;
  /** Time between two reads of the stream while it is quiet. @default 100 */
  readonly pollMs?: number;
}

/** Where reading a shard stands: after this sequence number, or from its start. */
type Position = { readonly after: string } | { readonly start: true };

/** How long the list of shards is reused before the stream is described again. */
const SHARDS_FRESH_MS = 1_000;

/**
 * The publisher of `convoy dev` and the tests: reads DynamoDB Local's stream of the table and hands
 * every domain event item to the same {@link deliverDomainEvents} the deployed publisher function
 * runs. How far each shard was delivered is kept in the table (`PUBLISHER#<shard>`), written after
 * each batch that held events, so a process that stops in the middle of a batch delivers that batch
 * again when it starts (at least once); a batch whose bus or follower failed is read again on the
 * next poll.
 */
export class StreamPublisher {
  private readonly streams: DynamoDBStreamsClient;
  private readonly log: (line: string) => void;
  private readonly pollMs: number;
  private readonly positions = new Map<string, Position>();
  /**
   * The iterator the last read of each shard ended with, while it stands where that read left the
   * shard: the next poll goes on from it, instead of asking for a new iterator each time (a quiet
   * stream is polled ten times a second).
   */
  private readonly iterators = new Map<string, string>();
  private shardList: { shards: Shard[]; readAt: number } | undefined;
  private readonly finished = new Set<string>();
  private arn: string | undefined;
  private loop: Promise<void> | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: StreamPublisherOptions) {
    const config = options.client.config;
    this.streams = new DynamoDBStreamsClient({
      endpoint: config.endpoint,
      region: config.region,
      credentials: config.credentials,
    });
    this.log = options.log ?? ((line) => console.error(line));
    this.pollMs = options.pollMs ?? 100;
  }

  /** Starts reading in the background, every `pollMs` while the stream is quiet. */
  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        try {
          await this.publishOnce();
        } catch (error) {
          this.log(`publisher: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (this.stopped) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /**
   * Reads every shard up to its end once and delivers what it holds; resolves to the number of events
   * delivered. Calls overlapping a running one wait for it and then read again.
   */
  async publishOnce(): Promise<number> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.readAll();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Stops reading once the current read is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.running?.catch(() => undefined);
    this.streams.destroy();
  }

  private async readAll(): Promise<number> {
    this.arn ??= await streamArn(this.options.client, this.options.tableName);
    let delivered = 0;
    for (const shard of await this.shards()) {
      if (!shard.ShardId || this.finished.has(shard.ShardId)) continue;
      delivered += await this.readShard(shard.ShardId);
    }
    return delivered;
  }

  /** The stream's shards, parents before their children (a child holds the later records). */
  private async shards(): Promise<Shard[]> {
    const now = Date.now();
    if (this.shardList && now - this.shardList.readAt < SHARDS_FRESH_MS) return this.shardList.shards;
    const shards = await this.describeShards();
    this.shardList = { shards, readAt: now };
    return shards;
  }

  private async describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await this.streams.send(
        new DescribeStreamCommand({
          StreamArn: this.arn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    const ids = new Set(shards.map((shard) => shard.ShardId));
    const ordered: Shard[] = [];
    const seen = new Set<string>();
    const visit = (shard: Shard) => {
      if (!shard.ShardId || seen.has(shard.ShardId)) return;
      seen.add(shard.ShardId);
      const parent = shards.find((candidate) => candidate.ShardId === shard.ParentShardId);
      if (parent && ids.has(parent.ShardId)) visit(parent);
      ordered.push(shard);
    };
    for (const shard of shards) visit(shard);
    return ordered;
  }

  private async position(shard: string): Promise<Position> {
    const known = this.positions.get(shard);
    if (known) return known;
    const { Item } = await this.options.documentClient.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: keys.publisherCheckpoint(shard),
        ConsistentRead: true,
      }),
    );
    const position: Position =
      typeof Item?.sequence === 'string' ? { after: Item.sequence } : { start: true };
    this.positions.set(shard, position);
    return position;
  }

  private async readShard(shard: string): Promise<number> {
    let iterator = this.iterators.get(shard) ?? (await this.iteratorAtPosition(shard));
    this.iterators.delete(shard);
    let delivered = 0;
    while (iterator && !this.stopped) {
      let page: Awaited<ReturnType<typeof this.getRecords>>;
      try {
        page = await this.getRecords(iterator);
      } catch (error) {
        // A kept iterator may have expired (after 15 minutes): the next poll starts from the position.
        this.shardList = undefined;
        throw error;
      }
      const records = page.Records ?? [];
      if (records.length > 0) {
        const outcome = await this.deliver(shard, records);
        delivered += outcome.delivered;
        // A failed delivery is read again, from where it stopped, on the next poll.
        if (!outcome.complete) return delivered;
      }
      iterator = page.NextShardIterator;
      if (!iterator) {
        this.finished.add(shard);
        // A closed shard has children: they are listed at the next poll.
        this.shardList = undefined;
      }
      if (records.length === 0) break;
    }
    if (iterator && !this.stopped) this.iterators.set(shard, iterator);
    return delivered;
  }

  private getRecords(iterator: string) {
    return this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
  }

  private async iteratorAtPosition(shard: string): Promise<string | undefined> {
    const position = await this.position(shard);
    const { ShardIterator } = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.arn,
        ShardId: shard,
        ...('after' in position
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position.after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  /** Delivers the events of one page of records and moves the shard's position past what was delivered. */
  private async deliver(
    shard: string,
    records: readonly _Record[],
  ): Promise<{ delivered: number; complete: boolean }> {
    const events: { event: DomainEvent; sequence: string }[] = [];
    for (const record of records) {
      const event = domainEventOfRecord(record as Parameters<typeof domainEventOfRecord>[0]);
      if (event) events.push({ event, sequence: record.dynamodb?.SequenceNumber as string });
    }
    const last = records.at(-1)?.dynamodb?.SequenceNumber as string;
    if (events.length === 0) {
      // Nothing to deliver: only this process's position moves (no write, which would be a record itself).
      this.positions.set(shard, { after: last });
      return { delivered: 0, complete: true };
    }
    let count: number;
    try {
      count = await deliverDomainEvents(
        this.options.ports,
        events.map(({ event }) => event),
        this.log,
      );
    } catch (error) {
      this.log(
        `publisher: the bus refused ${events.length} event(s), delivering them again: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
      return { delivered: 0, complete: false };
    }
    const complete = count === events.length;
    // Up to the record before the first event not delivered, or the whole page.
    const through = complete ? last : previousSequence(records, events[count]?.sequence as string);
    if (through !== undefined) await this.checkpoint(shard, through);
    return { delivered: count, complete };
  }

  private async checkpoint(shard: string, sequence: string): Promise<void> {
    await this.options.documentClient.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { ...keys.publisherCheckpoint(shard), sequence },
      }),
    );
    this.positions.set(shard, { after: sequence });
  }
}

/** The sequence number of the record before the one with `sequence`, if it is not the first. */
function previousSequence(records: readonly _Record[], sequence: string): string | undefined {
  const index = records.findIndex((record) => record.dynamodb?.SequenceNumber === sequence);
  return index > 0 ? (records[index - 1]?.dynamodb?.SequenceNumber as string) : undefined;
}

/**
 * The publisher over the in-memory stores (`convoy simulate`): delivers the events their
 * transactions inserted, with the same {@link deliverDomainEvents}; only what was delivered is
 * acknowledged, so a failed delivery is tried again on the next call.
 */
export class MemoryStreamPublisher {
  constructor(
    private readonly stream: MemoryEventStream,
    private readonly ports: PublisherPorts,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Nothing runs in the background: {@link publishOnce} delivers (the simulation calls it after each step). */
  start(): void {}

  async publishOnce(): Promise<number> {
    const events = this.stream.pending();
    if (events.length === 0) return 0;
    let delivered = 0;
    try {
      delivered = await deliverDomainEvents(this.ports, events, this.log);
    } catch (error) {
      this.log(`publisher: the bus refused ${events.length} event(s): ${(error as Error).message}`);
    }
    this.stream.acknowledge(delivered);
    return delivered;
  }

  async stop(): Promise<void> {}
}
