import type { PhaseStatus, TaskState } from '../coordination/model.js';
import { fnv1a32 } from '../hash.js';
import {
  analysePlan,
  MINUTES_PER_WORKING_DAY,
  type Plan,
  type PlanAnalysis,
  WorkingCalendar,
  workingMinutes,
} from '../plan/index.js';
import { doneInstant } from './burndown.js';
import {
  addDays,
  countedOffset,
  formatDay,
  isoWeek,
  lastWorkingOffset,
  localDate,
  workingDaysBetween,
} from './dates.js';

/**
 * Velocity, throughput and the Monte Carlo forecast of the finish date. Work is counted in
 * estimate-days (a task's estimate in working days of 8h, whatever the task took); internally in
 * whole working minutes, so sums are exact and a constant throughput gives the arithmetic answer.
 */

const toMinutes = (days: number) => Math.max(0, Math.round(days * MINUTES_PER_WORKING_DAY));
const toDays = (minutes: number) => minutes / MINUTES_PER_WORKING_DAY;

/** mulberry32: a small, fast, seedable PRNG with a 2^32 period; plenty for 10,000 trials. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A stable 32-bit seed from text, so a re-run of the same report gives the same dates. */
export const seedFrom = fnv1a32;

interface TaskProgressInput {
  readonly plan: Plan;
  readonly tasks: ReadonlyMap<string, TaskState>;
  readonly now: Date;
  readonly calendar?: WorkingCalendar;
}

/**
 * Each done task's estimate (minutes) and the working day it counts for (`countedOffset`: the day
 * it was done in the project's time zone, or the last working day before it).
 */
function finishedTasks(plan: Plan, tasks: ReadonlyMap<string, TaskState>, calendar: WorkingCalendar) {
  const result: { id: string; minutes: number; offset: number }[] = [];
  for (const phase of plan.phases)
    for (const task of phase.tasks) {
      const done = doneInstant(tasks.get(task.id));
      if (done !== undefined)
        result.push({
          id: task.id,
          minutes: workingMinutes(task.estimate),
          offset: countedOffset(calendar, localDate(done, plan.project.timezone)),
        });
    }
  return result;
}

/** The estimate of the tasks that are not done, in estimate-days. */
export function remainingEstimate(plan: Plan, tasks: ReadonlyMap<string, TaskState>): number {
  let minutes = 0;
  for (const phase of plan.phases)
    for (const task of phase.tasks)
      if (tasks.get(task.id)?.status !== 'done') minutes += workingMinutes(task.estimate);
  return toDays(minutes);
}

export interface WeekVelocity {
  /** ISO week, `2026-W03`. */
  readonly week: string;
  readonly monday: string;
  /** Estimate-days the baseline plans to finish that week (by each task's planned finish date). */
  readonly planned: number;
  /** Estimate-days finished that week (by the working day each counts for, `countedOffset`). */
  readonly finished: number;
  readonly tasks: number;
}

/**
 * Velocity per ISO week, from the week of the project's first working day to the current week,
 * weeks with nothing finished included. A task counts for the week of the working day it counts for
 * (`countedOffset`): work done on a weekend counts in the week of its Friday, work done before the
 * project starts in its first week.
 */
export function velocityByWeek(
  input: TaskProgressInput & { readonly baseline?: PlanAnalysis },
): WeekVelocity[] {
  const { plan } = input;
  const calendar = input.calendar ?? new WorkingCalendar(plan.project);
  const baseline = input.baseline ?? analysePlan(plan);
  const today = localDate(input.now, plan.project.timezone);
  const first = isoWeek(calendar.start).monday;
  const last = isoWeek(today).monday;
  if (last < first) return [];
  const count = Math.round((Date.parse(last) - Date.parse(first)) / (7 * 86_400_000)) + 1;
  const weekIndex = (date: string) =>
    Math.max(0, Math.round((Date.parse(isoWeek(date).monday) - Date.parse(first)) / (7 * 86_400_000)));
  const planned = new Float64Array(count);
  const finished = new Float64Array(count);
  const tasks = new Int32Array(count);
  for (const phase of plan.phases)
    for (const task of phase.tasks) {
      const schedule = baseline.tasks[task.id];
      if (!schedule) continue;
      const index = weekIndex(schedule.finish);
      if (index < count) planned[index] = (planned[index] as number) + workingMinutes(task.estimate);
    }
  for (const task of finishedTasks(plan, input.tasks, calendar)) {
    const index = weekIndex(calendar.dateAt(task.offset));
    if (index >= count) continue;
    finished[index] = (finished[index] as number) + task.minutes;
    tasks[index] = (tasks[index] as number) + 1;
  }
  return Array.from({ length: count }, (_, i) => {
    const monday = addDays(first, 7 * i);
    return {
      week: isoWeek(monday).week,
      monday,
      planned: toDays(planned[i] as number),
      finished: toDays(finished[i] as number),
      tasks: tasks[i] as number,
    };
  });
}

export interface ThroughputHistory {
  /** The first and last working day of the window; absent when the project has not started. */
  readonly from?: string;
  readonly to?: string;
  /** Estimate-days finished on each working day of the window, oldest first, zeros included. */
  readonly days: readonly { readonly date: string; readonly finished: number }[];
}

/** Working days of throughput history a forecast draws from by default: four weeks. */
export const DEFAULT_HISTORY_DAYS = 20;

/**
 * Estimate-days finished per working day over the last `days` working days up to today (today
 * included: reports that forecast run at the end of the day), never before the project's first
 * working day. Work done on a non-working day counts for the last working day before it
 * (`countedOffset`), so on a Sunday the window ends on Friday and holds the weekend's work.
 */
export function dailyThroughput(input: TaskProgressInput & { readonly days?: number }): ThroughputHistory {
  const { plan } = input;
  const calendar = input.calendar ?? new WorkingCalendar(plan.project);
  const end = lastWorkingOffset(calendar, localDate(input.now, plan.project.timezone));
  if (end < 0) return { days: [] };
  const start = Math.max(0, end - Math.max(1, input.days ?? DEFAULT_HISTORY_DAYS) + 1);
  const minutes = new Float64Array(end - start + 1);
  for (const task of finishedTasks(plan, input.tasks, calendar)) {
    // Work done before the window's first day is outside it, except before the project start.
    const offset = task.offset;
    if (offset < start || offset > end) continue;
    minutes[offset - start] = (minutes[offset - start] as number) + task.minutes;
  }
  const days = Array.from(minutes, (value, i) => ({
    date: calendar.dateAt(start + i),
    finished: toDays(value),
  }));
  return { from: calendar.dateAt(start), to: calendar.dateAt(end), days };
}

export interface ForecastPercentile {
  readonly percentile: 50 | 85 | 95;
  /** The finish date; with `beyondHorizon`, the forecast is only that it is after this date. */
  readonly date: string;
  /** Working days from today to `date`. */
  readonly workingDays: number;
  readonly beyondHorizon: boolean;
}

interface ForecastBase {
  /** Estimate-days left. */
  readonly remaining: number;
  /** Working days of history drawn from. */
  readonly sampleSize: number;
  /** Mean estimate-days finished per working day over the history. */
  readonly meanPerDay: number;
}

export type Forecast =
  | (ForecastBase & {
      readonly status: 'forecast';
      readonly trials: number;
      readonly seed: number;
      readonly p50: ForecastPercentile;
      readonly p85: ForecastPercentile;
      readonly p95: ForecastPercentile;
      /** How the dates were computed, with the trials and the sample size, for the report. */
      readonly method: string;
    })
  /** Nothing remains. */
  | (ForecastBase & { readonly status: 'finished'; readonly reason: string })
  /** No forecast can be made (no history, nothing finished in it, a pace of more than ten years). */
  | (ForecastBase & { readonly status: 'unavailable'; readonly reason: string });

export interface ForecastInput {
  /** Estimate-days left (rounded to whole working minutes). */
  readonly remaining: number;
  /** Estimate-days finished per working day, oldest first, zeros included. */
  readonly history: readonly number[];
  readonly calendar: WorkingCalendar;
  /** `YYYY-MM-DD` in the project's time zone. The remaining work starts on the next working day. */
  readonly today: string;
  /** @default 10_000 */
  readonly trials?: number;
  /** @default a hash of the calendar start and today, so a re-run gives the same dates */
  readonly seed?: number;
  /** Names the history window in the method sentence, e.g. `Dec 22 – Jan 16`. */
  readonly historyLabel?: string;
}

export const DEFAULT_TRIALS = 10_000;
/** A trial gives up after this many working days (about ten years): the loop always ends. */
export const HORIZON_WORKING_DAYS = 2_600;
const PERCENTILES = [50, 85, 95] as const;

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/**
 * When the remaining work will be finished, by Monte Carlo simulation over the daily throughput
 * history: each trial draws, for every working day after today, one day of the history at random
 * (with replacement) and adds what was finished on it, until the remaining estimate is reached.
 * The finish of a trial that needs k days is the k-th working day after today (the remaining work
 * starts on the next working day; today's work is history). P50/P85/P95 are nearest-rank
 * percentiles of the trials' finish dates. With a constant history c, every trial needs exactly
 * ceil(remaining / c) days. Deterministic for a seed.
 */
export function forecastFinish(input: ForecastInput): Forecast {
  const [forecast] = forecastMany({ ...input, remaining: [input.remaining] });
  return forecast as Forecast;
}

/**
 * `forecastFinish` for several amounts of remaining work, each from the same trials: a phase
 * forecast and the project forecast agree with each other and with `forecastFinish` alone.
 */
export function forecastMany(
  input: Omit<ForecastInput, 'remaining'> & { readonly remaining: readonly number[] },
): Forecast[] {
  const samples = input.history.map(toMinutes);
  const sampleSize = samples.length;
  const meanMinutes = sampleSize === 0 ? 0 : samples.reduce((sum, value) => sum + value, 0) / sampleSize;
  const meanPerDay = toDays(meanMinutes);
  const trials = Math.max(1, Math.floor(input.trials ?? DEFAULT_TRIALS));
  const seed = (input.seed ?? seedFrom(`${input.calendar.start}:${input.today}`)) >>> 0;
  const targets = input.remaining.map(toMinutes);
  const base = (minutes: number) => ({ remaining: toDays(minutes), sampleSize, meanPerDay });

  const unavailable = (minutes: number): string | undefined => {
    if (sampleSize === 0)
      return 'there is no throughput history yet (the project has no working days behind it)';
    if (meanMinutes === 0)
      return `nothing was finished in the ${sampleSize} working day${sampleSize === 1 ? '' : 's'} of history, so there is no pace to project`;
    if (minutes / meanMinutes > HORIZON_WORKING_DAYS)
      return `at the recent pace of ${number.format(meanPerDay)} estimate-days a day, the ${number.format(toDays(minutes))} estimate-days remaining would take more than ten years`;
    return undefined;
  };
  const simulated = targets
    .map((minutes, index) => ({ minutes, index }))
    .filter(({ minutes }) => minutes > 0 && unavailable(minutes) === undefined);

  // The first working day after today: the remaining work starts there.
  const firstFuture = lastWorkingOffset(input.calendar, input.today) + 1;
  const percentile = (sorted: Int32Array, p: (typeof PERCENTILES)[number]): ForecastPercentile => {
    const needed = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
    const beyondHorizon = needed > HORIZON_WORKING_DAYS;
    const workingDays = Math.min(needed, HORIZON_WORKING_DAYS);
    return {
      percentile: p,
      date: input.calendar.dateAt(firstFuture + workingDays - 1),
      workingDays,
      beyondHorizon,
    };
  };

  const results: Forecast[] = targets.map((minutes) => {
    if (minutes <= 0) return { status: 'finished', ...base(0), reason: 'every task is done' };
    return { status: 'unavailable', ...base(minutes), reason: unavailable(minutes) ?? '' };
  });
  for (const { minutes, index } of simulated) {
    // Every target replays the same trials (the same draws from the same seed), so a smaller amount
    // of work never finishes later than a larger one, and each agrees with forecastFinish alone.
    const sorted = simulate(minutes, samples, trials, mulberry32(seed)).sort();
    const [p50, p85, p95] = PERCENTILES.map((p) => percentile(sorted, p)) as [
      ForecastPercentile,
      ForecastPercentile,
      ForecastPercentile,
    ];
    const history = input.historyLabel ? ` (${input.historyLabel})` : '';
    results[index] = {
      status: 'forecast',
      ...base(minutes),
      trials,
      seed,
      p50,
      p85,
      p95,
      method:
        `Monte Carlo simulation of ${trials.toLocaleString('en-US')} trials: for each working day after ${formatDay(input.today, input.today)}, ` +
        `a trial draws one day at random (with replacement) from the last ${sampleSize} working day${sampleSize === 1 ? '' : 's'} of throughput${history}, ` +
        `mean ${number.format(meanPerDay)} estimate-days a day, until the ${number.format(toDays(minutes))} estimate-days remaining are done. ` +
        `P50, P85 and P95 are the dates by which 50%, 85% and 95% of the trials finished. Seed ${seed}.`,
    };
  }
  return results;
}

/** Working days each trial needs to finish `target` minutes; horizon + 1 when it does not within it. */
function simulate(
  target: number,
  samples: readonly number[],
  trials: number,
  random: () => number,
): Int32Array {
  const result = new Int32Array(trials);
  const n = samples.length;
  for (let trial = 0; trial < trials; trial++) {
    let done = 0;
    let day = 0;
    while (done < target && day < HORIZON_WORKING_DAYS) {
      done += samples[Math.floor(random() * n)] as number;
      day++;
    }
    result[trial] = done >= target ? day : HORIZON_WORKING_DAYS + 1;
  }
  return result;
}

export interface PhaseSlip {
  readonly phase: string;
  readonly name: string;
  readonly due: string;
  /** Estimate-days left in this phase and the active phases planned to finish before it. */
  readonly remaining: number;
  readonly forecast: Forecast;
  /** Working days the P50 finish is past `due`; negative when it is before. */
  readonly slipDays?: number;
}

export interface ScheduleVariance {
  /** The baseline's planned finish (plan analysis). */
  readonly baselineFinish: string;
  readonly forecast: Forecast;
  /** Working days the P50 finish is after the baseline finish; negative when it is before. */
  readonly varianceDays?: number;
  /** Every active phase with a `due` date. */
  readonly phases: readonly PhaseSlip[];
}

/**
 * The forecast finish against the baseline, and the slip of each active phase against its due date.
 * An active phase is forecast to finish when the team has done its remaining work and that of the
 * active phases planned to finish before it (earlier work first), at the whole team's pace.
 */
export function scheduleVariance(input: {
  readonly plan: Plan;
  readonly tasks: ReadonlyMap<string, TaskState>;
  readonly phaseStatus: (phase: string) => PhaseStatus;
  readonly baseline: PlanAnalysis;
  /** `analysePlan(plan)` of the current plan, when the caller has it (orders the active phases). */
  readonly analysis?: PlanAnalysis;
  readonly history: readonly number[];
  readonly calendar: WorkingCalendar;
  readonly today: string;
  readonly trials?: number;
  readonly seed?: number;
  readonly historyLabel?: string;
}): ScheduleVariance {
  const { plan, baseline } = input;
  const current = input.analysis ?? analysePlan(plan);
  const active = plan.phases
    .filter((phase) => input.phaseStatus(phase.id) === 'active')
    .map((phase) => {
      let minutes = 0;
      for (const task of phase.tasks)
        if (input.tasks.get(task.id)?.status !== 'done') minutes += workingMinutes(task.estimate);
      return { phase, minutes, plannedFinish: current.phases[phase.id]?.earliestFinish ?? 0 };
    })
    .sort((a, b) => a.plannedFinish - b.plannedFinish);
  let cumulative = 0;
  const phases = active.map((entry) => {
    cumulative += entry.minutes;
    return { ...entry, cumulative };
  });
  const [project, ...perPhase] = forecastMany({
    ...input,
    remaining: [remainingEstimate(plan, input.tasks), ...phases.map((entry) => toDays(entry.cumulative))],
  }) as [Forecast, ...Forecast[]];
  const finishOf = (forecast: Forecast) =>
    forecast.status === 'forecast'
      ? forecast.p50.date
      : forecast.status === 'finished'
        ? input.today
        : undefined;
  const projectFinish = finishOf(project);
  return {
    baselineFinish: baseline.finish,
    forecast: project,
    ...(projectFinish === undefined
      ? {}
      : { varianceDays: workingDaysBetween(input.calendar, baseline.finish, projectFinish) }),
    phases: phases.flatMap((entry, i) => {
      const due = entry.phase.due;
      if (due === undefined) return [];
      const forecast = perPhase[i] as Forecast;
      const finish = finishOf(forecast);
      return [
        {
          phase: entry.phase.id,
          name: entry.phase.name,
          due,
          remaining: toDays(entry.cumulative),
          forecast,
          ...(finish === undefined ? {} : { slipDays: workingDaysBetween(input.calendar, due, finish) }),
        },
      ];
    }),
  };
}
