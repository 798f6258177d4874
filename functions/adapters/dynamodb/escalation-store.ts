import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../core/coordination/model.js';
import type { DomainEvent } from '../../core/domain-events.js';
import type { Escalation, EscalationStatus } from '../../core/escalations/model.js';
import type { OutboxCommand } from '../../core/integrations/model.js';
import type { EscalationPage, EscalationStore, EscalationWrite } from '../../core/ports.js';
import {
  decodeCursor,
  domainEventPut,
  encodeCursor,
  eventPut,
  type Item,
  type TransactItem,
  transactWrite,
} from './items.js';
import { type Key, keys } from './keys.js';
import { outboxItem } from './outbox.js';
import { queryAll } from './query.js';
import { GSI1_NAME } from './table-definition.js';

/** DynamoDB allows at most 100 items in one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

/** Items a filtered page reads per round trip; Limit counts items before the filter. */
const FILTERED_READ = 100;

/** Where a page ended: the keys of its last escalation, in the table and in gsi1. */
interface Position {
  readonly pk: string;
  readonly sk: string;
  readonly gsi1pk: string;
  readonly gsi1sk: string;
}

/**
 * The escalations in the coordination table (keys in keys.ts). An unresolved escalation lives at
 * `OPEN#<dedup key>`: the put that opens it is conditional on that item being absent, which is what
 * keeps one rule and subject from being open twice when two functions decide at once. Resolving
 * deletes it (conditionally) and puts `RESOLVED#<id>` in the same transaction.
 */
export class DynamoDbEscalationStore implements EscalationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async unresolvedEscalations(project: string): Promise<Escalation[]> {
    return (await this.openItems(project)).map(toEscalation);
  }

  async saveEscalations(
    project: string,
    changes: readonly EscalationWrite[],
    events: readonly AuditEvent[] = [],
    notices?: {
      readonly entries: readonly { id: string; project: string; command: OutboxCommand }[];
      readonly now: Date;
    },
    published: readonly DomainEvent[] = [],
  ): Promise<void> {
    const queued = (notices?.entries ?? []).map((entry, index) => ({
      Put: {
        TableName: this.tableName,
        // The ids name the change (escalation, level, version): a write of them can only follow this
        // change's own, conditional, escalation write.
        Item: outboxItem(
          entry,
          notices?.now.toISOString() as string,
          new Date((notices?.now.getTime() ?? 0) + index).toISOString(),
        ),
      },
    }));
    const writes = [
      ...changes.flatMap((change) => this.writesOf(project, change)),
      ...queued,
      ...published.map((event) => domainEventPut(this.tableName, event)),
    ];
    if (writes.length > MAX_TRANSACTION_ITEMS)
      throw new Error(
        `${changes.length} escalation changes need ${writes.length} writes; one transaction holds at most ${MAX_TRANSACTION_ITEMS}`,
      );
    // The audit events ride in the same transaction while they fit; any beyond follow right after.
    const room = MAX_TRANSACTION_ITEMS - writes.length;
    const eventPuts = events.map((event) => eventPut(this.tableName, project, event));
    await this.transact([...writes, ...eventPuts.slice(0, room)]);
    for (let start = room; start < eventPuts.length; start += MAX_TRANSACTION_ITEMS)
      await this.transact(eventPuts.slice(start, start + MAX_TRANSACTION_ITEMS));
  }

  async getEscalation(project: string, id: string): Promise<Escalation | undefined> {
    // Unresolved first: an escalation only ever moves from there to the history, so reading in this
    // order cannot miss one that is being resolved meanwhile.
    const open = await this.openItems(project, id);
    if (open[0]) return toEscalation(open[0]);
    const response = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.resolvedEscalation(project, id),
        ConsistentRead: true,
      }),
    );
    return response.Item ? toEscalation(response.Item) : undefined;
  }

  async listEscalations(
    project: string,
    query: { status?: EscalationStatus; limit: number; cursor?: string },
  ): Promise<EscalationPage> {
    const after = query.cursor === undefined ? undefined : decodePosition(query.cursor, project);
    if (query.status === 'open' || query.status === 'acknowledged')
      return this.listUnresolved(project, query.status, query.limit, after);
    return this.listByTime(project, query.status, query.limit, after);
  }

  /**
   * Open or acknowledged: the unresolved set is small (one per rule and subject at most), so it is
   * read whole and consistently from the table, then paged in memory.
   */
  private async listUnresolved(
    project: string,
    status: EscalationStatus,
    limit: number,
    after: Position | undefined,
  ): Promise<EscalationPage> {
    const items = (await this.openItems(project))
      .filter((item) => item.status === status)
      .filter((item) => after === undefined || (item.gsi1sk as string) < after.gsi1sk)
      .sort((a, b) => ((a.gsi1sk as string) < (b.gsi1sk as string) ? 1 : -1));
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return {
      escalations: page.map(toEscalation),
      ...(items.length > limit && last ? { cursor: encodeCursor(positionOf(last)) } : {}),
    };
  }

  /** Every escalation, or the resolved ones, newest first from gsi1. */
  private async listByTime(
    project: string,
    status: EscalationStatus | undefined,
    limit: number,
    after: Position | undefined,
  ): Promise<EscalationPage> {
    const found: Item[] = [];
    let start: Record<string, unknown> | undefined = after ? { ...after } : undefined;
    // A filtered read can come back short or empty while more remains: read on until the page is full.
    for (;;) {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        IndexName: GSI1_NAME,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: {
          ':pk': keys.escalations(project),
          ...(status ? { ':status': status } : {}),
        },
        ...(status
          ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }
          : {}),
        ScanIndexForward: false,
        Limit: status ? Math.max(FILTERED_READ, limit) : limit - found.length,
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const response = await this.client.send(new QueryCommand(input));
      const items = response.Items ?? [];
      const wanted = limit - found.length;
      found.push(...items.slice(0, wanted));
      if (items.length > wanted) {
        // The page filled up in the middle of this read: it ends at its last escalation.
        return { escalations: found.map(toEscalation), cursor: encodeCursor(positionOf(found.at(-1))) };
      }
      start = response.LastEvaluatedKey;
      if (!start) return { escalations: found.map(toEscalation) };
      if (found.length === limit) {
        const last = found.at(-1);
        return { escalations: found.map(toEscalation), cursor: encodeCursor(positionOf(last)) };
      }
    }
  }

  private writesOf(project: string, { escalation, expectedVersion }: EscalationWrite): TransactItem[] {
    if (escalation.project !== project)
      throw new Error(`escalation ${escalation.id} belongs to ${escalation.project}, not ${project}`);
    const open = keys.openEscalation(project, escalation.dedupKey);
    const resolved = keys.resolvedEscalation(project, escalation.id);
    const item = (key: Key) => ({
      ...key,
      gsi1pk: keys.escalations(project),
      gsi1sk: keys.escalationOrder(escalation.openedAt, escalation.id),
      // Escalations are plain data; the round trip drops undefined fields the marshaller rejects.
      ...(JSON.parse(JSON.stringify(escalation)) as Item),
    });
    const stillThisOne = {
      ConditionExpression: '#version = :expected AND #id = :id',
      ExpressionAttributeNames: { '#version': 'version', '#id': 'id' },
      ExpressionAttributeValues: { ':expected': expectedVersion, ':id': escalation.id },
    };
    const absent = { ConditionExpression: 'attribute_not_exists(pk)' };
    if (escalation.status === 'resolved') {
      // A resolved escalation is final: it leaves the unresolved set for good.
      const put: TransactItem = { Put: { TableName: this.tableName, Item: item(resolved), ...absent } };
      if (expectedVersion === 0) return [put];
      return [{ Delete: { TableName: this.tableName, Key: open, ...stillThisOne } }, put];
    }
    if (expectedVersion === 0)
      return [
        { Put: { TableName: this.tableName, Item: item(open), ...absent } },
        // A retried opening that already went through must not open a second time.
        { ConditionCheck: { TableName: this.tableName, Key: resolved, ...absent } },
      ];
    return [{ Put: { TableName: this.tableName, Item: item(open), ...stillThisOne } }];
  }

  /** The unresolved items of a project (or only the one with this id), read consistently. */
  private async openItems(project: string, id?: string): Promise<Item[]> {
    return queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :open)',
      ExpressionAttributeValues: {
        ':pk': keys.escalations(project),
        ':open': keys.openEscalation(project, '').sk,
        ...(id === undefined ? {} : { ':id': id }),
      },
      ...(id === undefined
        ? {}
        : { FilterExpression: '#id = :id', ExpressionAttributeNames: { '#id': 'id' } }),
      ConsistentRead: true,
    });
  }

  private async transact(items: TransactItem[]): Promise<void> {
    await transactWrite(this.client, items, 'an escalation changed while this decision was being made');
  }
}

function positionOf(item: Item | undefined): Position {
  if (!item) throw new Error('a page with a cursor has at least one escalation');
  return {
    pk: item.pk as string,
    sk: item.sk as string,
    gsi1pk: item.gsi1pk as string,
    gsi1sk: item.gsi1sk as string,
  };
}

function decodePosition(cursor: string, project: string): Position {
  return decodeCursor<Position>(
    cursor,
    (position) =>
      ['pk', 'sk', 'gsi1pk', 'gsi1sk'].every((name) => typeof position[name] === 'string') &&
      position.pk === keys.escalations(project) &&
      position.gsi1pk === position.pk,
    ' for this project',
  );
}

function toEscalation(item: Item): Escalation {
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...escalation } = item;
  return escalation as unknown as Escalation;
}
