import type { TaskState } from '../coordination/model.js';
import {
  analysePlan,
  MINUTES_PER_WORKING_DAY,
  type Plan,
  type PlanAnalysis,
  WorkingCalendar,
  workingMinutes,
} from '../plan/index.js';
import { countedOffset, lastWorkingOffset, localDate } from './dates.js';

export interface BurndownPoint {
  /** A working day, `YYYY-MM-DD`. */
  readonly date: string;
  /** Its working-day offset from the project's first working day. */
  readonly day: number;
  /** Where the remaining estimate should be on that day, in estimate-days. */
  readonly ideal: number;
  /** The estimate of the tasks not done by the end of that day; only up to today. */
  readonly remaining?: number;
}

/** Remaining estimate against the ideal line, one point per working day. */
export interface BurndownSeries {
  readonly project: string;
  /** The sum of every task's estimate, in estimate-days (working days of 8h). */
  readonly total: number;
  /** The project's first working day. */
  readonly start: string;
  /** The planned finish (plan analysis): where the ideal line reaches zero. */
  readonly plannedFinish: string;
  readonly today: string;
  readonly points: readonly BurndownPoint[];
  /** The remaining estimate at the last point up to today (the total before the project starts). */
  readonly remaining: number;
  /** The ideal remaining at that point. */
  readonly ideal: number;
}

/** A series never runs longer than this past the planned finish: about four years of working days. */
const MAX_POINTS = 1_000;

/** When a done task became done: `doneAt`, or `updatedAt` for state written before `doneAt` existed. */
export function doneInstant(state: TaskState | undefined): string | undefined {
  if (state?.status !== 'done') return undefined;
  return state.doneAt ?? state.updatedAt;
}

export interface BurndownInput {
  readonly plan: Plan;
  readonly tasks: ReadonlyMap<string, TaskState>;
  readonly now: Date;
  /** `analysePlan(plan)`, when the caller has it already. */
  readonly analysis?: PlanAnalysis;
  readonly calendar?: WorkingCalendar;
}

/**
 * The burndown from the plan and the task state, per working day from the project's first working
 * day to the later of today and the planned finish. The ideal line runs straight from the total
 * estimate on the first working day to zero on the planned finish date; the actual line is, for each
 * working day up to today, the estimate of the tasks not done by the end of that day (by `doneAt`,
 * in the project's time zone; work done on a non-working day counts for the last working day before
 * it, so on a weekend today's point holds everything done so far). Linear in tasks plus days.
 */
export function buildBurndown(input: BurndownInput): BurndownSeries {
  const { plan } = input;
  const calendar = input.calendar ?? new WorkingCalendar(plan.project);
  const analysis = input.analysis ?? analysePlan(plan);
  const timeZone = plan.project.timezone;
  const today = localDate(input.now, timeZone);
  const todayOffset = lastWorkingOffset(calendar, today);
  const finishOffset = calendar.offsetOf(analysis.finish);
  const lastOffset = Math.min(Math.max(finishOffset, todayOffset), finishOffset + MAX_POINTS);
  const actualsUntil = Math.min(todayOffset, lastOffset);

  let total = 0;
  const finished = new Float64Array(lastOffset + 1);
  for (const phase of plan.phases) {
    for (const task of phase.tasks) {
      const minutes = workingMinutes(task.estimate);
      total += minutes;
      const done = doneInstant(input.tasks.get(task.id));
      if (done === undefined) continue;
      const offset = countedOffset(calendar, localDate(done, timeZone));
      if (offset <= actualsUntil) finished[offset] = (finished[offset] as number) + minutes;
    }
  }

  const points: BurndownPoint[] = [];
  let remaining = total;
  for (let day = 0; day <= lastOffset; day++) {
    const ideal = finishOffset === 0 ? 0 : Math.max(0, total * (1 - day / finishOffset));
    const point: BurndownPoint = { date: calendar.dateAt(day), day, ideal: ideal / MINUTES_PER_WORKING_DAY };
    if (day <= actualsUntil) {
      remaining -= finished[day] as number;
      points.push({ ...point, remaining: remaining / MINUTES_PER_WORKING_DAY });
    } else points.push(point);
  }
  const current = actualsUntil >= 0 ? points[actualsUntil] : undefined;
  return {
    project: plan.project.id,
    total: total / MINUTES_PER_WORKING_DAY,
    start: calendar.start,
    plannedFinish: analysis.finish,
    today,
    points,
    remaining: current?.remaining ?? total / MINUTES_PER_WORKING_DAY,
    ideal: current?.ideal ?? total / MINUTES_PER_WORKING_DAY,
  };
}
