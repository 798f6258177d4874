// The physical schema of the coordination table, shared by the CDK construct and by local table
// creation so that the deployed table and the one `convoy dev` and the tests use cannot drift.
// What the keys contain is documented in keys.ts; this file only names the attributes.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/** Partition key attribute of the table (string). */
export const PARTITION_KEY = 'pk';

/** Sort key attribute of the table (string). */
export const SORT_KEY = 'sk';

/** Name of the general-purpose global secondary index. */
export const GSI1_NAME = 'gsi1';

/** Partition key attribute of {@link GSI1_NAME} (string). */
export const GSI1_PARTITION_KEY = 'gsi1pk';

/** Sort key attribute of {@link GSI1_NAME} (string). */
export const GSI1_SORT_KEY = 'gsi1sk';

/** Attribute DynamoDB reads to expire items (epoch seconds). */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * What the table's stream carries: the new image of each item is all the publisher reads (the domain
 * event items). The deployed global table needs both images for its replication anyway.
 */
export const STREAM_VIEW_TYPE = 'NEW_AND_OLD_IMAGES';

/**
 * Physical name of the table. It is fixed so that stacks in replica regions can find their
 * replica by name without a cross-region reference, and so that `convoy dev` finds its data again.
 */
export const DEFAULT_TABLE_NAME = 'convoy-state';

// Real DynamoDB takes seconds to minutes to create a table with an index; DynamoDB Local is instant.
const ACTIVE_TIMEOUT_MS = 5 * 60_000;
const ACTIVE_POLL_MS = 500;

/**
 * Creates the coordination table with its index, stream and TTL unless it exists, then waits until
 * it and its index are ACTIVE. Safe to call concurrently and repeatedly.
 *
 * @returns `'created'` when this call created the table, `'exists'` when it was already there
 *   (including when a concurrent call created it first)
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists';
  if ((await describeTable(client, tableName)) !== undefined) {
    outcome = 'exists';
  } else {
    outcome = await createTable(client, tableName);
  }
  await waitUntilActive(client, tableName);
  // A table made before the domain events were streamed (an older convoy dev data folder) gets its stream.
  await ensureStream(client, tableName);
  // Also on 'exists': a concurrent creator may not have reached its TTL step yet.
  await ensureTimeToLive(client, tableName);
  return outcome;
}

/** The ARN of the table's stream, which the publisher reads (convoy dev reads DynamoDB Local's). */
export async function streamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const arn = (await describeTable(client, tableName))?.LatestStreamArn;
  if (!arn) throw new Error(`Table ${tableName} has no stream; create it with ensureTable`);
  return arn;
}

async function ensureStream(client: DynamoDBClient, tableName: string): Promise<void> {
  const table = await describeTable(client, tableName);
  if (table?.StreamSpecification?.StreamEnabled) return;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
      }),
    );
  } catch (error) {
    // A concurrent call enabled it first.
    if (!(await describeTable(client, tableName))?.StreamSpecification?.StreamEnabled) throw error;
  }
  await waitUntilActive(client, tableName);
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [PARTITION_KEY, SORT_KEY, GSI1_PARTITION_KEY, GSI1_SORT_KEY].map((name) => ({
          AttributeName: name,
          AttributeType: 'S' as const,
        })),
        KeySchema: [
          { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: SORT_KEY, KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
        GlobalSecondaryIndexes: [
          {
            IndexName: GSI1_NAME,
            KeySchema: [
              { AttributeName: GSI1_PARTITION_KEY, KeyType: 'HASH' },
              { AttributeName: GSI1_SORT_KEY, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    return 'created';
  } catch (error) {
    if (error instanceof ResourceInUseException) {
      return 'exists';
    }
    throw error;
  }
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return undefined;
    }
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const table = await describeTable(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (table?.TableStatus === 'ACTIVE' && indexesActive) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Table ${tableName} is not ACTIVE after ${ACTIVE_TIMEOUT_MS / 1000} s (status: ${table?.TableStatus ?? 'missing'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
  }
}

async function ensureTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  const current = await describeTimeToLive(client, tableName);
  if (current.enabled) {
    return;
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // DynamoDB rejects enabling TTL twice; that is success when a concurrent call won the race.
    if ((await describeTimeToLive(client, tableName)).enabled) {
      return;
    }
    throw error;
  }
}

async function describeTimeToLive(client: DynamoDBClient, tableName: string): Promise<{ enabled: boolean }> {
  const { TimeToLiveDescription: ttl } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const status = ttl?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    return { enabled: false };
  }
  if (ttl?.AttributeName !== TTL_ATTRIBUTE) {
    throw new Error(
      `Table ${tableName} expires items on ${ttl?.AttributeName ?? 'an unknown attribute'}, not ${TTL_ATTRIBUTE}; ` +
        'disable that TTL or use another table',
    );
  }
  return { enabled: true };
}
