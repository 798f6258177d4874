import { describe, expect, it } from 'vitest';
import { MemoryOutbox, MemoryRateLimiter } from '../../../../functions/adapters/memory/index.js';
import {
  IntegrationError,
  type JiraCommand,
  type OutboxEntry,
} from '../../../../functions/core/integrations/model.js';
import {
  type DrainOptions,
  type DrainReport,
  drainOutbox,
} from '../../../../functions/core/integrations/outbox-worker.js';
import type { Clock, CommandRunner } from '../../../../functions/core/ports.js';

const START = Date.parse('2026-03-02T09:00:00.000Z');
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Time for the drains under test: it moves only when every actor sleeps, to the earliest wake-up,
 * as a real clock would have while they all waited. An hour of JIRA outage runs in milliseconds,
 * and two concurrent drains see one consistent time.
 */
class SimulatedTime implements Clock {
  private at = START;
  private active = 0;
  private sleepers: { until: number; wake: () => void }[] = [];

  now(): Date {
    return new Date(this.at);
  }

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((wake) => {
      this.sleepers.push({ until: this.at + Math.max(0, ms), wake });
      this.advanceIfAllAsleep();
    });

  /** Runs the actors concurrently; time advances only through their sleeps. */
  async run<T>(...actors: (() => Promise<T>)[]): Promise<T[]> {
    this.active += actors.length;
    return Promise.all(
      actors.map((actor) =>
        actor().finally(() => {
          this.active -= 1;
          this.advanceIfAllAsleep();
        }),
      ),
    );
  }

  private advanceIfAllAsleep(): void {
    if (this.active === 0 || this.sleepers.length < this.active) return;
    this.at = Math.max(this.at, Math.min(...this.sleepers.map((sleeper) => sleeper.until)));
    const awake = this.sleepers.filter((sleeper) => sleeper.until <= this.at);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.until > this.at);
    for (const sleeper of awake) sleeper.wake();
  }
}

/** Deterministic jitter (mulberry32), so a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Call {
  readonly at: number;
  readonly command: JiraCommand;
  readonly failure?: IntegrationError | Error;
}

/**
 * JIRA as the worker sees it, through the tracker port: `script` decides, per command and time,
 * whether JIRA takes the command or fails it, and every call is recorded with its time.
 */
function scriptedJira(clock: Clock, script: (command: JiraCommand, at: number) => Error | undefined) {
  const calls: Call[] = [];
  const run: CommandRunner = async (outboxCommand) => {
    if (outboxCommand.kind === 'slack') throw new Error('these tests enqueue JIRA commands only');
    const command = outboxCommand;
    const at = clock.now().getTime();
    const failure = script(command, at);
    calls.push({ at, command, ...(failure ? { failure } : {}) });
    if (failure) throw failure;
  };
  return {
    run,
    calls,
    /** Commands JIRA took, in the order it took them. */
    taken: () => calls.filter((call) => !call.failure).map((call) => line(call.command)),
  };
}

/** How a command reads in assertions. */
function line(command: JiraCommand): string {
  switch (command.kind) {
    case 'transition':
      return `${command.issue} → ${command.status}`;
    case 'comment':
      return `${command.issue} comment ${command.body}`;
    case 'remote-link':
      return `${command.issue} link ${command.link.url}`;
    case 'worklog':
      return `${command.issue} worklog ${command.seconds}`;
    case 'create-issue':
      return `${command.project} create ${command.label}`;
  }
}

const transition = (issue: string, status: string): JiraCommand => ({ kind: 'transition', issue, status });
const comment = (issue: string, body: string): JiraCommand => ({ kind: 'comment', issue, body });

/** Outbox entries as a webhook delivery would enqueue them. */
const entries = (delivery: string, commands: readonly JiraCommand[]) =>
  commands.map((command, index) => ({ id: `${delivery}#${index}`, project: 'convoy', command }));

/** The largest number of calls inside any 60-second window [t, t + 60 s). */
function busiestMinute(calls: readonly Call[]): number {
  const times = calls.map((call) => call.at).sort((a, b) => a - b);
  let busiest = 0;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while ((times[last] as number) - (times[first] as number) >= MINUTE) first += 1;
    busiest = Math.max(busiest, last - first + 1);
  }
  return busiest;
}

/** The commands JIRA took for one issue, in order. */
const takenFor = (taken: readonly string[], issue: string) =>
  taken.filter((line) => line.startsWith(`${issue} `));

/**
 * Everything a drain needs, with JIRA following `script`. The outbox and the site's rate limit are
 * the in-memory stores, which behave as the DynamoDB ones (test/contract/): these tests are about
 * the drain's rules.
 */
function world(script: (command: JiraCommand, at: number) => Error | undefined = () => undefined) {
  const clock = new SimulatedTime();
  const jira = scriptedJira(clock, script);
  const failures: { entry: OutboxEntry; error: string }[] = [];
  // One outbox and one bucket for the site, shared by every worker as the table's items are.
  const outbox = new MemoryOutbox();
  const limiter = new MemoryRateLimiter();
  /** A worker process, as another Lambda container would have, on the shared outbox and bucket. */
  const worker = () => ({
    outbox,
    run: jira.run,
    limiter,
    clock,
    sleep: clock.sleep,
    recordFailure: async (entry: OutboxEntry, error: string) => {
      failures.push({ entry, error });
    },
  });
  const ports = worker();

  /**
   * Drains as the deployed schedule does, once a minute, until the outbox is empty. Minutes in
   * which nothing is due are skipped (a drain then would find nothing to do), so a day takes a
   * few hundred drains.
   */
  async function drainOnSchedule(options: DrainOptions = {}): Promise<DrainReport[]> {
    const reports: DrainReport[] = [];
    while (reports.length < 2_000) {
      const report = await drainOutbox(ports, options);
      reports.push(report);
      if (report.remaining === 0) return reports;
      const now = clock.now().getTime();
      await clock.sleep(Math.max(now + MINUTE, Date.parse(report.nextAt as string)) - now);
    }
    throw new Error('the outbox did not empty in 2,000 drains');
  }

  return { clock, jira, failures, outbox, ports, worker, drainOnSchedule };
}

describe('drainOutbox', () => {
  it('runs every command once, in the order enqueued, when JIRA is healthy', async () => {
    // Prepare
    const { clock, jira, outbox, ports } = world();
    const commands = [
      transition('PAY-1', 'In Progress'),
      comment('PAY-1', 'first'),
      transition('PAY-2', 'In Progress'),
      {
        kind: 'remote-link',
        issue: 'PAY-1',
        // An optional field left undefined, as the smart-commit parser leaves it.
        link: {
          globalId: 'github-pr-7',
          url: 'https://github.com/acme/pay/pull/7',
          title: 'PR #7',
          summary: undefined,
        },
      } as const,
      transition('PAY-1', 'In Review'),
      { kind: 'worklog', issue: 'PAY-2', seconds: 5400, comment: 'pairing' } as const,
      ...Array.from({ length: 12 }, (_, index) => comment('PAY-3', `note ${index}`)),
      transition('PAY-1', 'Done'),
    ];
    await outbox.enqueue(entries('delivery-1', commands), clock.now());

    // Act
    const [report] = await clock.run(() => drainOutbox(ports));

    // Assess
    expect(report).toEqual({ done: commands.length, retried: 0, deadLettered: 0, remaining: 0 });
    expect(jira.calls).toHaveLength(commands.length);
    expect([...jira.taken()].sort()).toEqual(commands.map(line).sort());
    for (const issue of ['PAY-1', 'PAY-2', 'PAY-3'])
      expect(takenFor(jira.taken(), issue)).toEqual(takenFor(commands.map(line), issue));
    expect(await outbox.due(new Date('9999-01-01T00:00:00.000Z'), 100)).toEqual([]);
  });

  it('waits as Retry-After says through a 429 storm, losing nothing and running nothing twice', async () => {
    // Prepare: for two minutes JIRA answers every request with 429 and Retry-After: 20.
    const stormEnds = START + 2 * MINUTE;
    const { clock, jira, outbox, drainOnSchedule } = world((_command, at) =>
      at < stormEnds
        ? new IntegrationError('JIRA answered 429 Too Many Requests', true, 20 * SECOND, 429)
        : undefined,
    );
    const commands = Array.from({ length: 40 }, (_, index) => comment(`PAY-${index % 4}`, `c${index}`));
    await outbox.enqueue(entries('delivery-1', commands), clock.now());

    // Act
    const [reports] = await clock.run(() => drainOnSchedule());

    // Assess
    expect([...jira.taken()].sort()).toEqual(commands.map(line).sort());
    const throttled = jira.calls.filter((call) => call.failure);
    expect(throttled.length).toBeGreaterThan(0);
    for (const call of throttled) {
      const next = jira.calls[jira.calls.indexOf(call) + 1];
      expect(next && next.at - call.at).toBeGreaterThanOrEqual(20 * SECOND);
    }
    expect(reports?.reduce((sum, report) => sum + report.deadLettered, 0)).toBe(0);
    expect(await outbox.deadLetters()).toEqual([]);
  });

  it('delivers every command in per-issue order, none dead-lettered, after JIRA is down for an hour', async () => {
    // Prepare: JIRA is unreachable or answers 503 for an hour; new commits keep coming meanwhile.
    const outageEnds = START + HOUR;
    const { clock, jira, outbox, failures, drainOnSchedule } = world((_command, at) => {
      if (at >= outageEnds) return undefined;
      return at % 2 === 0
        ? new IntegrationError('JIRA answered 503 Service Unavailable', true, undefined, 503)
        : new TypeError('fetch failed');
    });
    const issues = ['PAY-1', 'PAY-2', 'PAY-3', 'PAY-4'];
    const before = issues.flatMap((issue) => [
      transition(issue, 'In Progress'),
      comment(issue, 'started'),
      transition(issue, 'In Review'),
    ]);
    const during = issues.flatMap((issue) => [comment(issue, 'merged'), transition(issue, 'Done')]);
    await outbox.enqueue(entries('delivery-1', before), clock.now());
    const options = { policy: { random: seededRandom(7) } };

    // Act
    const [reports] = await clock.run(
      () => drainOnSchedule(options),
      async () => {
        await clock.sleep(30 * MINUTE);
        await outbox.enqueue(entries('delivery-2', during), clock.now());
        return [];
      },
    );

    // Assess
    const taken = jira.taken();
    expect(taken).toHaveLength(before.length + during.length);
    for (const issue of issues)
      expect(takenFor(taken, issue)).toEqual([
        `${issue} → In Progress`,
        `${issue} comment started`,
        `${issue} → In Review`,
        `${issue} comment merged`,
        `${issue} → Done`,
      ]);
    const lastTaken = Math.max(...jira.calls.filter((call) => !call.failure).map((call) => call.at));
    expect(lastTaken - outageEnds).toBeLessThanOrEqual(15 * MINUTE);
    expect(reports?.reduce((sum, report) => sum + report.deadLettered, 0)).toBe(0);
    expect(failures).toEqual([]);
    expect(await outbox.deadLetters()).toEqual([]);
  });

  it('dead-letters a command JIRA refuses at once and records sync.failed once', async () => {
    // Prepare
    const refusal = 'JIRA answered 400: no transition of PAY-1 leads to "Shipped"';
    const { clock, jira, outbox, failures, ports } = world((command) =>
      command.kind === 'transition' && command.status === 'Shipped'
        ? new IntegrationError(refusal, false, undefined, 400)
        : undefined,
    );
    await outbox.enqueue(
      entries('delivery-1', [
        transition('PAY-1', 'Shipped'),
        comment('PAY-1', 'after'),
        comment('PAY-2', 'other'),
      ]),
      clock.now(),
    );

    // Act
    const [first] = await clock.run(() => drainOutbox(ports));
    const [second] = await clock.run(() => drainOutbox(ports));

    // Assess
    expect(first).toEqual({ done: 2, retried: 0, deadLettered: 1, remaining: 0 });
    expect(second).toEqual({ done: 0, retried: 0, deadLettered: 0, remaining: 0 });
    expect(jira.calls.map((call) => line(call.command))).toEqual([
      'PAY-1 → Shipped',
      'PAY-1 comment after',
      'PAY-2 comment other',
    ]);
    expect(failures).toEqual([
      {
        entry: expect.objectContaining({
          id: 'delivery-1#0',
          project: 'convoy',
          attempts: 1,
          lastError: refusal,
        }),
        error: refusal,
      },
    ]);
    expect(await outbox.deadLetters()).toEqual([
      expect.objectContaining({ id: 'delivery-1#0', command: transition('PAY-1', 'Shipped'), attempts: 1 }),
    ]);
  });

  it('gives up on a command still failing giveUpAfterMs after it was enqueued, then runs the next of its issue', async () => {
    // Prepare: PAY-1 answers 502 for ever; the policy gives up after 3 hours (24 by default).
    const { clock, jira, outbox, failures, drainOnSchedule } = world((command) =>
      command.kind === 'transition' && command.issue === 'PAY-1'
        ? new IntegrationError('JIRA answered 502 Bad Gateway', true, undefined, 502)
        : undefined,
    );
    await outbox.enqueue(
      entries('delivery-1', [
        transition('PAY-1', 'In Review'),
        comment('PAY-1', 'merged'),
        comment('PAY-2', 'hi'),
      ]),
      clock.now(),
    );

    // Act
    await clock.run(() => drainOnSchedule({ policy: { giveUpAfterMs: 3 * HOUR, random: seededRandom(11) } }));

    // Assess
    const tries = jira.calls.filter((call) => call.command.kind === 'transition').map((call) => call.at);
    const giveUp = START + 3 * HOUR;
    expect(tries.filter((at) => at < giveUp).length).toBeGreaterThan(10);
    expect(tries.filter((at) => at >= giveUp)).toHaveLength(1);
    expect(Math.max(...tries) - giveUp).toBeLessThanOrEqual(10 * MINUTE + MINUTE);
    expect(failures).toEqual([
      {
        entry: expect.objectContaining({ id: 'delivery-1#0', attempts: tries.length }),
        error: `still failing after ${tries.length} attempts: JIRA answered 502 Bad Gateway`,
      },
    ]);
    expect(await outbox.deadLetters()).toEqual([expect.objectContaining({ id: 'delivery-1#0' })]);
    const comments = jira.calls.filter((call) => call.command.kind === 'comment');
    expect(comments.map((call) => line(call.command))).toEqual(['PAY-2 comment hi', 'PAY-1 comment merged']);
    expect(comments[1]?.at).toBeGreaterThanOrEqual(Math.max(...tries));
  });

  it('never lets more than 100 requests through in any 60-second window, yet uses all 100', async () => {
    // Prepare
    const { clock, jira, outbox, ports } = world();
    const commands = Array.from({ length: 150 }, (_, index) => comment(`PAY-${index % 10}`, `c${index}`));
    await outbox.enqueue(entries('delivery-1', commands), clock.now());

    // Act
    const [report] = await clock.run(() => drainOutbox(ports, { maxRunMs: 10 * MINUTE }));

    // Assess: a burst of 100, then the other 50 as soon as the first tokens come back.
    expect(report).toEqual({ done: 150, retried: 0, deadLettered: 0, remaining: 0 });
    expect(busiestMinute(jira.calls)).toBe(100);
    expect(Math.max(...jira.calls.map((call) => call.at)) - START).toBe(MINUTE);
  });

  it('counts a transition as two requests (GET transitions, POST one)', async () => {
    // Prepare
    const { clock, jira, outbox, ports } = world();
    const commands = Array.from({ length: 60 }, (_, index) => transition(`PAY-${index}`, 'Done'));
    await outbox.enqueue(entries('delivery-1', commands), clock.now());

    // Act
    const [report] = await clock.run(() => drainOutbox(ports, { maxRunMs: 10 * MINUTE }));

    // Assess
    expect(report?.done).toBe(60);
    expect(busiestMinute(jira.calls)).toBe(50);
  });

  it('keeps two drains running at once on the same outbox within the limit together', async () => {
    // Prepare: two workers (Lambda containers) on one outbox and one site's bucket.
    const { clock, jira, outbox, worker } = world();
    const commands = Array.from({ length: 150 }, (_, index) => comment(`PAY-${index % 10}`, `c${index}`));
    await outbox.enqueue(entries('delivery-1', commands), clock.now());
    const options = { maxRunMs: 10 * MINUTE };

    // Act
    const [first, second] = await clock.run(
      () => drainOutbox(worker(), options),
      () => drainOutbox(worker(), options),
    );

    // Assess. Not asserted: each command ran once. The Outbox port cannot claim an entry, so both
    // drains send every command; the wiring must run one drain at a time (see drainOutbox).
    expect(busiestMinute(jira.calls)).toBeLessThanOrEqual(100);
    expect(new Set(jira.taken())).toEqual(new Set(commands.map(line)));
    expect((first?.done ?? 0) + (second?.done ?? 0)).toBeGreaterThanOrEqual(150);
    expect(await outbox.due(new Date('9999-01-01T00:00:00.000Z'), 1_000)).toEqual([]);
  });

  it('pauses the whole drain for a 503 with Retry-After and stops when the pause outlasts the run', async () => {
    // Prepare: JIRA asks for a 5-minute pause on the first request; the drain may run one minute.
    let answered = false;
    const { clock, jira, outbox, ports } = world(() => {
      if (answered) return undefined;
      answered = true;
      return new IntegrationError('JIRA answered 503: maintenance', true, 5 * MINUTE, 503);
    });
    await outbox.enqueue(entries('delivery-1', [comment('PAY-1', 'a'), comment('PAY-2', 'b')]), clock.now());

    // Act
    const [report] = await clock.run(() => drainOutbox(ports, { maxRunMs: MINUTE }));

    // Assess: PAY-2 is not sent into the throttle; the next drain is told to wait out the pause.
    expect(jira.calls).toHaveLength(1);
    expect(report).toEqual({
      done: 0,
      retried: 1,
      deadLettered: 0,
      remaining: 2,
      nextAt: new Date(START + 5 * MINUTE).toISOString(),
    });
  });
});

describe('the outbox', () => {
  it('adds nothing when the same ids are enqueued twice', async () => {
    // Prepare
    const { clock, jira, outbox, ports } = world();
    const first = entries('delivery-1', [
      comment('PAY-1', 'a'),
      comment('PAY-1', 'b'),
      comment('PAY-2', 'c'),
    ]);
    const redelivered = first.map((entry) => ({ ...entry, command: comment('PAY-9', 'changed') }));

    // Act
    const added = await outbox.enqueue(first, clock.now());
    const addedAgain = await outbox.enqueue(redelivered, clock.now());
    await clock.run(() => drainOutbox(ports));

    // Assess
    expect([added, addedAgain]).toEqual([3, 0]);
    expect(jira.taken()).toEqual(['PAY-1 comment a', 'PAY-1 comment b', 'PAY-2 comment c']);
  });

  it('lists as due only entries whose notBefore has come, oldest first, with their retry state', async () => {
    // Prepare
    const { outbox } = world();
    const now = new Date(START);
    await outbox.enqueue(
      entries('d', [comment('PAY-1', 'a'), comment('PAY-2', 'b'), comment('PAY-3', 'c')]),
      now,
    );
    await outbox.retryLater('d#0', 1, new Date(START + MINUTE), 'JIRA answered 500');

    // Act
    const dueNow = await outbox.due(new Date(START + SECOND), 10);
    const dueLater = await outbox.due(new Date(START + MINUTE), 10);

    // Assess
    expect(dueNow.map((entry) => entry.id)).toEqual(['d#1', 'd#2']);
    expect(dueLater.map((entry) => entry.id)).toEqual(['d#1', 'd#2', 'd#0']);
    expect(dueLater[2]).toEqual({
      id: 'd#0',
      project: 'convoy',
      command: comment('PAY-1', 'a'),
      attempts: 1,
      notBefore: new Date(START + MINUTE).toISOString(),
      createdAt: new Date(START).toISOString(),
      lastError: 'JIRA answered 500',
    });
    expect(await outbox.due(new Date(START + MINUTE), 2)).toHaveLength(2);
  });
});
