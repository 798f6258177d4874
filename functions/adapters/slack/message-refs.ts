import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/ports.js';
import { keys } from '../dynamodb/keys.js';

/** Where a message Convoy posted lives: chat.update needs the channel id, not the name it was posted to. */
export interface MessageRef {
  /** The channel id Slack answered with (`C0123…`), even when the post named `#channel`. */
  readonly channel: string;
  /** The message's ts; for a shared file (keys `file:…`), the file's id. */
  readonly ts: string;
}

/**
 * The messages Convoy posted, by the caller's idempotency key, so that a retried job updates the
 * message it posted before instead of posting a second one; likewise the files it shared.
 */
export interface MessageRefs {
  get(key: string): Promise<MessageRef | undefined>;
  put(key: string, channel: string, ts: string): Promise<void>;
}

export interface DynamoDbMessageRefsOptions {
  /**
   * How long a reference is kept; a job retried later than this posts a new message.
   * @default 30 days
   */
  readonly keepSeconds?: number;
  /** @default the system clock */
  readonly clock?: Clock;
}

const THIRTY_DAYS_SECONDS = 30 * 24 * 60 * 60;

/** Message references in the coordination table (`SLACKMSG#<key>`), deleted by DynamoDB's TTL. */
export class DynamoDbMessageRefs implements MessageRefs {
  private readonly keepSeconds: number;
  private readonly clock: Clock;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbMessageRefsOptions = {},
  ) {
    this.keepSeconds = options.keepSeconds ?? THIRTY_DAYS_SECONDS;
    this.clock = options.clock ?? { now: () => new Date() };
  }

  async get(key: string): Promise<MessageRef | undefined> {
    const { Item } = await this.client.send(
      // A retry can follow the first attempt within a second: read what that attempt wrote.
      new GetCommand({ TableName: this.tableName, Key: keys.slackMessage(key), ConsistentRead: true }),
    );
    if (!Item || typeof Item.channel !== 'string' || typeof Item.ts !== 'string') return undefined;
    // TTL deletes expired items only eventually; an expired reference is treated as gone right away.
    if (typeof Item.expiresAt === 'number' && Item.expiresAt <= this.epochSeconds()) return undefined;
    return { channel: Item.channel, ts: Item.ts };
  }

  async put(key: string, channel: string, ts: string): Promise<void> {
    const now = this.clock.now();
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.slackMessage(key),
          key,
          channel,
          ts,
          postedAt: now.toISOString(),
          expiresAt: Math.floor(now.getTime() / 1000) + this.keepSeconds,
        },
      }),
    );
  }

  private epochSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}
