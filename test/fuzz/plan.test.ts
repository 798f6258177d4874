import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { fuzzParameters, fuzzTimeout, mutated, nastyNumber, nastyString } from '../support/fuzz.js';
import type { CommandResult, RunReply, RunRequest } from './plan-runner.js';

/**
 * Random mutations of the example plans through `convoy validate` and `convoy plan` (issue 11, D2):
 * numbers, durations and dates at and past every bound, long and broken strings, entries dropped or
 * duplicated, dependency cycles. Each command must end with a result or with errors as
 * FILE:LINE:COL: path: message, never hang or crash.
 *
 * The commands run in a child process (plan-runner.ts), because a hang is a busy loop that would
 * also stop this process's timers: the test waits for each answer at most HANG_MS, then kills the
 * child and fails with the plan that hung. HANG_MS is a hang detector, not a speed target: the issue
 * asks for 2 s on a plan of this size, and each call takes milliseconds; the margin is for a busy
 * two-core machine.
 */
const HANG_MS = 10_000;

const EXAMPLES = readdirSync('examples')
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({ name, data: parseYaml(readFileSync(`examples/${name}`, 'utf8')) as Plan }));

type Plan = Record<string, unknown> & {
  project: Record<string, unknown>;
  phases: { id: string; dependsOn?: string[]; tasks: { id: string; dependsOn?: string[] }[] }[];
};

/** A child running the CLI, started again after it was killed for hanging. */
class Runner {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private next = 0;

  private start(): Promise<void> {
    const child = fork(fileURLToPath(new URL('./plan-runner.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) =>
        reject(new Error(`the plan runner exited with ${code} before it was ready`)),
      );
    });
    return this.ready;
  }

  /** Both commands' results, or `hung` when they did not answer within HANG_MS. */
  async run(file: string, text: string): Promise<RunReply | 'hung'> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) await this.start();
    else await this.ready;
    const child = this.child as ChildProcess;
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.kill('SIGKILL');
        this.child = undefined;
        resolve('hung');
      }, HANG_MS);
      const onMessage = (reply: RunReply) => {
        if (reply.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(reply);
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        reject(new Error(`the plan runner exited with ${code} while running the commands (a crash)`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ id, file, text } satisfies RunRequest);
    });
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

const runner = new Runner();
afterAll(() => runner.close());

const LOCATED = /^plan\.(yaml|json):\d+:\d+: \S/;

/** What every answer must satisfy, whatever the plan: a result or located errors, within HANG_MS. */
function expectHandled(reply: RunReply | 'hung', text: string): asserts reply is RunReply {
  if (reply === 'hung')
    throw new Error(
      `convoy validate or convoy plan ran for more than ${HANG_MS} ms on:\n${text.slice(0, 4000)}`,
    );
  const { validate, plan } = reply;
  expect([0, 1], `validate exit code; stderr: ${validate.stderr}`).toContain(validate.code);
  expect(plan.code, `plan agrees with validate; stderr: ${plan.stderr}`).toBe(validate.code);
  for (const result of [validate, plan]) expect(result.ms).toBeLessThan(HANG_MS);
  if (validate.code === 1) {
    const lines = errorLines(validate);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(LOCATED);
    expect(errorLines(plan)).toEqual(lines);
  } else {
    const analysis = JSON.parse(plan.stdout) as { start: string; finish: string; tasks: object };
    expect(analysis.start >= '2000-01-01' && analysis.finish <= '2100-12-31').toBe(true);
  }
}

/** The FILE:LINE:COL lines a command printed, without validate's closing "✗ FILE: N problems". */
const errorLines = (result: CommandResult) =>
  result.stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('✗ '))
    .map((line) => line.trimEnd());

const farDate = fc.constantFrom(
  '9999-12-31',
  '0000-01-01',
  '1999-12-31',
  '2000-01-01',
  '2100-12-31',
  '2101-01-01',
  '2026-02-30',
  '+275760-09-13',
  '2026-1-5',
);
const extremeDuration = fc.oneof(
  fc.constantFrom(
    '99999999w',
    '9007199254740993m',
    '1e400m',
    '0m',
    '0.0000001m',
    '-1d',
    '260w',
    '261w',
    '1300d',
    '365d',
    '366d',
    `${'9'.repeat(400)}m`,
    '1.5',
    'NaNd',
    'Infinityw',
  ),
  fc.tuple(fc.nat({ max: 1_000_000_000 }), fc.constantFrom('m', 'h', 'd', 'w')).map(([n, u]) => `${n}${u}`),
);
/** Estimates within the bounds: up to 260w. */
const validEstimate = fc.oneof(
  fc.constantFrom('260w', '1300d', '10400h', '624000m', '1m', '0.01h'),
  fc.integer({ min: 1, max: 260 }).map((weeks) => `${weeks}w`),
);
/** Values a plan field may be given: at and past the bounds of docs/plan-format.md, and nonsense. */
const planValue: fc.Arbitrary<unknown> = fc.oneof(
  farDate,
  extremeDuration,
  nastyNumber,
  nastyString,
  fc.constantFrom(null, true, [], {}, 'tps >= 1e400', 'tps >= 99999999999999999999', 'x'.repeat(300)),
);

/** Structural changes: drop or duplicate an entry of a list, close a dependency cycle, move the start. */
type Edit = (plan: Plan) => void;
const pick = <T>(items: readonly T[], n: number): T | undefined => items[n % Math.max(1, items.length)];
const allTasks = (plan: Plan) =>
  (Array.isArray(plan.phases) ? plan.phases : []).flatMap((p) => p?.tasks ?? []);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.constantFrom('agents', 'phases', 'people', 'gates', 'escalations'), fc.nat()).map(
    ([key, n]): Edit =>
      (plan) => {
        const list = plan[key];
        if (Array.isArray(list) && list.length > 0) list.splice(n % list.length, 1);
      },
  ),
  fc.tuple(fc.nat(), fc.nat()).map(
    ([p, t]): Edit =>
      (plan) => {
        const tasks = pick(plan.phases, p)?.tasks;
        const task = tasks && pick(tasks, t);
        if (tasks && task) tasks.push(structuredClone(task));
      },
  ),
  fc.tuple(fc.nat(), fc.nat()).map(
    ([a, b]): Edit =>
      (plan) => {
        const tasks = allTasks(plan);
        const [x, y] = [pick(tasks, a), pick(tasks, b)];
        if (!x || !y) return;
        x.dependsOn = [...(x.dependsOn ?? []), y.id];
        y.dependsOn = [...(y.dependsOn ?? []), x.id];
      },
  ),
  fc.tuple(fc.nat(), fc.nat()).map(
    ([a, b]): Edit =>
      (plan) => {
        const [x, y] = [pick(plan.phases, a), pick(plan.phases, b)];
        if (x && y) x.dependsOn = [...(x.dependsOn ?? []), y.id];
      },
  ),
  farDate.map(
    (date): Edit =>
      (plan) => {
        plan.project.start = date;
      },
  ),
  extremeDuration.map(
    (estimate): Edit =>
      (plan) => {
        for (const task of allTasks(plan)) (task as Record<string, unknown>).estimate = estimate;
      },
  ),
  // Valid but extreme: the plan stays valid (or runs past 2100), so `convoy plan` analyses big numbers.
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }).map(
    (date): Edit =>
      (plan) => {
        plan.project.start = date.toISOString().slice(0, 10);
      },
  ),
  fc.tuple(fc.nat(), validEstimate).map(
    ([n, estimate]): Edit =>
      (plan) => {
        const task = pick(allTasks(plan), n);
        if (task) (task as Record<string, unknown>).estimate = estimate;
      },
  ),
);

const mutatedPlan = fc
  .tuple(fc.nat({ max: EXAMPLES.length - 1 }), fc.boolean(), fc.array(edit, { maxLength: 3 }), fc.boolean())
  .chain(([index, json, edits, replace]) => {
    const base = structuredClone((EXAMPLES[index] as (typeof EXAMPLES)[number]).data);
    for (const change of edits) change(base);
    return (replace ? mutated(base, planValue, 3) : fc.constant(base)).map((plan) => ({
      file: json ? 'plan.json' : 'plan.yaml',
      text: json ? JSON.stringify(plan, null, 2) : stringifyYaml(plan),
    }));
  });

describe('convoy validate and convoy plan on mutated example plans', () => {
  const { numRuns, seed } = fuzzParameters(200);

  it(
    'end with a result or with located errors, and never hang or crash',
    async () => {
      const outcomes = { analysed: 0, rejected: 0 };
      await fc.assert(
        fc.asyncProperty(mutatedPlan, async ({ file, text }) => {
          const reply = await runner.run(file, text);
          expectHandled(reply, text);
          outcomes[reply.validate.code === 0 ? 'analysed' : 'rejected']++;
        }),
        // A hang costs HANG_MS for every shrinking step: report the first failing plan as it is.
        { numRuns, ...(seed === undefined ? {} : { seed }), endOnFailure: true },
      );
      // Both paths are exercised: some mutations keep the plan valid, so `convoy plan` analyses it.
      expect(outcomes.analysed).toBeGreaterThan(0);
      expect(outcomes.rejected).toBeGreaterThan(0);
    },
    fuzzTimeout(numRuns, 400),
  );

  it(
    'answer the two plans of issue 11 (D2) with errors that name the field, at once',
    async () => {
      // Prepare: the plans that hung the analysis: a start in year 9999, and estimates of 99999999w and 9007199254740993m.
      const proto = readFileSync('examples/proto-refactor.yaml', 'utf8');
      const farStart = proto.replace('  start: 2026-03-02', '  start: 9999-12-31');
      const hugeEstimates = proto
        .replace('        estimate: 1.5d', '        estimate: 99999999w')
        .replace('        estimate: 1d', '        estimate: 9007199254740993m');

      // Act
      const replies = [await runner.run('plan.yaml', farStart), await runner.run('plan.yaml', hugeEstimates)];

      // Assess
      const [start, estimates] = replies.map((reply, i) => {
        expectHandled(reply, [farStart, hugeEstimates][i] as string);
        return reply.validate.stderr;
      });
      expect(start).toContain(
        'project.start: date "9999-12-31" is out of range: Convoy plans from 2000-01-01 to 2100-12-31',
      );
      expect(estimates).toMatch(/estimate: estimate "99999999w" is too long: at most 260w/);
      expect(estimates).toMatch(/estimate: estimate "9007199254740993m" is too long: at most 260w/);
    },
    4 * HANG_MS,
  );
});
