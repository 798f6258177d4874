import { readFile } from 'node:fs/promises';
import { MemoryPersistenceLayer, PowertoolsRunOnce } from '../adapters/idempotency/run-once.js';
import { type MemoryOutbox, memoryStores } from '../adapters/memory/index.js';
import { noticeMessage } from '../adapters/slack/notice-messages.js';
import { renderBlocks } from '../adapters/slack/report-blocks.js';
import { applyPlan, recordMetrics } from '../core/coordination/commands.js';
import type { ProjectSnapshot } from '../core/coordination/model.js';
import { ConvoyError } from '../core/errors.js';
import { drainOutbox } from '../core/integrations/outbox-worker.js';
import {
  analysePlan,
  formatPlanError,
  type Plan,
  parsePlan,
  WorkingCalendar,
  workingMinutes,
} from '../core/plan/index.js';
import type { CoordinationStore } from '../core/ports.js';
import { mulberry32 } from '../core/reports/forecast.js';
import { type JobPorts, runScheduledJob } from '../core/rhythm/jobs.js';
import { runHeartbeatMonitor, runStaleWorkSweep } from '../core/rhythm/monitors.js';
import { instantsAt, nextFireTimes } from '../core/schedules/index.js';
import type { Dependencies } from '../handlers/dependencies.js';
import { startLocalWorkflows } from './local-workflows.js';
import { ROUNDS, SimulatedAgents } from './simulation/agents.js';
import { metricCourses, SyntheticMetrics, type WorkProgress } from './simulation/metrics.js';
import { type SimulatedDay, SimulationOutput, type SimulationOutputMode } from './simulation/output.js';
import { SimulatedPeople } from './simulation/people.js';

export type { SimulationOutputMode } from './simulation/output.js';

export interface SimulateOptions {
  readonly planFile: string;
  /** Working days to replay, from the project's first working day. */
  readonly days: number;
  /** The same seed gives the same run, line for line. @default 1 */
  readonly seed?: number;
  /** Receives the output, a line at a time. */
  readonly print: (line: string) => void;
  /** @default 'digest' */
  readonly output?: SimulationOutputMode;
}

export interface SimulationSummary {
  readonly days: number;
  readonly posts: number;
  readonly tasksDone: number;
  readonly tasks: number;
  readonly phasesPassed: number;
  readonly phases: readonly { readonly id: string; readonly status: string }[];
}

/** A problem with the simulation's input (the plan, the options); the message says what to fix. */
export class SimulationError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_simulation', message, options);
    this.name = 'SimulationError';
  }
}

type Step = { at: Date; order: number; run: () => Promise<void> };

/**
 * The working days of a plan as planned: through the later of the critical path's finish and the
 * last phase's `due`. Every example reaches its end within twice this
 * (test/integration/simulate-examples.test.ts).
 */
export function plannedWorkingDays(plan: Plan): number {
  const calendar = new WorkingCalendar(plan.project);
  const analysis = analysePlan(plan);
  const dues = plan.phases.flatMap((phase) => (phase.due ? [phase.due] : []));
  let days = Math.max(1, Math.ceil(analysis.durationDays));
  for (const due of dues) {
    while (calendar.dateAt(days - 1) < due) days++;
  }
  return days;
}

/**
 * Replays `days` working days of a plan against fresh in-memory stores on a virtual clock, through
 * the same engine as deployed: every schedule fires and every monitor runs, the phase-gate workflow
 * runs its ASL, escalations follow every event and metric. The stores behave as the DynamoDB ones
 * do (test/contract/ runs one suite against both). Around it, a synthetic team (docs/rhythm.md,
 * "The synthetic model"): agents take ready tasks and work at a seeded pace, metrics move toward
 * their targets as the work gets done, approvers decide gates as a sensible person would.
 * Everything random comes from the seed and ids from a counter, so the same seed gives the same output.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 1000)
    throw new SimulationError(`--days must be a whole number from 1 to 1000, got ${options.days}`);
  const { plan, defaultedChannel } = withChannel(await readPlan(options.planFile));
  const random = mulberry32(options.seed ?? 1);
  const project = plan.project.id;
  let now = new Date(0);
  const clock = { now: () => now };
  const convoy = await startConvoy(project, clock);
  try {
    const { ports, store } = convoy;
    const calendar = new WorkingCalendar(plan.project);
    const zone = plan.project.timezone;
    const local = (date: string, time: string) =>
      instantsAt(date, time, zone)[0] ?? new Date(`${date}T${time}:00Z`);
    const timeOf = (at: Date) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' }).format(at);
    const output = new SimulationOutput(options.output ?? 'digest', options.print, clock, timeOf);
    if (defaultedChannel)
      output.note(`The plan names no Slack channel: its posts are shown as posted to ${defaultedChannel}.`);
    now = local(calendar.start, '08:00');
    await applyPlan(ports, { project, plan, actor: { kind: 'admin' } });

    const posting = new Posting(convoy, output, zone, clock);
    const postMetrics = metricPoster(plan, ports, random);
    const agents = new SimulatedAgents(plan, ports, random, {
      finishing: (task) => postMetrics(task),
      done: (task, agent) => output.taskDone(task, agent),
    });
    const people = new SimulatedPeople(plan, ports, random, output, convoy.settle);

    for (let day = 0; day < options.days; day++) {
      const date = calendar.dateAt(day);
      output.startDay(day + 1, date, weekdayName(date));
      const steps = stepsOfDay(plan, date, local, {
        sweep: () => runStaleWorkSweep(ports, project),
        job: (schedule, at) =>
          runScheduledJob(ports, { project, schedule, scheduledTime: at.toISOString() }).then(
            () => undefined,
          ),
        async round(round) {
          if (round === 0) await people.reevaluateHeldGates();
          await people.decideGates(convoy.gatesUnderWay());
          await people.acknowledgeEscalations();
          await agents.round((await store.snapshot(project)) as ProjectSnapshot);
          // A phase the agents just finished starts its gate: the gate goes first, as it would
          // within the minute before the next monitor run.
          await convoy.settle();
          await runHeartbeatMonitor(ports, project);
        },
        metrics: () => postMetrics(),
      });
      for (const step of steps) {
        now = step.at;
        await step.run();
        await convoy.settle();
        await posting.drain();
      }
      output.endDay(progressOf(plan, (await store.snapshot(project)) as ProjectSnapshot));
    }

    const summary = summaryOf(
      plan,
      options.days,
      posting.posts,
      (await store.snapshot(project)) as ProjectSnapshot,
    );
    if (output.mode === 'json')
      options.print(JSON.stringify(simulationDocument(plan, options, summary, output.days), null, 2));
    else {
      output.note('');
      output.note(
        `${summary.days} working days simulated: ${summary.tasksDone}/${summary.tasks} tasks done, ${summary.phasesPassed}/${plan.phases.length} phases passed, ${summary.posts} messages posted`,
      );
    }
    return summary;
  } finally {
    await convoy.stop();
  }
}

/** Convoy as the simulation runs it: its use cases over in-memory stores, its workflows in process. */
interface SimulatedConvoy {
  readonly ports: JobPorts & Dependencies;
  readonly store: CoordinationStore;
  readonly outbox: MemoryOutbox;
  /** Whether a gate workflow is running (evaluating, or waiting for a person). */
  gatesUnderWay(): boolean;
  /** Waits until every gate workflow has finished or waits for a person. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

async function startConvoy(project: string, clock: { now(): Date }): Promise<SimulatedConvoy> {
  /** Store calls under way: a gate step that stored its token may still be posting. */
  const calls = { inFlight: 0 };
  const stores = memoryStores();
  let sequence = 0;
  const base: Dependencies = {
    store: counted(stores.store, calls),
    outbox: counted(stores.outbox, calls),
    tokens: counted(stores.tokens, calls),
    idempotency: counted(stores.idempotency, calls),
    once: new PowertoolsRunOnce(() => new MemoryPersistenceLayer()),
    charts: counted(stores.charts, calls),
    escalations: counted(stores.escalations, calls),
    gates: counted(stores.gates, calls),
    clock,
    ids: { next: (at) => `${at}#${String(++sequence).padStart(8, '0')}` },
    secrets: async () => ({}),
  };
  // The gate workflow runs the real ASL; its waits take no time, since the virtual clock only moves
  // between steps: a CAUTION is evaluated again on the state of the same moment.
  const workflows = await startLocalWorkflows(base, {
    log: (line) => void line,
    // The domain events the stores' transactions wrote are delivered on every drain.
    stream: { memory: stores.store.stream },
    waitTimeOverrides: { '*': 0 },
    retryIntervalOverrides: { '*': 0 },
  });
  const running = () => workflows.gates.executions().filter((execution) => execution.status === 'RUNNING');
  return {
    // The digest names each report's chart; drawing the PNG nobody sees took a tenth of the run.
    ports: { ...workflows.deps, reports: { message: renderBlocks } },
    store: base.store,
    outbox: stores.outbox,
    gatesUnderWay: () => running().length > 0,
    async settle() {
      for (let round = 0; round < 2_000; round++) {
        await workflows.drain();
        const busy = running();
        if (busy.length === 0 && calls.inFlight === 0) return;
        const waiting = await Promise.all(
          busy.map(async (execution) => {
            const input = execution.input as { gate?: string };
            const state = input.gate ? await stores.gates.getGate(project, input.gate) : undefined;
            // Waiting for a person: the token is stored and nobody has answered yet.
            return state?.status === 'awaiting-decision' && state.pendingToken !== undefined;
          }),
        );
        if (waiting.every(Boolean)) {
          // The step that stored the token goes on to post its notice: let it finish.
          await new Promise((resolve) => setImmediate(resolve));
          if (calls.inFlight === 0) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
    stop: () => workflows.stop(),
  };
}

/** `target` with every method call counted in `calls.inFlight` until its promise settles. */
function counted<T extends object>(target: T, calls: { inFlight: number }): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.inFlight++;
        return Promise.resolve(value.apply(object, args)).finally(() => {
          calls.inFlight--;
        });
      };
    },
  });
}

/** The posts and JIRA commands of the outbox, shown instead of sent; `posts` counts the posts. */
class Posting {
  posts = 0;

  constructor(
    private readonly convoy: SimulatedConvoy,
    private readonly output: SimulationOutput,
    timeZone: string,
    private readonly clock: { now(): Date },
  ) {
    // Notice times read in the project's zone, at the simulation's time.
    this.noticeOptions = {
      timeZone,
      get now() {
        return clock.now();
      },
    };
  }

  private readonly noticeOptions: { timeZone: string; readonly now: Date };

  async drain(): Promise<void> {
    if (this.convoy.outbox.isEmpty) return;
    await drainOutbox(
      {
        outbox: this.convoy.outbox,
        limiter: { tryAcquire: async () => 0 },
        clock: this.clock,
        sleep: async () => undefined,
        recordFailure: async (entry, error) => this.output.failure(entry.id, error),
        run: async (command) => {
          if (command.kind !== 'slack') return this.output.jira(command);
          this.posts++;
          const message =
            'notice' in command ? noticeMessage(command.notice, this.noticeOptions) : command.message;
          await this.output.post(command, message);
        },
      },
      { maxRunMs: 60_000 },
    );
  }
}

/**
 * Posts the synthetic metrics: where the work stands moves them (simulation/metrics.ts). With a
 * task that is `finishing`, only when it is the last open task of its phase, counted as done.
 */
function metricPoster(
  plan: Plan,
  ports: JobPorts & Dependencies,
  random: () => number,
): (finishing?: string) => Promise<void> {
  const project = plan.project.id;
  const tasks = plan.phases.flatMap((phase) => phase.tasks);
  const estimate = new Map(tasks.map((task) => [task.id, workingMinutes(task.estimate)]));
  const metrics = new SyntheticMetrics(metricCourses(plan, random), random);
  const phaseOf = new Map(plan.phases.flatMap((phase) => phase.tasks.map((task) => [task.id, phase])));
  /** Where the work stands, with `finishing` counted as done. */
  const workOf = (snapshot: ProjectSnapshot, finishing?: string): WorkProgress => {
    const done = (id: string) => id === finishing || snapshot.tasks.get(id)?.status === 'done';
    const share = (list: readonly { id: string }[]) => {
      const total = list.reduce((sum, task) => sum + (estimate.get(task.id) ?? 0), 0);
      const finished = list
        .filter((task) => done(task.id))
        .reduce((sum, task) => sum + (estimate.get(task.id) ?? 0), 0);
      return total === 0 ? 1 : finished / total;
    };
    return {
      phaseDone: new Map(plan.phases.map((phase) => [phase.id, share(phase.tasks)])),
      passed: new Set(
        plan.phases
          .filter((phase) => snapshot.phases.get(phase.id)?.status === 'passed')
          .map((phase) => phase.id),
      ),
      planDone: share(tasks),
    };
  };
  return async (finishing) => {
    if (metrics.courses.length === 0) return;
    const snapshot = (await ports.store.snapshot(project)) as ProjectSnapshot;
    if (finishing) {
      // CI posts before the last task of a phase closes, so its gate sees where the work ended;
      // the other tasks' effect shows at the next daily posting.
      const open = phaseOf
        .get(finishing)
        ?.tasks.filter((task) => snapshot.tasks.get(task.id)?.status !== 'done');
      if (open?.length !== 1) return;
    }
    await recordMetrics(ports, { project, metrics: metrics.next(workOf(snapshot, finishing)) });
  };
}

/**
 * A working day's steps in the order they happen: the stale-work sweep at 08:00, the plan's
 * schedules at their times, the team's rounds, the daily metrics at 12:00; at one time, the
 * sweep first, then the rounds and metrics, then the schedules.
 */
function stepsOfDay(
  plan: Plan,
  date: string,
  local: (date: string, time: string) => Date,
  run: {
    sweep(): Promise<unknown>;
    job(schedule: string, at: Date): Promise<void>;
    round(round: number): Promise<void>;
    metrics(): Promise<void>;
  },
): Step[] {
  const dayStart = local(date, '00:00');
  const dayEnd = local(date, '23:59');
  const steps: Step[] = [];
  for (const schedule of plan.schedules) {
    for (const at of nextFireTimes(plan, schedule, new Date(dayStart.getTime() - 1), 8)) {
      if (at > dayEnd) break;
      steps.push({ at, order: 2, run: () => run.job(schedule.id, at) });
    }
  }
  steps.push({ at: local(date, '08:00'), order: 0, run: async () => void (await run.sweep()) });
  ROUNDS.forEach((time, round) => {
    steps.push({ at: local(date, time), order: 1, run: () => run.round(round) });
  });
  // The team's daily numbers (CI, dashboards), besides the ones posted as each task closes.
  steps.push({ at: local(date, '12:00'), order: 1, run: () => run.metrics() });
  return steps.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
}

function summaryOf(plan: Plan, days: number, posts: number, snapshot: ProjectSnapshot): SimulationSummary {
  const final = progressOf(plan, snapshot);
  const phases = Object.entries(final.phases).map(([id, status]) => ({ id, status }));
  return {
    days,
    posts,
    tasks: final.tasks,
    tasksDone: final.tasksDone,
    phasesPassed: phases.filter((phase) => phase.status === 'passed').length,
    phases,
  };
}

/** The `--json` document: the run's parameters, every day's record and the final state. */
function simulationDocument(
  plan: Plan,
  options: SimulateOptions,
  summary: SimulationSummary,
  days: readonly SimulatedDay[],
) {
  return {
    project: plan.project.id,
    plan: options.planFile,
    seed: options.seed ?? 1,
    timezone: plan.project.timezone,
    days,
    summary: {
      days: summary.days,
      posts: summary.posts,
      tasksDone: summary.tasksDone,
      tasks: summary.tasks,
      phasesPassed: summary.phasesPassed,
    },
    phases: summary.phases,
  };
}

function progressOf(plan: Plan, snapshot: ProjectSnapshot) {
  const tasks = plan.phases.flatMap((phase) => phase.tasks);
  return {
    tasks: tasks.length,
    tasksDone: tasks.filter((task) => snapshot.tasks.get(task.id)?.status === 'done').length,
    phases: Object.fromEntries(
      plan.phases.map((phase) => [phase.id, snapshot.phases.get(phase.id)?.status ?? 'pending']),
    ),
  };
}

/**
 * A plan that names no Slack channel posts nothing, deployed; the simulation shows its posts as
 * posted to `#<project id>`, so there is something to see.
 */
function withChannel(plan: Plan): { plan: Plan; defaultedChannel?: string } {
  const slack = plan.integrations.slack;
  if (slack?.channel) return { plan };
  const channel = `#${plan.project.id}`;
  return {
    plan: {
      ...plan,
      integrations: {
        ...plan.integrations,
        slack: { ...slack, channel, escalations: slack?.escalations ?? channel },
      },
    },
    defaultedChannel: channel,
  };
}

async function readPlan(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SimulationError(`cannot read the plan ${file}: ${(error as Error).message}`);
  }
  const parsed = parsePlan(text, { file });
  if (!parsed.ok)
    throw new SimulationError(`the plan is invalid:\n${parsed.errors.map(formatPlanError).join('\n')}`);
  return parsed.plan;
}

const weekdayName = (date: string) =>
  new Intl.DateTimeFormat('en-GB', { weekday: 'short', timeZone: 'UTC' }).format(
    new Date(`${date}T12:00:00Z`),
  );
