import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../core/coordination/model.js';
import type { DomainEvent } from '../../core/domain-events.js';
import { UnprocessableError, VersionConflictError } from '../../core/errors.js';
import { keys } from './keys.js';

export type Item = Record<string, unknown>;

/** An item without its key attributes: the domain record it stores. */
export const strip = <T>(item: Item, drop: readonly string[] = ['pk', 'sk']): T =>
  Object.fromEntries(Object.entries(item).filter(([key]) => !drop.includes(key))) as T;

export { decodeCursor, encodeCursor } from '../cursor.js';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The put of an audit event (keys.ts: its partition, and gsi1 by type); it never overwrites one. */
export function eventPut(tableName: string, project: string, event: AuditEvent): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...keys.event(project, event.id),
        gsi1pk: keys.eventsOfType(project, event.type),
        gsi1sk: event.id,
        // Events are plain data; the round trip drops undefined fields the marshaller rejects.
        ...(JSON.parse(JSON.stringify(event)) as Item),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** How long a domain event item stays in the table after it happened (the stream keeps it 24 hours). */
export const DOMAIN_EVENT_KEEP_SECONDS = 7 * 24 * 60 * 60;

/**
 * The put of a domain event, written in the transaction of the change it reports; the table's stream
 * hands it to the publisher. Ids are derived from what the event is about, so a retried change writes
 * the same item with the same content: DynamoDB writes no stream record for a put that changes nothing.
 */
export function domainEventPut(tableName: string, event: DomainEvent): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...keys.domainEvent(event.id),
        type: event.type,
        project: event.project,
        at: event.at,
        // Events are plain data; the round trip drops undefined fields the marshaller rejects.
        event: JSON.parse(JSON.stringify(event)) as Item,
        expiresAt: Math.floor(Date.parse(event.at) / 1000) + DOMAIN_EVENT_KEEP_SECONDS,
      },
    },
  };
}

/** DynamoDB's limits on one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

/**
 * Refuses a change that one transaction cannot hold (more than 100 items or 4 MB), before anything is
 * written: a 422 naming the limit, never a change written in part. The size is the items' JSON, a
 * little above what DynamoDB counts.
 */
export function assertFitsOneTransaction(items: readonly TransactItem[], what = 'this change'): void {
  if (items.length > MAX_TRANSACTION_ITEMS)
    throw new UnprocessableError(
      `${what} needs ${items.length} writes, but one DynamoDB transaction holds at most ${MAX_TRANSACTION_ITEMS} items; nothing was written — split it into smaller changes`,
    );
  let bytes = 0;
  for (const item of items) bytes += Buffer.byteLength(JSON.stringify(item));
  if (bytes > MAX_TRANSACTION_BYTES)
    throw new UnprocessableError(
      `${what} is ${(bytes / 1024 / 1024).toFixed(1)} MB, but one DynamoDB transaction holds at most 4 MB; nothing was written — split it into smaller changes`,
    );
}

/**
 * One TransactWriteItems. A failed condition or a concurrent transaction on the same item becomes a
 * VersionConflictError (with `conflict` as its message when given): the caller reads again and retries.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  items: readonly TransactItem[],
  conflict?: string,
): Promise<void> {
  if (items.length === 0) return;
  try {
    await client.send(new TransactWriteCommand({ TransactItems: [...items] }));
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      if (codes.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict'))
        throw new VersionConflictError(conflict);
    }
    if ((error as Error).name === 'TransactionConflictException') throw new VersionConflictError(conflict);
    throw error;
  }
}
