/** Running `convoy dev` as a child process, for the benchmarks that load it from outside. */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** What a running `convoy dev` child writes to .convoy/dev.json. */
export interface DevInfo {
  readonly url: string;
  readonly project: string;
  readonly tokensFile: string;
  readonly dynamodbEndpoint: string;
  readonly pid: number;
  /** The data folder it holds (its pid file refuses a second convoy dev there). */
  readonly dataDir: string;
  /** Set when it runs with --start: the plan's own start and the one it runs with. */
  readonly demoStart?: { readonly project: string; readonly planStart: string; readonly start: string };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Resident memory of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function untilReady(child: ChildProcess, stateFile: string, logFile: string): Promise<DevInfo> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `convoy dev exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logFile)}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`convoy dev was not ready within 90 s:\n${tail(logFile)}`);
    if (existsSync(stateFile)) {
      const info = JSON.parse(await readFile(stateFile, 'utf8')) as DevInfo;
      const health = await fetch(`${info.url}/health`).catch(() => undefined);
      if (health?.ok) return info;
    }
    await sleep(100);
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * SIGTERM (convoy dev then stops DynamoDB Local itself and removes dev.json), SIGKILL after 15 s (the
 * JVM then ends by itself when its parent's pipe closes).
 */
export async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** POSTs a JSON body over a keep-alive agent; resolves with the status and the body as text. */
export function postJson(
  agent: Agent,
  url: URL,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * Starts `convoy dev` on `planFile` in `dir` (data in `dir/data`, output in `logFile`) with the
 * DynamoDB call recorder preloaded, and resolves once /health answers and dev.json is written; a
 * child that fails to get ready is stopped.
 */
export async function spawnConvoyDev(options: {
  readonly cli: string;
  readonly recorder: string;
  readonly dir: string;
  readonly planFile: string;
  readonly logFile: string;
  readonly recordFile: string;
  readonly nodeArgs?: readonly string[];
}): Promise<{ child: ChildProcess; exited: Promise<void>; info: DevInfo }> {
  const { dir, logFile } = options;
  const port = await freePort();
  const log = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--import',
      options.recorder,
      options.cli,
      'dev',
      '--plan',
      options.planFile,
      '--port',
      String(port),
      '--data',
      join(dir, 'data'),
    ],
    {
      cwd: dir,
      stdio: ['ignore', log, log],
      env: { ...process.env, NO_COLOR: '1', CONVOY_BENCH_RECORD: options.recordFile },
    },
  );
  closeSync(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    return { child, exited, info: await untilReady(child, join(dir, '.convoy', 'dev.json'), logFile) };
  } catch (error) {
    await stopChild(child, exited);
    throw error;
  }
}
