import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { JiraCommand, OutboxCommand, OutboxEntry } from '../../core/integrations/model.js';
import type { Outbox } from '../../core/ports.js';
import { keys } from './keys.js';
import { queryAll } from './query.js';
import { GSI1_NAME } from './table-definition.js';

type Item = Record<string, unknown>;

/** Conditional puts in flight at once, so a push of hundreds of commits does not open hundreds of sockets. */
const ENQUEUE_CONCURRENCY = 25;

/**
 * The JIRA command outbox in the coordination table (keys in keys.ts). Pending entries sit in the
 * gsi1 partition `OUTBOX#PENDING` sorted by `<notBefore>#<id>`, so "what is due" is one Query;
 * dead letters move to `OUTBOX#DEAD`, sorted by when they died, and stay until someone looks.
 */
export class DynamoDbOutbox implements Outbox {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Every entry is due at once. Entries of one call get `createdAt` one millisecond apart, in the
   * order given: the worker runs an issue's commands in `createdAt` order, and ids need not sort.
   */
  async enqueue(
    entries: readonly { id: string; project: string; command: OutboxCommand }[],
    now: Date,
  ): Promise<number> {
    let added = 0;
    for (let start = 0; start < entries.length; start += ENQUEUE_CONCURRENCY) {
      const chunk = entries.slice(start, start + ENQUEUE_CONCURRENCY);
      const outcomes = await Promise.all(
        chunk.map((entry, index) =>
          this.add(entry, now.toISOString(), new Date(now.getTime() + start + index).toISOString()),
        ),
      );
      added += outcomes.filter(Boolean).length;
    }
    return added;
  }

  private async add(
    entry: { id: string; project: string; command: OutboxCommand },
    notBefore: string,
    createdAt: string,
  ) {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: outboxItem(entry, notBefore, createdAt),
          // A redelivered webhook brings the same ids: the entry already queued (or dead) stays as it is.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Oldest `notBefore` first. The index is eventually consistent: a write may show a moment later. */
  async due(now: Date, limit: number): Promise<OutboxEntry[]> {
    if (limit < 1) return [];
    // gsi1sk is `<notBefore>#<id>`, and every key whose notBefore is at most `now` sorts before the
    // bare ISO time of the next millisecond.
    const after = new Date(now.getTime() + 1).toISOString();
    const bounded = /^\d{4}-/.test(after);
    return this.query(
      {
        KeyConditionExpression: bounded ? 'gsi1pk = :pk AND gsi1sk < :after' : 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.outboxPending, ...(bounded ? { ':after': after } : {}) },
      },
      limit,
    );
  }

  async complete(id: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.outboxEntry(id) }));
  }

  async retryLater(id: string, attempts: number, notBefore: Date, error: string): Promise<void> {
    const at = notBefore.toISOString();
    await this.updatePending(id, {
      UpdateExpression: 'SET attempts = :attempts, notBefore = :at, lastError = :error, gsi1sk = :sk',
      ExpressionAttributeValues: { ':attempts': attempts, ':at': at, ':error': error, ':sk': `${at}#${id}` },
    });
  }

  /** The dead letter's `notBefore` becomes the time it died, which is what its index key sorts by. */
  async deadLetter(id: string, attempts: number, error: string, now: Date): Promise<void> {
    const at = now.toISOString();
    await this.updatePending(id, {
      UpdateExpression:
        'SET attempts = :attempts, notBefore = :at, lastError = :error, gsi1pk = :dead, gsi1sk = :sk',
      ExpressionAttributeValues: {
        ':attempts': attempts,
        ':at': at,
        ':error': error,
        ':dead': keys.outboxDead,
        ':sk': `${at}#${id}`,
      },
    });
  }

  /** Oldest first. */
  async deadLetters(): Promise<OutboxEntry[]> {
    return this.query(
      {
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.outboxDead },
      },
      Number.POSITIVE_INFINITY,
    );
  }

  /** Changes an entry only while it is pending: one another worker completed stays gone. */
  private async updatePending(
    id: string,
    update: { UpdateExpression: string; ExpressionAttributeValues: Item },
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.outboxEntry(id),
          ...update,
          ConditionExpression: 'gsi1pk = :pending',
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':pending': keys.outboxPending },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  private async query(
    input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'>,
    limit: number,
  ): Promise<OutboxEntry[]> {
    const items = await queryAll(
      this.client,
      { TableName: this.tableName, IndexName: GSI1_NAME, ...input },
      limit,
    );
    return items.map(toEntry);
  }
}

function toEntry(item: Item): OutboxEntry {
  return {
    id: item.id as string,
    project: item.project as string,
    command: item.command as JiraCommand,
    attempts: item.attempts as number,
    notBefore: item.notBefore as string,
    createdAt: item.createdAt as string,
    ...(typeof item.lastError === 'string' ? { lastError: item.lastError } : {}),
  };
}

/** The item of a new outbox entry, due at `notBefore` (also written by other stores' transactions). */
export function outboxItem(
  entry: { id: string; project: string; command: OutboxCommand },
  notBefore: string,
  createdAt: string,
): Record<string, unknown> {
  return {
    ...keys.outboxEntry(entry.id),
    gsi1pk: keys.outboxPending,
    gsi1sk: `${notBefore}#${entry.id}`,
    id: entry.id,
    project: entry.project,
    // Commands are plain data; the round trip drops undefined fields the marshaller rejects.
    command: JSON.parse(JSON.stringify(entry.command)),
    attempts: 0,
    notBefore,
    createdAt,
  };
}
