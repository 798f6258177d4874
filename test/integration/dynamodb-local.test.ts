import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTable,
  GSI1_NAME,
  GSI1_PARTITION_KEY,
  GSI1_SORT_KEY,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/adapters/dynamodb/table-definition.js';
import {
  type DynamoDbLocal,
  DynamoDbLocalError,
  startDynamoDbLocal,
} from '../../functions/local/dynamodb-local.js';
import { createTestTable, testClient, testEndpoint } from '../support/dynamodb.js';

// A JVM starts in 1-3 s on an idle two-core machine but took 20 s beside CDK synthesis; the restart test starts two.
const READY_TIMEOUT_MS = 60_000;
const RESTART_TEST_TIMEOUT_MS = 2 * READY_TIMEOUT_MS + 30_000;

describe('ensureTable', () => {
  let client: DynamoDBClient;

  beforeAll(() => {
    client = testClient();
  });

  afterAll(() => {
    client.destroy();
  });

  it('creates the table with the coordination keys, index and TTL when it is missing', async () => {
    // Prepare
    const tableName = `ensure-${randomUUID()}`;

    // Act
    const outcome = await ensureTable(client, tableName);

    // Assess
    expect(outcome).toBe('created');
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: GSI1_NAME,
          IndexStatus: 'ACTIVE',
          KeySchema: [
            { AttributeName: GSI1_PARTITION_KEY, KeyType: 'HASH' },
            { AttributeName: GSI1_SORT_KEY, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        [PARTITION_KEY, SORT_KEY, GSI1_PARTITION_KEY, GSI1_SORT_KEY].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    );
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    expect(TimeToLiveDescription).toEqual({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: 'ENABLED' });
  });

  it('returns exists and keeps the table when the table already exists', async () => {
    // Prepare
    const { tableName } = await createTestTable(client);
    const before = await client.send(new DescribeTableCommand({ TableName: tableName }));

    // Act
    const outcome = await ensureTable(client, tableName);

    // Assess
    expect(outcome).toBe('exists');
    const after = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(after.Table?.CreationDateTime).toEqual(before.Table?.CreationDateTime);
  });

  it('creates the table once when two calls race', async () => {
    // Prepare
    const tableName = `race-${randomUUID()}`;

    // Act
    const outcomes = await Promise.all([ensureTable(client, tableName), ensureTable(client, tableName)]);

    // Assess
    expect(outcomes.sort()).toEqual(['created', 'exists']);
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
  });
});

describe('startDynamoDbLocal', () => {
  const started: DynamoDbLocal[] = [];
  const tempDirs: string[] = [];
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map((dynamoDb) => dynamoDb.stop()));
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'convoy-ddb-'));
    tempDirs.push(dir);
    return dir;
  }

  it('round-trips an item through put and get when the server runs in memory', async () => {
    // Prepare
    const { tableName, client } = await createTestTable();
    const documents = DynamoDBDocumentClient.from(client);
    const item = {
      [PARTITION_KEY]: 'PLAN#p1',
      [SORT_KEY]: 'TASK#t1',
      title: 'Write the launcher',
      version: 1,
    };

    // Act
    await documents.send(new PutCommand({ TableName: tableName, Item: item }));
    const { Item } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: 'PLAN#p1', [SORT_KEY]: 'TASK#t1' } }),
    );

    // Assess
    expect(Item).toEqual(item);
    client.destroy();
  });

  it('shows the same tables to every region and credential when the database is shared', async () => {
    // Prepare
    const { tableName, client } = await createTestTable();
    const stranger = new DynamoDBClient({
      endpoint: testEndpoint(),
      region: 'eu-west-1',
      credentials: { accessKeyId: 'someoneelse', secretAccessKey: 'other' },
    });

    // Act
    const { TableNames } = await stranger.send(new ListTablesCommand({}));

    // Assess
    expect(TableNames).toContain(tableName);
    stranger.destroy();
    client.destroy();
  });

  it(
    'keeps items across a stop and a restart when a dataDir is given',
    async () => {
      // Prepare
      const dataDir = join(await tempDir(), 'nested', 'db');
      const first = await startDynamoDbLocal({ dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
      started.push(first);
      const tableName = 'persisted';
      const firstClient = DynamoDBDocumentClient.from(first.client());
      await ensureTable(first.client(), tableName);
      const item = { [PARTITION_KEY]: 'PLAN#p1', [SORT_KEY]: 'META', name: 'kept' };
      await firstClient.send(new PutCommand({ TableName: tableName, Item: item }));

      // Act
      await first.stop();
      const second = await startDynamoDbLocal({
        dataDir,
        port: first.port,
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
      started.push(second);
      const { Item } = await DynamoDBDocumentClient.from(second.client()).send(
        new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: 'PLAN#p1', [SORT_KEY]: 'META' } }),
      );

      // Assess
      expect(Item).toEqual(item);
      expect(await readdir(dataDir)).toEqual(['shared-local-instance.db']);
    },
    RESTART_TEST_TIMEOUT_MS,
  );

  it('rejects with a message naming the port when the port is taken', async () => {
    // Prepare
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : -1;

    // Act
    const starting = startDynamoDbLocal({ port });

    // Assess
    await expect(starting).rejects.toThrow(DynamoDbLocalError);
    await expect(starting).rejects.toThrow(`Port ${port} is already in use`);
  });

  it('rejects with install instructions when Java is not on the PATH', async () => {
    // Prepare
    const emptyDir = await tempDir();

    // Act
    const starting = startDynamoDbLocal({ env: { PATH: emptyDir } });

    // Assess
    await expect(starting).rejects.toThrow(DynamoDbLocalError);
    await expect(starting).rejects.toThrow(
      /Java 17 or later.*apt-get install default-jre-headless.*adoptium\.net/,
    );
  });
});
