import type { Clock, CommandRunner, Outbox, RateLimiter } from '../ports.js';
import { IntegrationError, lineOf, type OutboxCommand, type OutboxEntry } from './model.js';

/** How the worker retries a command that failed for a reason that may pass (429, 5xx, network). */
export interface RetryPolicy {
  /** Ceiling of the first backoff; it doubles with every attempt. @default 2000 */
  readonly baseMs?: number;
  /** The largest backoff ceiling. @default 600000 (10 minutes) */
  readonly capMs?: number;
  /**
   * A command that still fails this long after it was enqueued goes to the dead letters. Measured
   * from `createdAt` because a command JIRA has not taken for a day is stale news anyway.
   * @default 86400000 (24 hours: an hour-long JIRA outage loses nothing)
   */
  readonly giveUpAfterMs?: number;
  /** Uniform in [0, 1): the jitter. @default Math.random */
  readonly random?: () => number;
}

export interface DrainOptions {
  /**
   * How many pending entries a drain reads at once. The worker needs every pending entry of an
   * issue to keep the issue's commands in order, so per-issue order is guaranteed while fewer
   * entries than this are pending (10,000 is 100 minutes of JIRA's default limit).
   * @default 10000
   */
  readonly batch?: number;
  /**
   * The drain starts no request after this long, so it ends within a Lambda invocation's time
   * limit: give the function this plus one JIRA request timeout.
   * @default 50000
   */
  readonly maxRunMs?: number;
  readonly policy?: RetryPolicy;
  /**
   * How many HTTP requests a command makes to JIRA; the worker takes one limiter token for each.
   * @default 2 for a transition (GET the issue's transitions, POST one) and for a create-issue
   * (search for its label, create), 1 for anything else
   */
  readonly requestsPerCommand?: (command: OutboxCommand) => number;
}

export interface DrainPorts {
  readonly outbox: Outbox;
  readonly run: CommandRunner;
  /** The JIRA site's limiter, shared by every worker that talks to the site. */
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  sleep(ms: number): Promise<void>;
  /** Raises `sync.failed` in the entry's project; called once per dead-lettered entry. */
  recordFailure(entry: OutboxEntry, error: string): Promise<void>;
}

export interface DrainReport {
  /** Commands JIRA took. */
  readonly done: number;
  /** Failed attempts rescheduled for later. */
  readonly retried: number;
  /** Commands moved to the dead letters (each with a `sync.failed`). */
  readonly deadLettered: number;
  /** Entries still pending when the drain stopped: waiting for a retry, queued behind one, or not reached. */
  readonly remaining: number;
  /**
   * When the next drain has something to do (ISO): the earliest entry that may run, or the end of
   * a pause JIRA asked for if that is later. Absent when nothing remains.
   */
  readonly nextAt?: string;
}

const DEFAULT_POLICY: Required<RetryPolicy> = {
  baseMs: 2_000,
  capMs: 10 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
  random: Math.random,
};
const DEFAULT_BATCH = 10_000;
const DEFAULT_MAX_RUN_MS = 50_000;
/** Dead letters and `sync.failed` events carry the error; JIRA's error pages can be long. */
const MAX_ERROR_LENGTH = 1_000;
/** `due` at this time lists every pending entry (four-digit years keep ISO strings sortable). */
const END_OF_TIME = new Date('9999-01-01T00:00:00.000Z');

/** The default of {@link DrainOptions.requestsPerCommand}. */
export function requestsPerCommand(command: OutboxCommand): number {
  // Slack posts cost no JIRA request; the Slack poster paces its channels itself.
  if (command.kind === 'slack') return 0;
  return command.kind === 'transition' || command.kind === 'create-issue' ? 2 : 1;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^(attempts-1))). */
export function backoffMs(attempts: number, policy: RetryPolicy = {}): number {
  const { baseMs, capMs, random } = withDefaults(policy);
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(random() * ceiling);
}

type Outcome = { readonly kind: 'done' | 'dead' } | { readonly kind: 'retry'; readonly entry: OutboxEntry };

/**
 * Sends the outbox's JIRA commands, oldest first, within the site's rate limit.
 *
 * - A limiter token is taken before every request; when the limiter says wait, the drain sleeps.
 * - A retryable failure is rescheduled after its `Retry-After`, else after an exponential backoff
 *   with full jitter; a 429 or 503 with `Retry-After` also pauses the whole drain, because the site
 *   is throttling every caller, not one command.
 * - A non-retryable failure, or one still failing `giveUpAfterMs` after it was enqueued, goes to
 *   the dead letters and raises `sync.failed` through `recordFailure`.
 * - An issue's commands run in the order they were enqueued: while an earlier command of an issue
 *   waits for its retry, no later one of that issue runs (Done must not overtake In Review, also
 *   when jittered retries come due in another order). That needs the waiting entries too, so a
 *   drain reads every pending entry, not only the due ones.
 * - The drain starts no request after `maxRunMs` and stops when nothing is due; it never waits for
 *   a backoff to pass, so the trigger decides when to look again (`nextAt` says when it is worth it).
 *
 * Run one drain at a time per outbox: the `Outbox` port cannot claim an entry, so two overlapping
 * drains could both send it. The limiter is shared, so overlapping drains never exceed the rate.
 * If the process dies between a command's success and `complete`, the command runs again on the
 * next drain (at least once): transitions, remote links and created issues (found by their label)
 * are idempotent, comments and worklogs would repeat.
 */
export async function drainOutbox(ports: DrainPorts, options: DrainOptions = {}): Promise<DrainReport> {
  const { outbox, run, limiter, clock, sleep, recordFailure } = ports;
  const policy = withDefaults(options.policy ?? {});
  const batch = options.batch ?? DEFAULT_BATCH;
  const cost = options.requestsPerCommand ?? requestsPerCommand;
  const time = () => clock.now().getTime();
  const deadline = time() + (options.maxRunMs ?? DEFAULT_MAX_RUN_MS);
  const counts = { done: 0, retried: 0, deadLettered: 0 };
  /** What this drain wrote, since an index read right after a write may not show it yet. */
  const written = new Map<string, OutboxEntry | 'gone'>();
  let queues = new Map<string, OutboxEntry[]>();
  let pauseUntil = 0;

  async function readQueues(): Promise<Map<string, OutboxEntry[]>> {
    const next = new Map<string, OutboxEntry[]>();
    for (const stored of await outbox.due(END_OF_TIME, batch)) {
      const entry = written.get(stored.id) ?? stored;
      if (entry === 'gone') continue;
      const queue = next.get(issueOf(entry));
      if (queue) queue.push(entry);
      else next.set(issueOf(entry), [entry]);
    }
    for (const queue of next.values()) queue.sort(byEnqueueOrder);
    return next;
  }

  /** Takes a token for each request of `command`; false when the wait would outlast the drain. */
  async function acquire(command: OutboxCommand): Promise<boolean> {
    let tokens = cost(command);
    while (tokens > 0) {
      const wait = await limiter.tryAcquire(clock.now());
      if (wait <= 0) {
        tokens -= 1;
        continue;
      }
      if (time() + wait > deadline) return false;
      await sleep(wait);
    }
    return true;
  }

  async function attempt(entry: OutboxEntry): Promise<Outcome> {
    const attempts = entry.attempts + 1;
    try {
      await run(entry.command, entry);
    } catch (error) {
      return failed(entry, attempts, error);
    }
    await outbox.complete(entry.id);
    written.set(entry.id, 'gone');
    counts.done += 1;
    return { kind: 'done' };
  }

  async function failed(entry: OutboxEntry, attempts: number, error: unknown): Promise<Outcome> {
    const failure = classify(error);
    const now = clock.now();
    const failingFor = now.getTime() - Date.parse(entry.createdAt);
    if (!failure.retryable || failingFor >= policy.giveUpAfterMs) {
      const reason = failure.retryable
        ? `still failing after ${attempts} attempts: ${failure.message}`
        : failure.message;
      await outbox.deadLetter(entry.id, attempts, reason, now);
      written.set(entry.id, 'gone');
      counts.deadLettered += 1;
      await recordFailure({ ...entry, attempts, lastError: reason }, reason);
      return { kind: 'dead' };
    }
    const notBefore = new Date(now.getTime() + (failure.retryAfterMs ?? backoffMs(attempts, policy)));
    await outbox.retryLater(entry.id, attempts, notBefore, failure.message);
    const next = { ...entry, attempts, notBefore: notBefore.toISOString(), lastError: failure.message };
    written.set(entry.id, next);
    counts.retried += 1;
    if (failure.retryAfterMs !== undefined && (failure.status === 429 || failure.status === 503))
      pauseUntil = Math.max(pauseUntil, now.getTime() + failure.retryAfterMs);
    return { kind: 'retry', entry: next };
  }

  /** Runs due heads until none is due; `stop` when time is up or JIRA asked for a longer pause. */
  async function pass(): Promise<{ ran: boolean; stop: boolean }> {
    const heads = [...queues.values()].map((queue) => queue[0] as OutboxEntry).sort(byDue);
    let ran = false;
    for (;;) {
      const head = heads[0];
      if (head === undefined || Date.parse(head.notBefore) > time()) return { ran, stop: false };
      if (time() >= deadline || !(await acquire(head.command))) return { ran, stop: true };
      heads.shift();
      ran = true;
      const outcome = await attempt(head);
      const queue = queues.get(issueOf(head)) as OutboxEntry[];
      if (outcome.kind === 'retry') queue[0] = outcome.entry;
      else queue.shift();
      if (queue.length === 0) queues.delete(issueOf(head));
      else insertSorted(heads, queue[0] as OutboxEntry);
      if (pauseUntil > time()) {
        if (pauseUntil > deadline) return { ran, stop: true };
        await sleep(pauseUntil - time());
      }
    }
  }

  for (;;) {
    queues = await readQueues();
    const { ran, stop } = await pass();
    // After a pass that ran something, read again: entries may have arrived meanwhile.
    if (stop || !ran || time() >= deadline) break;
  }

  const waiting = [...queues.values()];
  const remaining = waiting.reduce((sum, queue) => sum + queue.length, 0);
  const earliest = waiting.reduce(
    (first, queue) => Math.min(first, Date.parse((queue[0] as OutboxEntry).notBefore)),
    Number.POSITIVE_INFINITY,
  );
  return {
    ...counts,
    remaining,
    ...(remaining > 0 ? { nextAt: new Date(Math.max(earliest, pauseUntil)).toISOString() } : {}),
  };
}

function withDefaults(policy: RetryPolicy): Required<RetryPolicy> {
  return {
    baseMs: policy.baseMs ?? DEFAULT_POLICY.baseMs,
    capMs: policy.capMs ?? DEFAULT_POLICY.capMs,
    giveUpAfterMs: policy.giveUpAfterMs ?? DEFAULT_POLICY.giveUpAfterMs,
    random: policy.random ?? DEFAULT_POLICY.random,
  };
}

interface Failure {
  readonly retryable: boolean;
  readonly message: string;
  readonly retryAfterMs?: number;
  readonly status?: number;
}

function classify(error: unknown): Failure {
  if (error instanceof IntegrationError) {
    const retryAfter = error.retryAfterMs;
    return {
      retryable: error.retryable,
      message: truncate(error.message),
      ...(retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0
        ? { retryAfterMs: retryAfter }
        : {}),
      ...(error.status !== undefined ? { status: error.status } : {}),
    };
  }
  // The runner classifies what it knows; anything else is most likely a network failure it did
  // not wrap, and retrying loses nothing: a real bug still reaches the dead letters in time.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { retryable: true, message: truncate(message) };
}

const truncate = (text: string) =>
  text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;

const issueOf = (entry: OutboxEntry) => lineOf(entry.command);

/** Ids are usually `<delivery>#<index>`: compare numbers as numbers, so `#10` follows `#9`. */
const compareIds = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function byEnqueueOrder(a: OutboxEntry, b: OutboxEntry): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : compareIds(a.id, b.id);
}

function byDue(a: OutboxEntry, b: OutboxEntry): number {
  const delta = Date.parse(a.notBefore) - Date.parse(b.notBefore);
  return delta !== 0 ? delta : byEnqueueOrder(a, b);
}

function insertSorted(heads: OutboxEntry[], entry: OutboxEntry): void {
  let low = 0;
  let high = heads.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (byDue(heads[middle] as OutboxEntry, entry) <= 0) low = middle + 1;
    else high = middle;
  }
  heads.splice(low, 0, entry);
}
