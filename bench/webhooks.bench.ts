import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sign } from '@octokit/webhooks-methods';
import {
  DEFAULT_WORKFLOW,
  type JiraTestServer,
  type RecordedRequest,
  startJiraServer,
} from '../test/support/jira-server.js';
import { type DevInfo, freePort, postJson, rssMb, stopChild, tail, untilReady } from './convoy-child.js';
import { percentile } from './harness.js';

/**
 * Issue #4: GitHub webhooks through `convoy dev`, with JIRA played by the spec-validating local
 * server of the tests (in this process, so its request log and clock are the bench's own).
 *
 * 1. Ingest: signed pull_request deliveries (GitHub's own example payload, ~24 KB) from concurrent
 *    senders: acknowledgements per second, their latency, and whether every accepted delivery was
 *    processed afterwards (each leaves exactly one audit event).
 * 2. Merged PR → JIRA: the time from sending a merged PR to the JIRA server receiving the
 *    transition to Done, with a limit high enough not to throttle (target p99 < 5 s; seed 000
 *    allowed an hour).
 * 3. Drain under the default limit (100 requests/min): more JIRA work than a minute allows; no 60 s
 *    window of the JIRA server's arrival times may hold more than the limit.
 *
 * Phases 1 and 2 share one `convoy dev` (2 before 1, so ingest's backlog cannot delay it); phase 3
 * gets its own, with its own data and JIRA, at the default limit. The CONVOY_BENCH_* settings below
 * shorten a run; CONVOY_BENCH_KEEP=1 keeps each temp dir (convoy dev's log, the JIRA request log).
 */

const PROJECT = 'hooks';
const REPO = 'octo-org/convoy';
const JIRA_PROJECT = 'PAY';
const SECRET = 'bench-webhook-secret';
/** Convoy's default JIRA rate limit (functions/handlers/config.ts), requests per minute. */
const DEFAULT_LIMIT = 100;
/** The rate limiter's largest capacity (functions/adapters/dynamodb/rate-limiter.ts). */
const MAX_LIMIT = 1_000;
const WINDOW_MS = 60_000;
const RSS_SAMPLE_MS = 500;

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, got "${raw}"`);
  return value;
}

/** Every duration and count can be shortened for a quick run, e.g. CONVOY_BENCH_DRAIN_OBSERVE_MS=15000. */
const SETTINGS = {
  senders: setting('CONVOY_BENCH_SENDERS', 20),
  warmUpMs: setting('CONVOY_BENCH_WARM_UP_MS', 2_000),
  ingestMs: setting('CONVOY_BENCH_INGEST_MS', 10_000),
  /** Plan tasks (and JIRA issues) the ingest PRs name, besides those of the latency phase. */
  ingestKeys: setting('CONVOY_BENCH_INGEST_KEYS', 250),
  /** How long to wait for convoy dev to process every accepted delivery after the ingest. */
  processTimeoutMs: setting('CONVOY_BENCH_PROCESS_TIMEOUT_MS', 60_000),
  /** JIRA requests counted after the ingest, to see the drain at the high limit with a backlog. */
  backlogObserveMs: setting('CONVOY_BENCH_BACKLOG_OBSERVE_MS', 10_000),
  merges: setting('CONVOY_BENCH_MERGES', 50),
  mergeEveryMs: setting('CONVOY_BENCH_MERGE_EVERY_MS', 100),
  /** CONVOY_JIRA_REQUESTS_PER_MINUTE of phases 1 and 2: "not rate-limited". */
  fastLimit: setting('CONVOY_BENCH_FAST_LIMIT', MAX_LIMIT),
  drainPrs: setting('CONVOY_BENCH_DRAIN_PRS', 150),
  /** From the first JIRA request of phase 3; over 60 s so the window crosses the bucket's refill. */
  drainObserveMs: setting('CONVOY_BENCH_DRAIN_OBSERVE_MS', 70_000),
};

const TARGETS = { latencyP99Ms: 5_000 } as const;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * As in api-load.bench.ts: the bundle `npm start` runs (built by run() first), or another build
 * named by CONVOY_BENCH_CLI (an absolute path; bin/convoy.mjs measures the tsx-from-source path).
 */
const CLI = process.env.CONVOY_BENCH_CLI ?? resolve(ROOT, 'dist/convoy.mjs');
/** As in api-load.bench.ts: tmpfs keeps the disk's fsyncs out of the numbers. */
const BENCH_PARENT = process.env.CONVOY_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const CHILD_NODE_ARGS = (process.env.CONVOY_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/** Transition ids of the local JIRA's workflow that lead to Done, In Progress, In Review. */
const transitionsTo = (status: string) =>
  new Set(DEFAULT_WORKFLOW.transitions.filter((t) => t.to === status).map((t) => t.id));
const TO_DONE = transitionsTo('Done');
/** The order the JIRA transitions of one issue must arrive in: start, review, done. */
const FORWARD = ['In Progress', 'In Review', 'Done'].map((status) => [...transitionsTo(status)]);

type Json = Record<string, unknown>;
const keyOf = (n: number) => `${JIRA_PROJECT}-${n}`;
const taskOf = (n: number) => `task-${n}`;
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/* ---------------------------------------------------------------------------------------------- */
/* The plan and the payloads                                                                       */
/* ---------------------------------------------------------------------------------------------- */

/** One phase of `issues` tasks, task-n linked to PAY-n, one agent; JIRA and GitHub integrations on. */
function benchPlan(site: string, issues: number) {
  return {
    version: 1,
    project: { id: PROJECT, timezone: 'UTC', start: '2026-01-05' },
    people: [{ id: 'pm' }],
    agents: [{ id: 'dev', owner: 'pm' }],
    phases: [
      {
        id: 'build',
        tasks: range(1, issues).map((n) => ({
          id: taskOf(n),
          agent: 'dev',
          estimate: '1h',
          jira: keyOf(n),
        })),
      },
    ],
    integrations: { jira: { site, projects: [JIRA_PROJECT] }, github: { repos: [REPO] } },
  };
}

/** GitHub's example `pull_request` delivery (action closed), the shape and size of a real one. */
const TEMPLATE: Json = (() => {
  const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
    name: string;
    examples: Json[];
  }[];
  const closed = examples
    .find((group) => group.name === 'pull_request')
    ?.examples.find((example) => example.action === 'closed');
  if (!closed) throw new Error('@octokit/webhooks-examples has no closed pull_request example');
  return closed;
})();

type Action = 'opened' | 'edited' | 'merged';

/** A pull_request delivery of `repo` whose title names `key`. */
function prPayload(action: Action, number: number, key: string): Json {
  const payload = structuredClone(TEMPLATE);
  const pr = payload.pull_request as Json;
  const merged = action === 'merged';
  Object.assign(pr, {
    number,
    title: `${key}: bench change #${number}`,
    body: 'Made by the webhook benchmark.',
    html_url: `https://github.com/${REPO}/pull/${number}`,
    state: merged ? 'closed' : 'open',
    draft: false,
    merged,
    merged_at: merged ? new Date().toISOString() : null,
    closed_at: merged ? new Date().toISOString() : null,
  });
  (pr.head as Json).ref = `bench/change-${number}`;
  Object.assign(payload.repository as Json, { full_name: REPO, name: 'convoy' });
  payload.action = merged ? 'closed' : action;
  payload.number = number;
  if (action === 'edited') payload.changes = { title: { from: `bench change #${number}` } };
  return payload;
}

interface Signed {
  readonly action: Action;
  readonly key: string;
  readonly body: string;
  readonly signature: string;
}

async function signed(action: Action, number: number, key: string): Promise<Signed> {
  const body = JSON.stringify(prPayload(action, number, key));
  return { action, key, body, signature: await sign(SECRET, body) };
}

/* ---------------------------------------------------------------------------------------------- */
/* convoy dev as a child process (as in api-load.bench.ts)                                         */
/* ---------------------------------------------------------------------------------------------- */

interface Dev {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly info: DevInfo;
  readonly admin: string;
  readonly logFile: string;
  alive(): boolean;
}

/** The child's environment: ours, without any CONVOY_ setting of the shell that would change the run. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('CONVOY_') && value !== undefined) env[name] = value;
  return { ...env, ...extra };
}

async function startConvoyDev(dir: string, plan: unknown, env: Record<string, string>): Promise<Dev> {
  const planFile = join(dir, 'plan.json');
  const logFile = join(dir, 'convoy-dev.log');
  await writeFile(planFile, JSON.stringify(plan));
  const port = await freePort();
  const log = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [...CHILD_NODE_ARGS, CLI, 'dev', '--plan', planFile, '--port', String(port), '--data', join(dir, 'data')],
    { cwd: dir, stdio: ['ignore', log, log], env: childEnv(env) },
  );
  closeSync(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    const info = await untilReady(child, join(dir, '.convoy', 'dev.json'), logFile);
    if (info.pid !== child.pid)
      throw new Error(`dev.json names pid ${info.pid}, but the child is ${child.pid}`);
    const tokens = JSON.parse(await readFile(info.tokensFile, 'utf8')) as { admin: string };
    return { child, exited, info, admin: tokens.admin, logFile, alive };
  } catch (error) {
    await stopChild(child, exited);
    throw error;
  }
}

/** Lines of convoy dev's output that say something failed (request lines and start-up notes aside). */
function logProblems(file: string): string[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => !/^\d{4}-\d\d-\d\dT\S+ (GET|POST|PUT|DELETE) \S+ \d{3} /.test(l))
    .filter((l) => /fail|error|gave up|jira worker|exception/i.test(l));
}

/** Server-side times (ms, sorted) of POST /webhooks/github that convoy dev logged as finished in [from, to). */
function serverTimes(file: string, from: number, to: number): number[] {
  const times: number[] = [];
  for (const match of readFileSync(file, 'utf8').matchAll(
    /^(\S+) POST \/webhooks\/github \d{3} ([\d.]+)ms$/gm,
  )) {
    const at = Date.parse(match[1] as string);
    if (at >= from && at < to) times.push(Number(match[2]));
  }
  return times.sort((a, b) => a - b);
}

/** User + system CPU time of a process in ms, from /proc (Linux; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* HTTP                                                                                            */
/* ---------------------------------------------------------------------------------------------- */

/** A keep-alive HTTP/1.1 client for convoy dev (one socket per concurrent sender). */
function client(baseUrl: string, sockets: number) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const post = (path: string, headers: Record<string, string>, body: string) =>
    postJson(agent, url, path, headers, body);
  return {
    /** POST /webhooks/github as GitHub sends it; a network failure is status 0. */
    async deliver(delivery: Signed, id = randomUUID()): Promise<{ status: number; text: string }> {
      try {
        return await post(
          '/webhooks/github',
          {
            'user-agent': 'GitHub-Hookshot/convoy-bench',
            'x-github-event': 'pull_request',
            'x-github-delivery': id,
            'x-hub-signature-256': delivery.signature,
          },
          delivery.body,
        );
      } catch (error) {
        return { status: 0, text: (error as Error).message };
      }
    },
    async transition(admin: string, task: string, to: string): Promise<void> {
      const { status, text } = await post(
        `/v1/plans/${PROJECT}/tasks/${task}/transitions`,
        { authorization: `Bearer ${admin}` },
        JSON.stringify({ to }),
      );
      if (status < 200 || status >= 300) throw new Error(`${task} → ${to}: ${status} ${text.slice(0, 300)}`);
    },
    close: () => agent.destroy(),
  };
}

type Client = ReturnType<typeof client>;

/** Runs `work` over `items` with at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Moves tasks todo → in_progress → in_review as the admin, so a merged PR can take them to done. */
async function moveToReview(http: Client, admin: string, numbers: readonly number[]) {
  await pool(numbers, 10, async (n) => {
    await http.transition(admin, taskOf(n), 'in_progress');
    await http.transition(admin, taskOf(n), 'in_review');
  });
}

/** Counts the audit events of `type` since `since`, page by page. */
async function countEvents(dev: Dev, type: string, since: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ type, since, limit: '200', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${dev.info.url}/v1/plans/${PROJECT}/events?${query}`, {
      headers: { authorization: `Bearer ${dev.admin}` },
    });
    if (!response.ok) throw new Error(`events → ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { events: unknown[]; cursor: string | null };
    count += page.events.length;
    cursor = page.cursor;
  } while (cursor);
  return count;
}

/* ---------------------------------------------------------------------------------------------- */
/* JIRA's request log                                                                              */
/* ---------------------------------------------------------------------------------------------- */

const issueOf = (request: RecordedRequest) => decodeURIComponent(request.path.split('/')[5] ?? '');
const transitionId = (request: RecordedRequest) =>
  String(((request.body as Json | undefined)?.transition as Json | undefined)?.id ?? '');
const isTransition = (request: RecordedRequest) =>
  request.operationId === 'doTransition' && request.method === 'POST';
const ok = (request: RecordedRequest) => request.status >= 200 && request.status < 300;

async function until(what: string, condition: () => boolean, timeoutMs: number, dev: Dev): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (!dev.alive()) throw new Error(`convoy dev exited while waiting for ${what}:\n${tail(dev.logFile)}`);
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The most requests in any window of `windowMs` (by arrival), and where that window starts. */
function busiestWindow(times: readonly number[], windowMs: number): { count: number; from: number } {
  let best = { count: 0, from: Number.NaN };
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && (times[end] as number) < (times[start] as number) + windowMs) end++;
    if (end - start > best.count) best = { count: end - start, from: times[start] as number };
  }
  return best;
}

/** JIRA requests that strayed from the spec, were refused, or came without the right credentials. */
function badRequests(requests: readonly RecordedRequest[]) {
  const bad = requests.filter((r) => !r.valid || !r.authorized || !ok(r) || r.responseViolations.length > 0);
  const first = bad[0];
  return {
    count: bad.length,
    first:
      first &&
      `${first.method} ${first.path} → ${first.status}${first.violations.length > 0 ? `: ${first.violations.join('; ')}` : ''}`,
  };
}

/** Issues whose transitions arrived out of the workflow's order (start, review, done). */
function outOfOrder(requests: readonly RecordedRequest[]): string[] {
  const byIssue = new Map<string, number[]>();
  for (const request of requests.filter((r) => isTransition(r) && ok(r))) {
    const step = FORWARD.findIndex((ids) => ids.includes(transitionId(request)));
    const steps = byIssue.get(issueOf(request)) ?? [];
    steps.push(step);
    byIssue.set(issueOf(request), steps);
  }
  return [...byIssue].filter(([, steps]) => steps.some((step, i) => step !== i)).map(([issue]) => issue);
}

/* ---------------------------------------------------------------------------------------------- */
/* Reporting                                                                                       */
/* ---------------------------------------------------------------------------------------------- */

const ms = (value: number) => `${value.toFixed(1)} ms`;
const line = (name: string, text: string, verdict = '') =>
  console.log(`  ${name.padEnd(44)} ${text}${verdict}`);
const check = (passed: boolean, target: string) => `  ${passed ? '✓' : '✗'} target ${target}`;

/* ---------------------------------------------------------------------------------------------- */
/* Phase 2: merged PR → JIRA transition to Done                                                    */
/* ---------------------------------------------------------------------------------------------- */

async function mergeLatency(dev: Dev, jira: JiraTestServer, http: Client): Promise<boolean> {
  const numbers = range(1, SETTINGS.merges);
  const setupStart = performance.now();
  await moveToReview(http, dev.admin, numbers);
  const setupTransitions = () => jira.requests.filter((r) => isTransition(r) && ok(r)).length;
  // The setup's own JIRA transitions (to In Progress, to In Review) must be through first.
  if (!(await until('the setup in JIRA', () => setupTransitions() >= 2 * numbers.length, 90_000, dev)))
    throw new Error(`JIRA got ${setupTransitions()} of ${2 * numbers.length} setup transitions in 90 s`);
  const setupSeconds = (performance.now() - setupStart) / 1000;
  const deliveries = await Promise.all(numbers.map((n) => signed('merged', 1000 + n, keyOf(n))));

  // Requests before this are the setup's; the PRs' come after.
  const setupRequests = jira.requests.length;
  const sentAt = new Map<string, number>();
  let refused = 0;
  const first = performance.now();
  for (const [i, delivery] of deliveries.entries()) {
    const wait = first + i * SETTINGS.mergeEveryMs - performance.now();
    if (wait > 0) await sleep(wait);
    const at = Date.now();
    const { status } = await http.deliver(delivery);
    if (status === 202) sentAt.set(delivery.key, at);
    else refused++;
  }
  const arrival = new Map<string, number>();
  /** The first JIRA request of each PR (its remote link): how long until a drain picked it up. */
  const firstRequest = new Map<string, number>();
  const found = () => {
    for (const request of jira.requests.slice(setupRequests)) {
      const key = issueOf(request);
      const sent = sentAt.get(key);
      if (sent === undefined) continue;
      if (!firstRequest.has(key)) firstRequest.set(key, request.at.getTime() - sent);
      if (isTransition(request) && TO_DONE.has(transitionId(request)) && !arrival.has(key))
        arrival.set(key, request.at.getTime() - sent);
    }
    return arrival.size >= sentAt.size;
  };
  await until('the transitions to Done', found, 60_000, dev);
  found();
  const latencies = [...arrival.values()].sort((a, b) => a - b);
  const pickedUp = [...firstRequest.values()].sort((a, b) => a - b);
  const p99 = percentile(latencies, 0.99);
  const allFound = arrival.size === numbers.length && refused === 0;
  const latencyOk = p99 < TARGETS.latencyP99Ms && allFound;

  console.log(
    `\nmerged PR → JIRA transition to Done (${numbers.length} PRs, one every ${SETTINGS.mergeEveryMs} ms, ` +
      `CONVOY_JIRA_REQUESTS_PER_MINUTE=${SETTINGS.fastLimit}; drain loop every 2 s)`,
  );
  line(
    'setup: tasks to in_review, JIRA following',
    `${(2 * numbers.length).toString().padStart(6)} transitions in JIRA after ${setupSeconds.toFixed(1)} s`,
  );
  line(
    'send → POST .../transitions (to Done)',
    `p50 ${ms(percentile(latencies, 0.5))}, p99 ${ms(p99)}, max ${ms(latencies.at(-1) ?? Number.NaN)}, min ${ms(latencies[0] ?? Number.NaN)}`,
    check(latencyOk, `p99 < ${TARGETS.latencyP99Ms} ms`),
  );
  line(
    '  of which: send → its first JIRA request',
    `p50 ${ms(percentile(pickedUp, 0.5))}, p99 ${ms(percentile(pickedUp, 0.99))}, max ${ms(pickedUp.at(-1) ?? Number.NaN)} (the remote link; ${pickedUp.length} of ${numbers.length} PRs)`,
  );
  line(
    'transitions to Done received',
    `${arrival.size.toString().padStart(6)} of ${numbers.length}${refused > 0 ? ` (${refused} deliveries refused)` : ''}`,
    check(allFound, `all ${numbers.length}`),
  );
  return latencyOk;
}

/* ---------------------------------------------------------------------------------------------- */
/* Phase 1: ingest                                                                                 */
/* ---------------------------------------------------------------------------------------------- */

interface Sample {
  readonly action: Action;
  readonly start: number;
  readonly end: number;
  readonly status: number;
}

async function ingest(dev: Dev, jira: JiraTestServer, http: Client): Promise<boolean> {
  // Tasks after those of the latency phase: todo, so a PR leaves exactly one audit event each
  // (github.pull_request for an edit, github.activity for a move the lifecycle refuses) and a
  // remote link in JIRA; JIRA transitions stay out of it.
  const keys = range(SETTINGS.merges + 1, SETTINGS.ingestKeys).map(keyOf);
  const actions: Action[] = ['opened', 'edited', 'merged'];
  // Consecutive deliveries name different issues and take the actions in turn; over three rounds
  // every issue gets each action once. A PR keeps its number throughout.
  const order = await Promise.all(
    range(0, actions.length).flatMap((round) =>
      keys.map((key, k) => signed(actions[(k + round) % actions.length] as Action, 2000 + k, key)),
    ),
  );
  const bodyBytes = Buffer.byteLength(order[0]?.body ?? '');

  const samples: Sample[] = [];
  const errors = new Map<string, number>();
  let firstError: string | undefined;
  let next = 0;
  const rss: number[] = [];
  const before = rssMb(dev.info.pid) ?? Number.NaN;
  const sampler = setInterval(() => {
    const mb = rssMb(dev.info.pid);
    if (mb !== undefined) rss.push(mb);
  }, RSS_SAMPLE_MS);
  const sinceIso = new Date().toISOString();
  const jiraBefore = jira.requests.length;
  const start = performance.now();
  const from = start + SETTINGS.warmUpMs;
  const to = from + SETTINGS.ingestMs;
  const wallFrom = Date.now() + SETTINGS.warmUpMs;
  const cpu: number[] = [];
  const cpuStart = setTimeout(() => cpu.push(cpuMs(dev.info.pid)), SETTINGS.warmUpMs);
  try {
    await Promise.all(
      Array.from({ length: SETTINGS.senders }, async () => {
        while (performance.now() < to && dev.alive()) {
          const delivery = order[next++ % order.length] as Signed;
          const begin = performance.now();
          const { status, text } = await http.deliver(delivery);
          samples.push({ action: delivery.action, start: begin, end: performance.now(), status });
          if (status !== 202) {
            const what = `${status}`;
            errors.set(what, (errors.get(what) ?? 0) + 1);
            firstError ??= `${delivery.action} ${delivery.key} → ${status} ${text.slice(0, 300)}`;
          }
        }
      }),
    );
  } finally {
    clearTimeout(cpuStart);
    cpu.push(cpuMs(dev.info.pid));
  }
  const ingestEnd = performance.now();
  if (!dev.alive()) throw new Error(`convoy dev exited during the ingest:\n${tail(dev.logFile)}`);
  const jiraDuringIngest = jira.requests.length - jiraBefore;

  // Every accepted delivery leaves one event; count them until all are there (or time is up).
  const accepted = samples.filter((s) => s.status === 202).length;
  const processedCount = async () =>
    (await countEvents(dev, 'github.activity', sinceIso)) +
    (await countEvents(dev, 'github.pull_request', sinceIso));
  let processed = await processedCount();
  const atEnd = processed;
  while (processed < accepted && performance.now() - ingestEnd < SETTINGS.processTimeoutMs) {
    await sleep(1_000);
    processed = await processedCount();
  }
  const processedAfter = (performance.now() - ingestEnd) / 1000;
  clearInterval(sampler);

  // The JIRA backlog the ingest left (one remote link per delivery), drained at the high limit.
  const links = () =>
    jira.requests.slice(jiraBefore).filter((r) => r.operationId === 'createOrUpdateRemoteIssueLink').length;
  const backlogAtStart = accepted - links();
  const observeFrom = jira.requests.length;
  await sleep(SETTINGS.backlogObserveMs);
  const drained = jira.requests.length - observeFrom;

  // Throughput counts the acks that finished in the measured window, latency those that started in it.
  const finished = samples.filter((s) => s.end >= from && s.end < to);
  const started = samples.filter((s) => s.start >= from && s.start < to);
  const okFinished = finished.filter((s) => s.status === 202).length;
  const times = (list: readonly Sample[]) => list.map((s) => s.end - s.start).sort((a, b) => a - b);
  const latencies = times(started);
  const nonAcks = samples.filter((s) => s.status !== 202).length;
  const peak = Math.max(...rss);
  const cpuPerAck = cpu.length === 2 ? ((cpu[1] as number) - (cpu[0] as number)) / okFinished : Number.NaN;

  console.log(
    `\nGitHub webhook ingest through convoy dev (${SETTINGS.senders} concurrent senders, ${SETTINGS.warmUpMs / 1000} s warm-up + ` +
      `${SETTINGS.ingestMs / 1000} s measured; signed pull_request deliveries of ${(bodyBytes / 1024).toFixed(0)} KB ` +
      `naming ${keys.length} issues, opened / edited / merged in turn)`,
  );
  line(
    'acknowledgements (202)',
    `${(okFinished / (SETTINGS.ingestMs / 1000)).toFixed(0).padStart(6)} acks/s   p50 ${ms(percentile(latencies, 0.5))}, ` +
      `p99 ${ms(percentile(latencies, 0.99))}, max ${ms(latencies.at(-1) ?? Number.NaN)} (${finished.length.toLocaleString('en-US')} in the window)`,
  );
  for (const action of actions) {
    const list = times(started.filter((s) => s.action === action));
    line(
      `  ${action}`,
      `${list.length.toLocaleString('en-US').padStart(6)} requests p50 ${ms(percentile(list, 0.5))}, p99 ${ms(percentile(list, 0.99))}`,
    );
  }
  const server = serverTimes(dev.logFile, wallFrom, wallFrom + SETTINGS.ingestMs);
  line(
    '  as convoy dev logs them (server side)',
    `${server.length.toLocaleString('en-US').padStart(6)} requests p50 ${ms(percentile(server, 0.5))}, p99 ${ms(percentile(server, 0.99))}`,
  );
  line(
    'CPU of convoy dev per acknowledgement',
    `${cpuPerAck.toFixed(2).padStart(6)} ms (delivery processing included)`,
  );
  line(
    'non-2xx acknowledgements',
    `${[...errors].map(([status, count]) => `${count} × ${status}`).join(', ') || '0'}`,
    check(nonAcks === 0, '0'),
  );
  if (firstError) console.log(`    first: ${firstError}`);
  const allProcessed = processed === accepted;
  line(
    'accepted deliveries processed (1 event each)',
    `${processed.toLocaleString('en-US')} of ${accepted.toLocaleString('en-US')}: ${atEnd.toLocaleString('en-US')} at the last ack, ` +
      `${allProcessed ? `all by ${processedAfter.toFixed(1)} s after it (polled)` : `after ${processedAfter.toFixed(0)} s`}`,
    check(allProcessed, `= ${accepted.toLocaleString('en-US')}`),
  );
  line(
    'convoy dev RSS (node, not Java)',
    `peak ${peak.toFixed(0)} MB, end ${(rss.at(-1) ?? Number.NaN).toFixed(0)} MB (before the ingest ${before.toFixed(0)} MB, ${rss.length} samples)`,
  );
  line(
    'JIRA requests during the ingest',
    `${jiraDuringIngest.toString().padStart(6)} (remote links; limit ${SETTINGS.fastLimit}/min)`,
  );
  if (SETTINGS.backlogObserveMs > 0)
    line(
      'JIRA drain with the ingest backlog',
      `${drained.toString().padStart(6)} requests in the next ${SETTINGS.backlogObserveMs / 1000} s ` +
        `(${((drained * 1000) / SETTINGS.backlogObserveMs).toFixed(1)}/s; backlog ≈ ${backlogAtStart.toLocaleString('en-US')} remote links, ` +
        `limit ${SETTINGS.fastLimit}/min)`,
    );
  return nonAcks === 0 && allProcessed;
}

/* ---------------------------------------------------------------------------------------------- */
/* Phase 3: drain under the default limit                                                          */
/* ---------------------------------------------------------------------------------------------- */

async function drainUnderLimit(dev: Dev, jira: JiraTestServer, http: Client): Promise<boolean> {
  const numbers = range(1, SETTINGS.drainPrs);
  // The local JIRA stamps a request when this process's event loop gets to it: the lag is the
  // error of every arrival time below.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const enqueueStart = performance.now();
  await moveToReview(http, dev.admin, numbers);
  const deliveries = await Promise.all(numbers.map((n) => signed('merged', 5000 + n, keyOf(n))));
  let refused = 0;
  await pool(deliveries, 10, async (delivery) => {
    if ((await http.deliver(delivery)).status !== 202) refused++;
  });
  const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
  // Per issue: to In Progress and to In Review (GET + POST each), the PR's remote link, to Done.
  const work = numbers.length * (2 + 2 + 1 + 2);
  if (!(await until('the first JIRA request', () => jira.requests.length > 0, 30_000, dev)))
    throw new Error('JIRA received nothing within 30 s');
  const firstAt = (jira.requests[0] as RecordedRequest).at.getTime();
  const observeUntil = firstAt + SETTINGS.drainObserveMs;
  while (Date.now() < observeUntil) {
    if (!dev.alive()) throw new Error(`convoy dev exited during the drain:\n${tail(dev.logFile)}`);
    await sleep(Math.min(1_000, observeUntil - Date.now()));
  }
  const requests = jira.requests.filter((r) => r.at.getTime() < observeUntil);
  const times = requests.map((r) => r.at.getTime()).sort((a, b) => a - b);
  const busiest = busiestWindow(times, WINDOW_MS);
  const firstMinute = times.filter((t) => t < firstAt + WINDOW_MS).length;
  const afterMinute = times.filter((t) => t >= firstAt + WINDOW_MS);
  const backlogged = requests.length < work;
  const bad = badRequests(requests);
  const disordered = outOfOrder(requests);
  const windowOk = busiest.count <= DEFAULT_LIMIT;
  const burst = times.filter((t) => t < firstAt + 5_000).length;
  lag.disable();
  // The shortest time in which one request more than the limit arrived (≥ 60 s when the limit held).
  let tightest = Number.POSITIVE_INFINITY;
  for (let i = 0; i + DEFAULT_LIMIT < times.length; i++)
    tightest = Math.min(tightest, (times[i + DEFAULT_LIMIT] as number) - (times[i] as number));

  console.log(
    `\nJIRA drain under the default limit (${DEFAULT_LIMIT} requests/min; CONVOY_JIRA_REQUESTS_PER_MINUTE unset): ` +
      `${numbers.length} tasks to in_review then ${numbers.length} merged PRs = ${work} JIRA requests of work, ` +
      `enqueued in ${enqueueSeconds.toFixed(1)} s; observed ${SETTINGS.drainObserveMs / 1000} s from the first request`,
  );
  line(
    'most requests in any 60 s window',
    `${busiest.count.toString().padStart(6)} (window from +${((busiest.from - firstAt) / 1000).toFixed(1)} s)`,
    check(windowOk, `≤ ${DEFAULT_LIMIT}`),
  );
  if (Number.isFinite(tightest))
    line(
      `  shortest span holding ${DEFAULT_LIMIT + 1} requests`,
      `${(tightest / 1000).toFixed(3).padStart(6)} s (bench event-loop lag, the error of arrival times: ` +
        `p99 ${ms(lag.percentile(99) / 1e6)}, max ${ms(lag.max / 1e6)})`,
    );
  line(
    'drain rate while backlogged',
    `${firstMinute.toString().padStart(6)} requests in the first minute (${burst} of them in its first 5 s); ` +
      (SETTINGS.drainObserveMs > WINDOW_MS
        ? `${afterMinute.length} in the ${((observeUntil - firstAt - WINDOW_MS) / 1000).toFixed(0)} s after it` +
          `${afterMinute[0] === undefined ? '' : ` (from +${((afterMinute[0] - firstAt) / 1000).toFixed(1)} s)`}`
        : `observed ${SETTINGS.drainObserveMs / 1000} s only`),
  );
  line(
    'work still queued at the end',
    `${(work - requests.length).toString().padStart(6)} requests`,
    check(backlogged, '> 0 (backlogged throughout)'),
  );
  line(
    'JIRA requests valid (spec, auth, 2xx)',
    `${(requests.length - bad.count).toString().padStart(6)} of ${requests.length}${refused > 0 ? `; ${refused} deliveries refused` : ''}`,
    check(bad.count === 0 && refused === 0, 'all'),
  );
  if (bad.first) console.log(`    first: ${bad.first}`);
  line(
    'issues whose transitions arrived in order',
    `${(new Set(requests.filter(isTransition).map(issueOf)).size - disordered.length).toString().padStart(6)} of ${new Set(requests.filter(isTransition).map(issueOf)).size}` +
      `${disordered.length > 0 ? ` (out of order: ${disordered.slice(0, 5).join(', ')})` : ''}`,
    check(disordered.length === 0, 'all'),
  );
  return windowOk && backlogged && bad.count === 0 && refused === 0 && disordered.length === 0;
}

/* ---------------------------------------------------------------------------------------------- */

/** One convoy dev with its own JIRA, data and temp dir; always stopped and removed. */
async function withConvoy(
  issues: number,
  env: Record<string, string>,
  body: (dev: Dev, jira: JiraTestServer, http: Client) => Promise<boolean>,
): Promise<boolean> {
  const dir = await mkdtemp(join(BENCH_PARENT, 'convoy-bench-hooks-'));
  const jira = await startJiraServer({ issues: range(1, issues).map(keyOf) });
  let dev: Dev | undefined;
  let http: Client | undefined;
  try {
    dev = await startConvoyDev(dir, benchPlan(jira.url, issues), {
      CONVOY_GITHUB_WEBHOOK_SECRET: SECRET,
      CONVOY_JIRA_EMAIL: jira.email,
      CONVOY_JIRA_API_TOKEN: jira.apiToken,
      CONVOY_JIRA_BASE_URL: jira.url,
      ...env,
    });
    http = client(dev.info.url, SETTINGS.senders);
    const passed = await body(dev, jira, http);
    http.close();
    await stopChild(dev.child, dev.exited);
    const problems = logProblems(dev.logFile);
    line(
      "failures in convoy dev's log",
      `${problems.length.toString().padStart(6)}${problems[0] ? `; first: ${problems[0].slice(0, 300)}` : ''}`,
      check(problems.length === 0, '0'),
    );
    return passed && problems.length === 0;
  } finally {
    http?.close();
    if (dev) await stopChild(dev.child, dev.exited);
    await jira.close();
    if (process.env.CONVOY_BENCH_KEEP) {
      await writeFile(join(dir, 'jira-requests.json'), JSON.stringify(jira.requests, null, 1));
      console.log(`  kept ${dir} (convoy-dev.log, jira-requests.json, data/)`);
    } else await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<boolean> {
  if (!process.env.CONVOY_BENCH_CLI)
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (SETTINGS.fastLimit > MAX_LIMIT || SETTINGS.fastLimit < 1)
    throw new Error(`CONVOY_BENCH_FAST_LIMIT must be 1 to ${MAX_LIMIT} (the rate limiter's capacity)`);
  const latencyWork = 7 * SETTINGS.merges;
  console.log(
    `\nwebhooks: convoy dev (${CLI}) + local JIRA (spec-validating, in the bench process); data in ${BENCH_PARENT}; ` +
      `${availableParallelism()} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  if (latencyWork > SETTINGS.fastLimit)
    console.log(
      `  note: the latency phase needs ~${latencyWork} JIRA requests, over the limit of ${SETTINGS.fastLimit}/min: it will be rate-limited`,
    );
  let passed = await withConvoy(
    SETTINGS.merges + SETTINGS.ingestKeys,
    { CONVOY_JIRA_REQUESTS_PER_MINUTE: String(SETTINGS.fastLimit) },
    async (dev, jira, http) => {
      const latencyOk = await mergeLatency(dev, jira, http);
      const ingestOk = await ingest(dev, jira, http);
      return latencyOk && ingestOk;
    },
  );
  passed = (await withConvoy(SETTINGS.drainPrs, {}, drainUnderLimit)) && passed;
  return passed;
}
