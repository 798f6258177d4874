import { type DynamoDBDocumentClient, paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Item } from './items.js';

/**
 * Every item a query matches, at most `limit`: the SDK's paginator follows `LastEvaluatedKey` from
 * page to page (reading at most `limit` items a page). For reads that need all of a partition; a
 * page the caller resumes later has its own cursor (items.ts).
 */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  const pages = paginateQuery({ client, ...(Number.isFinite(limit) ? { pageSize: limit } : {}) }, input);
  for await (const page of pages) {
    items.push(...(page.Items ?? []));
    if (items.length >= limit) break;
  }
  return items.slice(0, limit);
}
