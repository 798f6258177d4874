import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import { DynamoDBClient, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../functions/adapters/dynamodb/table-definition.js';
import { MAX_BODY_BYTES } from '../functions/handlers/http/api.js';
import { type DevInfo, postJson, rssMb, spawnConvoyDev, stopChild, tail } from './convoy-child.js';
import { percentile } from './harness.js';

/**
 * Issue #3: 100 simulated agents sending heartbeats and transitions to `convoy dev` for 10 s, against
 * raw single-item PutItem on the same DynamoDB Local as the floor, and the resident memory of the
 * convoy process (not Java).
 */

const AGENTS = 100;
const WARM_UP_MS = 2_000;
const MEASURE_MS = 10_000;
const RSS_SAMPLE_MS = 500;
const MAX_TASKS_PER_AGENT = 40;
const PROJECT = 'bench';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The CLI that runs `convoy dev`: the bundle `npm start` runs (built here first), or another build
 * named by CONVOY_BENCH_CLI (an absolute path; bin/convoy.mjs measures the tsx-from-source path).
 */
const CLI = process.env.CONVOY_BENCH_CLI ?? resolve(ROOT, 'dist/convoy.mjs');
if (!process.env.CONVOY_BENCH_CLI)
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

/**
 * Where DynamoDB Local keeps its database. On a disk every write waits for SQLite's fsyncs, so both
 * the API and the floor would measure the disk, not Convoy; tmpfs takes the disk out of both.
 * CONVOY_BENCH_DIR chooses another parent directory (e.g. /tmp to include the disk).
 */
const BENCH_PARENT = process.env.CONVOY_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

/**
 * The node flags `npm start` runs convoy dev with (its memory settings: a small young generation and
 * a heap that grows by half, not by up to four times, after each full GC), read from package.json so
 * the bench measures what users run.
 */
const START_NODE_ARGS = (() => {
  const start = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
  ).scripts.start;
  return [...start.matchAll(/(?<=\s)--[\w-]+=\S+(?=.*dist\/convoy\.mjs)/g)].map((match) => match[0]);
})();

/** Extra node flags for the convoy dev child, e.g. CONVOY_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
const CHILD_NODE_ARGS = [
  ...START_NODE_ARGS,
  ...(process.env.CONVOY_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
];

/**
 * The targets of issue #3 (throughput and p99 against single-item PutItem, memory) and of issue #12:
 * the convoy process's CPU per API request, and the API's throughput against the very DynamoDB calls
 * it makes, replayed raw.
 */
const TARGETS = { throughputRatio: 0.5, p99Ratio: 2, rssMb: 150, cpuMs: 1.5, replayRatio: 0.8 } as const;

/**
 * Preloaded into convoy dev: records each DynamoDB call it makes (bench/record-dynamodb.mjs) while the
 * bench captures what each kind of request costs, and is taken out (SIGUSR2) before the measured load.
 */
const RECORDER = resolve(ROOT, 'bench', 'record-dynamodb.mjs');

const chainOf = (agent: number, length: number) => Array.from({ length }, (_, t) => `t${agent}-${t}`);

/** One phase, 100 agents, each owning a chain of `perAgent` tasks (each depends on the previous one). */
function benchPlan(perAgent: number) {
  return {
    version: 1,
    project: { id: PROJECT, timezone: 'UTC', start: '2026-01-05' },
    people: [{ id: 'pm' }],
    agents: Array.from({ length: AGENTS }, (_, a) => ({ id: `agent-${a}`, owner: 'pm' })),
    phases: [
      {
        id: 'load',
        tasks: Array.from({ length: AGENTS }, (_, a) =>
          chainOf(a, perAgent).map((id, t, chain) => ({
            id,
            agent: `agent-${a}`,
            estimate: '1h',
            ...(t > 0 ? { dependsOn: [chain[t - 1] as string] } : {}),
          })),
        ).flat(),
      },
    ],
  };
}

/** The longest chains (at most 40 a agent) whose plan still fits in one `PUT /v1/plans` body. */
function largestPlan(): { plan: ReturnType<typeof benchPlan>; perAgent: number; bytes: number } {
  for (let perAgent = MAX_TASKS_PER_AGENT; perAgent > 0; perAgent--) {
    const plan = benchPlan(perAgent);
    const bytes = Buffer.byteLength(JSON.stringify(plan));
    if (bytes <= MAX_BODY_BYTES) return { plan, perAgent, bytes };
  }
  throw new Error('not even one task per agent fits in a request body');
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of a process in ms, from /proc (Linux; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    // The command name in parentheses may contain spaces; the fields after it are fixed.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The Java child (DynamoDB Local) of a process, found by parent pid. */
function javaChildOf(parent: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, comm = '', rest = ''] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? [];
      if (comm === 'java' && Number(rest.split(' ')[1]) === parent) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** CPU used by convoy dev (node), DynamoDB Local (Java) and this process, in ms. */
interface CpuSnapshot {
  readonly convoy: number;
  readonly java: number;
  readonly bench: number;
}

function cpuProbe(convoyPid: number, javaPid: number | undefined): () => CpuSnapshot {
  return () => {
    const own = process.cpuUsage();
    return {
      convoy: cpuMs(convoyPid),
      java: javaPid === undefined ? Number.NaN : cpuMs(javaPid),
      bench: (own.user + own.system) / 1000,
    };
  };
}

interface Sample {
  readonly kind: string;
  readonly end: number;
  readonly ms: number;
  readonly ok: boolean;
}

interface LoadResult {
  /** CPU spent in the measured window, per successful request (ms). */
  readonly cpuPerRequest: CpuSnapshot;
  readonly requests: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Latency by kind of request (for the API: heartbeat, start/review transition, transition to done). */
  readonly byKind: ReadonlyMap<string, { count: number; p50: number; p99: number }>;
}

/**
 * The measured window (after the warm-up): throughput counts the requests that finished in it, latency
 * those that started in it, so the first request of each agent (token lookup, cold connections, all
 * 100 at once) stays in the warm-up even when it ends after it.
 */
function summarise(
  samples: readonly Sample[],
  from: number,
  to: number,
  cpu: readonly [CpuSnapshot, CpuSnapshot],
): LoadResult {
  const finished = samples.filter((sample) => sample.end >= from && sample.end < to);
  const failed = finished.filter((sample) => !sample.ok).length;
  const started = samples.filter((sample) => sample.end - sample.ms >= from && sample.end - sample.ms < to);
  const sortedTimes = (list: readonly Sample[]) => list.map((sample) => sample.ms).sort((x, y) => x - y);
  const sorted = sortedTimes(started);
  const [before, after] = cpu;
  const per = (key: keyof CpuSnapshot) => (after[key] - before[key]) / (finished.length - failed);
  const byKind = new Map<string, { count: number; p50: number; p99: number }>();
  for (const kind of [...new Set(started.map((sample) => sample.kind))].sort()) {
    const times = sortedTimes(started.filter((sample) => sample.kind === kind));
    byKind.set(kind, { count: times.length, p50: percentile(times, 0.5), p99: percentile(times, 0.99) });
  }
  return {
    byKind,
    cpuPerRequest: { convoy: per('convoy'), java: per('java'), bench: per('bench') },
    requests: finished.length,
    failed,
    perSecond: (finished.length - failed) / ((to - from) / 1000),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * Runs `loops` concurrent loops for warm-up + measured window and summarises the window. Each loop
 * gets the deadline and a `timed` wrapper recording one sample per call.
 */
async function load(
  loops: number,
  probe: () => CpuSnapshot,
  body: (
    index: number,
    deadline: number,
    timed: (kind: string, call: () => Promise<boolean>) => Promise<boolean>,
  ) => Promise<void>,
): Promise<LoadResult> {
  const samples: Sample[] = [];
  const timed = async (kind: string, call: () => Promise<boolean>) => {
    const start = performance.now();
    let ok = false;
    try {
      ok = await call();
    } finally {
      const end = performance.now();
      samples.push({ kind, end, ms: end - start, ok });
    }
    return ok;
  };
  const start = performance.now();
  const deadline = start + WARM_UP_MS + MEASURE_MS;
  const cpu: CpuSnapshot[] = [];
  const windowStart = setTimeout(() => cpu.push(probe()), WARM_UP_MS);
  const windowEnd = setTimeout(() => cpu.push(probe()), WARM_UP_MS + MEASURE_MS);
  try {
    await Promise.all(Array.from({ length: loops }, (_, index) => body(index, deadline, timed)));
  } finally {
    clearTimeout(windowStart);
    clearTimeout(windowEnd);
  }
  // The loops can end a moment before the last timer fires.
  while (cpu.length < 2) cpu.push(probe());
  return summarise(samples, start + WARM_UP_MS, deadline, cpu as [CpuSnapshot, CpuSnapshot]);
}

/** A keep-alive HTTP/1.1 JSON client (one socket per concurrent loop). */
function apiClient(baseUrl: string) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: AGENTS });
  const errors = new Map<string, number>();
  let firstError: string | undefined;
  function post(path: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
    return postJson(agent, url, path, { authorization: `Bearer ${token}` }, JSON.stringify(body));
  }
  return {
    errors,
    get firstError() {
      return firstError;
    },
    /** True on 2xx; anything else is counted by kind and status, and the first one kept for the report. */
    async call(kind: string, path: string, token: string, body: unknown): Promise<boolean> {
      let outcome: string;
      try {
        const { status, text } = await post(path, token, body);
        if (status >= 200 && status < 300) return true;
        outcome = `${kind} ${status}`;
        firstError ??= `${kind} ${path} ${JSON.stringify(body)} → ${status} ${text.slice(0, 300)}`;
      } catch (error) {
        outcome = `${kind} ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
        firstError ??= `${kind} ${path} → ${(error as Error).message}`;
      }
      errors.set(outcome, (errors.get(outcome) ?? 0) + 1);
      return false;
    },
    close: () => agent.destroy(),
  };
}

const STEPS = ['in_progress', 'in_review', 'done'] as const;

/** Starts `convoy dev` as `npm start` runs it (plus CONVOY_BENCH_NODE_ARGS), recording its DynamoDB calls. */
const startConvoyDev = (dir: string, planFile: string, logFile: string, recordFile: string) =>
  spawnConvoyDev({
    cli: CLI,
    recorder: RECORDER,
    nodeArgs: CHILD_NODE_ARGS,
    dir,
    planFile,
    logFile,
    recordFile,
  });

/** The API load: each agent alternates a heartbeat and one step of its current task. */
async function apiLoad(
  alive: () => boolean,
  info: DevInfo,
  tokens: { agents: Record<string, string> },
  perAgent: number,
  probe: () => CpuSnapshot,
  progress: { task: number; step: number }[],
) {
  const client = apiClient(info.url);
  const rss: number[] = [];
  const sampler = setInterval(() => {
    const mb = rssMb(info.pid);
    if (mb !== undefined) rss.push(mb);
  }, RSS_SAMPLE_MS);
  let result: LoadResult;
  try {
    result = await load(AGENTS, probe, async (a, deadline, timed) => {
      const agent = `agent-${a}`;
      const token = tokens.agents[agent];
      if (!token) throw new Error(`tokens.json has no token for ${agent}`);
      const chain = chainOf(a, perAgent);
      const state = progress[a] as { task: number; step: number };
      while (performance.now() < deadline && alive()) {
        const task = chain[state.task];
        const heartbeat = task ? { task, completion: Math.round((state.step * 100) / 3), risk: 'green' } : {};
        await timed('heartbeat', () =>
          client.call('heartbeat', `/v1/plans/${PROJECT}/agents/${agent}/heartbeat`, token, heartbeat),
        );
        if (!task || performance.now() >= deadline) continue;
        const to = STEPS[state.step] as string;
        const moved = await timed(to === 'done' ? 'transition to done' : 'transition (start, review)', () =>
          client.call('transition', `/v1/plans/${PROJECT}/tasks/${task}/transitions`, token, { to }),
        );
        if (moved && ++state.step === STEPS.length) {
          state.step = 0;
          state.task++;
        }
      }
    });
  } finally {
    clearInterval(sampler);
    client.close();
  }
  const end = rssMb(info.pid);
  if (end !== undefined) rss.push(end);
  const expected = { done: 0, in_progress: 0, in_review: 0 };
  for (const { task, step } of progress) {
    expected.done += task;
    if (step === 1) expected.in_progress++;
    if (step === 2) expected.in_review++;
  }
  const exhausted = progress.filter((p) => p.task >= perAgent).length;
  return { result, errors: client.errors, firstError: client.firstError, rss, expected, exhausted };
}

/** The floor: single-item PutItem of task-sized items, straight to the same DynamoDB Local. */
/** The attributes of a task item (see coordination-store.ts commit()). */
function taskItem(key: string, a: number, seq: number, at: string) {
  return {
    pk: { S: `PROJECT#${PROJECT}` },
    sk: { S: `TASK#${key}` },
    id: { S: key },
    status: { S: STEPS[seq % 3] as string },
    blocked: { BOOL: false },
    updatedAt: { S: at },
    updatedBy: { S: `agent:agent-${a}` },
    version: { N: String((seq % 3) + 1) },
  };
}

/**
 * One raw DynamoDB write per loop iteration, from 100 loops, on a client configured as the handlers'
 * is (functions/handlers/dependencies.ts: SDK defaults).
 */
async function rawLoad(
  endpoint: string,
  probe: () => CpuSnapshot,
  kind: string,
  command: (table: string, a: number, seq: number, at: string) => PutItemCommand | TransactWriteItemsCommand,
): Promise<LoadResult> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'benchlocal', secretAccessKey: 'benchlocal' },
  });
  const table = 'convoy-bench-floor';
  try {
    await ensureTable(client, table);
    return await load(AGENTS, probe, async (a, deadline, timed) => {
      for (let seq = 0; performance.now() < deadline; seq++) {
        const at = new Date().toISOString();
        await timed(kind, async () => {
          try {
            // One client, whatever the command: send's overloads are per command type.
            await client.send(command(table, a, seq, at) as PutItemCommand);
            return true;
          } catch {
            return false;
          }
        });
      }
    });
  } finally {
    client.destroy();
  }
}

/** The floor: a single PutItem of a task item. */
const rawPutLoad = (endpoint: string, probe: () => CpuSnapshot, round: string) =>
  rawLoad(
    endpoint,
    probe,
    'PutItem',
    (table, a, seq, at) =>
      new PutItemCommand({ TableName: table, Item: taskItem(`${round}-t${a}-${seq}`, a, seq, at) }),
  );

/**
 * What one task transition has to write, measured raw: the task and its audit event in one
 * TransactWriteItems, as coordination-store.ts commit() does. It shows what DynamoDB Local charges for
 * the atomicity the API promises, next to the single PutItem of the floor.
 */
const rawTransactLoad = (endpoint: string, probe: () => CpuSnapshot) =>
  rawLoad(
    endpoint,
    probe,
    'TransactWriteItems',
    (table, a, seq, at) =>
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: table, Item: taskItem(`tx-t${a}-${seq}`, a, seq, at) } },
          {
            Put: {
              TableName: table,
              Item: {
                pk: { S: `PROJECT#${PROJECT}#EVENTS` },
                sk: { S: `${at}#tx-${a}-${seq}` },
                type: { S: 'task.transitioned' },
                at: { S: at },
              },
            },
          },
        ],
      }),
  );

/** One DynamoDB call as convoy dev sent it (bench/record-dynamodb.mjs). */
interface RecordedCall {
  readonly started: number;
  readonly operation: string;
  readonly body: string;
}

/** The DynamoDB calls convoy dev made for one API request. */
interface CapturedRequest {
  readonly kind: string;
  readonly calls: readonly RecordedCall[];
}

const kindOf = (to: string) => (to === 'done' ? 'transition to done' : 'transition (start, review)');

async function readRecords(file: string): Promise<{ calls: RecordedCall[]; stopped: boolean }> {
  const lines = existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter(Boolean) : [];
  const parsed = lines.map((text) => JSON.parse(text) as Partial<RecordedCall> & { stopped?: number });
  return {
    calls: parsed.filter((entry): entry is RecordedCall => typeof entry.operation === 'string'),
    stopped: parsed.some((entry) => entry.stopped !== undefined),
  };
}

/**
 * Each agent in turn, one request at a time: a heartbeat (its first request, whose token lookup is not
 * captured), then one whole task (heartbeat, start, heartbeat, review, heartbeat, done) with the DynamoDB
 * calls of each request captured. Then the recorder is taken out, and the load starts every agent at
 * its second task.
 */
async function capture(
  info: DevInfo,
  tokens: { agents: Record<string, string> },
  perAgent: number,
  recordFile: string,
  child: ChildProcess,
): Promise<{ cycles: CapturedRequest[][]; progress: { task: number; step: number }[] }> {
  const client = apiClient(info.url);
  const windows: { agent: number; kind: string; from: number; to: number }[] = [];
  const call = async (agent: number, kind: string, path: string, token: string, body: unknown) => {
    const from = Date.now();
    if (!(await client.call(kind, path, token, body)))
      throw new Error(`capturing the API's DynamoDB calls: ${client.firstError}`);
    windows.push({ agent, kind, from, to: Date.now() });
  };
  try {
    for (let a = 0; a < AGENTS; a++) {
      const agent = `agent-${a}`;
      const token = tokens.agents[agent] as string;
      const task = chainOf(a, perAgent)[0] as string;
      const heartbeat = `/v1/plans/${PROJECT}/agents/${agent}/heartbeat`;
      await call(-1, 'first heartbeat', heartbeat, token, {});
      for (const [step, to] of STEPS.entries()) {
        await call(a, 'heartbeat', heartbeat, token, {
          task,
          completion: Math.round((step * 100) / 3),
          risk: 'green',
        });
        await call(a, kindOf(to), `/v1/plans/${PROJECT}/tasks/${task}/transitions`, token, { to });
      }
    }
  } finally {
    client.close();
  }
  child.kill('SIGUSR2');
  let records = await readRecords(recordFile);
  for (let waited = 0; !records.stopped; waited += 50) {
    if (waited > 10_000) throw new Error('convoy dev did not stop recording its DynamoDB calls');
    await new Promise((done) => setTimeout(done, 50));
    records = await readRecords(recordFile);
  }
  // Each call belongs to the request in flight when it started; calls outside every request (convoy
  // dev's own background work) belong to none.
  const byRequest = windows.map(() => [] as RecordedCall[]);
  for (const recorded of records.calls) {
    let index = -1;
    for (let w = 0; w < windows.length && (windows[w] as { from: number }).from <= recorded.started; w++)
      index = w;
    if (index >= 0 && recorded.started <= (windows[index] as { to: number }).to)
      byRequest[index]?.push(recorded);
  }
  const cycles = Array.from({ length: AGENTS }, () => [] as CapturedRequest[]);
  windows.forEach((window, index) => {
    if (window.agent >= 0)
      cycles[window.agent]?.push({ kind: window.kind, calls: byRequest[index] as RecordedCall[] });
  });
  return { cycles, progress: Array.from({ length: AGENTS }, () => ({ task: 1, step: 0 })) };
}

const EXPRESSIONS = [
  'UpdateExpression',
  'ProjectionExpression',
  'KeyConditionExpression',
  'FilterExpression',
];

/**
 * The call without its condition: replayed again and again, a condition that held once (a version, an
 * item not there yet) would fail and skip the write, making the raw side cheaper than the API's. The
 * reads and writes stay as sent; names and values only the condition used go with it, as DynamoDB
 * refuses unused ones.
 */
function unconditional(request: Record<string, unknown>): void {
  delete request.ConditionExpression;
  delete request.ReturnValuesOnConditionCheckFailure;
  const used = EXPRESSIONS.map((key) => request[key] ?? '').join(' ');
  for (const key of ['ExpressionAttributeNames', 'ExpressionAttributeValues']) {
    const map = request[key] as Record<string, unknown> | undefined;
    if (!map) continue;
    for (const name of Object.keys(map)) {
      const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (!new RegExp(`${escaped}(?![A-Za-z0-9_])`).test(used)) delete map[name];
    }
    if (Object.keys(map).length === 0) delete request[key];
  }
}

/** A recorded call as the input of the SDK's own command for it, unconditional. */
function replayable(call: RecordedCall): { command: new (input: never) => PutItemCommand; input: never } {
  const input = JSON.parse(call.body) as Record<string, unknown>;
  delete input.ClientRequestToken;
  if (call.operation === 'TransactWriteItems') {
    const items = (input.TransactItems as Record<string, Record<string, unknown>>[]).filter(
      (item) => !('ConditionCheck' in item),
    );
    for (const item of items) for (const request of Object.values(item)) unconditional(request);
    input.TransactItems = items;
  } else {
    unconditional(input);
  }
  const command = (dynamodb as unknown as Record<string, unknown>)[`${call.operation}Command`];
  if (typeof command !== 'function') throw new Error(`no SDK command for DynamoDB ${call.operation}`);
  return { command: command as new (input: never) => PutItemCommand, input: input as never };
}

/**
 * The very DynamoDB calls the API made, replayed raw at the same concurrency: loop `a` repeats agent
 * `a`'s captured task (the calls of each request one after another, as one replayed request), on a
 * client configured as the handlers' is. The API's throughput over this one is what Convoy costs on top
 * of its own DynamoDB calls.
 */
async function replayLoad(
  endpoint: string,
  probe: () => CpuSnapshot,
  cycles: readonly CapturedRequest[][],
): Promise<LoadResult & { firstError?: string }> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'benchlocal', secretAccessKey: 'benchlocal' },
  });
  const prepared = cycles.map((cycle) =>
    cycle.map((request) => ({ kind: request.kind, calls: request.calls.map(replayable) })),
  );
  let firstError: string | undefined;
  try {
    const result = await load(AGENTS, probe, async (a, deadline, timed) => {
      const cycle = prepared[a] ?? [];
      for (let i = 0; cycle.length > 0 && performance.now() < deadline; i++) {
        const request = cycle[i % cycle.length] as (typeof cycle)[number];
        await timed(request.kind, async () => {
          try {
            for (const { command: Command, input } of request.calls) await client.send(new Command(input));
            return true;
          } catch (error) {
            firstError ??= `${request.kind}: ${(error as Error).message}`;
            return false;
          }
        });
      }
    });
    return { ...result, ...(firstError ? { firstError } : {}) };
  } finally {
    client.destroy();
  }
}

/** Status counts the server holds for the one phase, to check the loops' own bookkeeping. */
async function serverCounts(info: DevInfo, admin: string) {
  const response = await fetch(`${info.url}/v1/plans/${PROJECT}/status`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  if (!response.ok) throw new Error(`status → ${response.status} ${await response.text()}`);
  const status = (await response.json()) as { phases: { tasks: Record<string, number> }[] };
  return status.phases[0]?.tasks ?? {};
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const line = (name: string, text: string, verdict = '') =>
  console.log(`  ${name.padEnd(44)} ${text}${verdict}`);
const check = (ok: boolean, target: string) => `  ${ok ? '✓' : '✗'} target ${target}`;

export async function run(): Promise<boolean> {
  const dir = await mkdtemp(join(BENCH_PARENT, 'convoy-bench-'));
  const planFile = join(dir, 'plan.json');
  const logFile = join(dir, 'convoy-dev.log');
  const recordFile = join(dir, 'dynamodb-calls.jsonl');
  const { plan, perAgent, bytes } = largestPlan();
  await writeFile(planFile, JSON.stringify(plan));
  let dev: Awaited<ReturnType<typeof startConvoyDev>> | undefined;
  try {
    await promisify(execFile)(process.execPath, [CLI, 'validate', planFile]).catch(
      (error: { stderr?: string }) => {
        throw new Error(`the benchmark plan is invalid:\n${error.stderr ?? error}`);
      },
    );
    console.log(
      `\nplan: 1 phase, ${AGENTS} agents, ${perAgent} chained tasks each (${(AGENTS * perAgent).toLocaleString('en-US')} tasks), ` +
        `${(bytes / 1024).toFixed(0)} KB as JSON (PUT limit ${MAX_BODY_BYTES / 1024} KB); ` +
        `data in ${BENCH_PARENT}; ${availableParallelism()} CPUs, load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}; convoy dev runs as npm start does: node ${CHILD_NODE_ARGS.join(' ')}`,
    );
    dev = await startConvoyDev(dir, planFile, logFile, recordFile);
    const { info, child } = dev;
    if (info.pid !== child.pid)
      throw new Error(`dev.json names pid ${info.pid}, but the child is ${child.pid}`);
    const tokens = JSON.parse(await readFile(info.tokensFile, 'utf8')) as {
      admin: string;
      agents: Record<string, string>;
    };
    const idleRss = rssMb(info.pid) ?? Number.NaN;
    const javaPid = javaChildOf(info.pid);
    const probe = cpuProbe(info.pid, javaPid);
    const captured = await capture(info, tokens, perAgent, recordFile, child);

    // The floor is measured before and after the API load, while convoy dev is idle, against the very
    // same DynamoDB Local, and the better of the two counts. The JVM is still compiling during whatever
    // runs first, so a single floor would favour whichever of the two loads ran second (by up to 2x in
    // the ratio); the first run warms the JVM for the API load, the second is the floor on a warm JVM.
    const rawBefore = await rawPutLoad(info.dynamodbEndpoint, probe, 'before');
    const alive = () => child.exitCode === null && child.signalCode === null;
    const api = await apiLoad(alive, info, tokens, perAgent, probe, captured.progress);
    if (!alive()) throw new Error(`convoy dev exited during the load:\n${tail(logFile)}`);
    const held = await serverCounts(info, tokens.admin);
    const rawAfter = await rawPutLoad(info.dynamodbEndpoint, probe, 'after');
    const raw = rawAfter.perSecond >= rawBefore.perSecond ? rawAfter : rawBefore;
    const transact = await rawTransactLoad(info.dynamodbEndpoint, probe);
    const replay = await replayLoad(info.dynamodbEndpoint, probe, captured.cycles);

    const a = api.result;
    const throughputRatio = a.perSecond / raw.perSecond;
    const replayRatio = a.perSecond / replay.perSecond;
    const p99Ratio = a.p99 / raw.p99;
    const peak = Math.max(...api.rss);
    const end = api.rss.at(-1) ?? Number.NaN;
    const javaRss = javaPid === undefined ? undefined : rssMb(javaPid);
    const consistent =
      held.done === api.expected.done &&
      held.in_progress === api.expected.in_progress &&
      held.in_review === api.expected.in_review;

    console.log(
      `\nAPI load vs raw PutItem (${AGENTS} concurrent loops, ${WARM_UP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s measured, same DynamoDB Local)`,
    );
    line(
      'API heartbeats + transitions',
      `${a.perSecond.toFixed(0).padStart(6)} req/s   p50 ${ms(a.p50)}, p99 ${ms(a.p99)}, max ${ms(a.max)} (${a.requests.toLocaleString('en-US')} requests, ${a.failed} non-2xx)`,
    );
    for (const [when, run] of [
      ['before', rawBefore],
      ['after', rawAfter],
    ] as const) {
      line(
        `raw PutItem (single item), ${when} the API`,
        `${run.perSecond.toFixed(0).padStart(6)} req/s   p50 ${ms(run.p50)}, p99 ${ms(run.p99)}, max ${ms(run.max)} (${run.requests.toLocaleString('en-US')} requests, ${run.failed} failed)${run === raw ? '  ← floor' : ''}`,
      );
    }
    line(
      'raw TransactWriteItems (task + audit event)',
      `${transact.perSecond.toFixed(0).padStart(6)} req/s   p50 ${ms(transact.p50)}, p99 ${ms(transact.p99)} — ${(raw.perSecond / transact.perSecond).toFixed(1)}× the cost of a PutItem on this DynamoDB Local`,
    );
    line(
      "replay of the API's own DynamoDB calls",
      `${replay.perSecond.toFixed(0).padStart(6)} req/s   p50 ${ms(replay.p50)}, p99 ${ms(replay.p99)} (${replay.requests.toLocaleString('en-US')} replayed requests, ${replay.failed} failed${replay.firstError ? `; first: ${replay.firstError}` : ''})`,
    );
    const example = captured.cycles[0] ?? [];
    for (const kind of [...new Set(example.map((request) => request.kind))]) {
      const calls = example.filter((request) => request.kind === kind).map((request) => request.calls);
      line(
        `  DynamoDB calls per ${kind}`,
        calls.map((list) => list.map((call) => call.operation).join(' + ') || 'none').join('; '),
      );
    }
    for (const [kind, stats] of a.byKind) {
      line(
        `  ${kind}`,
        `${stats.count.toLocaleString('en-US').padStart(6)} requests p50 ${ms(stats.p50)}, p99 ${ms(stats.p99)}`,
      );
    }
    const cpu = (c: CpuSnapshot, convoy: boolean) =>
      `${convoy ? `convoy ${c.convoy.toFixed(2)} + ` : ''}Java ${c.java.toFixed(2)} + load generator ${c.bench.toFixed(2)} ms`;
    const cpuOk = a.cpuPerRequest.convoy <= TARGETS.cpuMs;
    line('CPU per API request', cpu(a.cpuPerRequest, true));
    line(
      'convoy process CPU per API request',
      `${a.cpuPerRequest.convoy.toFixed(2).padStart(6)} ms (user + system, /proc/<pid>/stat over the measured window)`,
      check(cpuOk, `≤ ${TARGETS.cpuMs} ms`),
    );
    line('CPU per raw PutItem (floor)', cpu(raw.cpuPerRequest, false));
    line('CPU per raw TransactWriteItems', cpu(transact.cpuPerRequest, false));
    line('CPU per replayed request', cpu(replay.cpuPerRequest, false));
    // What the SDK alone costs to make a request's DynamoDB calls (the load generator replaying them)
    // is part of the convoy process's figure: the rest is Convoy's own work on top of its calls.
    line(
      'convoy CPU per request above its calls made raw',
      `${(a.cpuPerRequest.convoy - replay.cpuPerRequest.bench).toFixed(2).padStart(6)} ms (convoy process − the load generator's CPU per replayed request, i.e. the AWS SDK making the same calls)`,
    );
    const throughputOk = throughputRatio >= TARGETS.throughputRatio;
    const p99Ok = p99Ratio <= TARGETS.p99Ratio;
    const rssOk = peak < TARGETS.rssMb;
    const errorsOk = a.failed === 0 && api.errors.size === 0;
    line(
      'throughput API / raw',
      `${throughputRatio.toFixed(2).padStart(6)}`,
      check(throughputOk, `≥ ${TARGETS.throughputRatio}`),
    );
    const replayOk = replayRatio >= TARGETS.replayRatio && replay.failed === 0;
    line(
      'throughput API / its DynamoDB calls replayed',
      `${replayRatio.toFixed(2).padStart(6)}`,
      check(replayOk, `≥ ${TARGETS.replayRatio} (and 0 failed replays)`),
    );
    line('p99 API / raw', `${p99Ratio.toFixed(2).padStart(6)}`, check(p99Ok, `≤ ${TARGETS.p99Ratio}`));
    line(
      'convoy dev RSS (node, not Java)',
      `peak ${peak.toFixed(0)} MB, end ${end.toFixed(0)} MB (idle before load ${idleRss.toFixed(0)} MB, ${api.rss.length} samples; Java, not counted: ${javaRss?.toFixed(0) ?? '?'} MB)`,
      check(rssOk, `< ${TARGETS.rssMb} MB`),
    );
    line(
      'non-2xx API responses',
      `${[...api.errors].map(([what, count]) => `${count} × ${what}`).join(', ') || '0'}`,
      check(errorsOk, '0'),
    );
    if (api.firstError) console.log(`    first: ${api.firstError}`);
    line(
      'server state = what the agents did',
      `done ${held.done ?? 0}, in_review ${held.in_review ?? 0}, in_progress ${held.in_progress ?? 0}` +
        `${api.exhausted > 0 ? `; ${api.exhausted} agents finished their chain (heartbeats only after that)` : ''}`,
      check(
        consistent,
        `= done ${api.expected.done}, in_review ${api.expected.in_review}, in_progress ${api.expected.in_progress}`,
      ),
    );
    return throughputOk && p99Ok && rssOk && errorsOk && consistent && cpuOk && replayOk;
  } finally {
    if (dev) await stopChild(dev.child, dev.exited);
    await rm(dir, { recursive: true, force: true });
  }
}
