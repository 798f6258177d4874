import { addDays, WorkingCalendar, weekdayOf } from '../plan/calendar.js';
import { WEEKDAYS, type Weekday } from '../plan/lexical.js';
import type { Plan, Schedule } from '../plan/schema.js';

/**
 * When a plan's schedules run (docs/plan-format.md, "schedules"): at `schedule.at` in the project time zone,
 * on `schedule.days`, never on a non-working day or a holiday, and with `every: N` only on every Nth
 * working day, counted from the project's first working day (day 0, so days 0, N, 2N… run).
 *
 * Nothing runs before the project's first working day: the schedules belong to the project, and a
 * standup before day 0 would report on work that has not started.
 *
 * Daylight saving follows what EventBridge Scheduler documents for cron schedules with a time zone, so
 * the deployed schedules and `convoy dev` agree: "When the time shifts forward in Spring, your schedule
 * invocation gets skipped if the cron expression falls on a non-existent date and time. When the time
 * shifts back in the Fall, your schedule runs only once and doesn't repeat its invocation."
 * (https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst; also the user guide,
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html, "Daylight savings time").
 * So a 02:30 schedule does not run on the day 02:00 jumps to 03:00, and a 01:30 schedule runs once on
 * the day 02:00 falls back to 01:00. AWS does not say which of the two 01:30s it uses; these functions
 * predict the first, and {@link isScheduledRun} accepts either, since only one of them ever arrives.
 *
 * Pure: time zones come from `Intl`, the clock from the caller.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A fixed-rate monitor of the runtime: the CDK schedules it and `convoy dev` ticks it. */
export interface Monitor {
  readonly name: string;
  /** Minutes between two runs. */
  readonly everyMinutes: number;
  readonly description: string;
}

/** The monitors Convoy runs over every project, independent of any plan's schedules. */
export const MONITORS = [
  {
    name: 'heartbeats',
    everyMinutes: 1,
    description: 'Heartbeat monitor (agent.down and back up) and the computed metrics',
  },
  {
    name: 'stale-work',
    everyMinutes: 15,
    description: 'Stale-work sweep: tasks in progress or in review with no activity for 24h',
  },
] as const satisfies readonly Monitor[];

export type MonitorName = (typeof MONITORS)[number]['name'];

/** An instant as read on the wall clock of a time zone. */
export interface LocalTime {
  /** `YYYY-MM-DD`. */
  readonly date: string;
  /** `HH:MM`, 24-hour. */
  readonly time: string;
  readonly weekday: Weekday;
  /** Local time minus UTC, in minutes: -300 for New York in winter. */
  readonly offsetMinutes: number;
}

/** The answer of {@link isScheduledRun}: act, or say in a log line why not. */
export type ScheduledRunDecision = { readonly run: true } | { readonly run: false; readonly reason: string };

/** The fields `ScheduleExpression.cron` takes, and the expression EventBridge Scheduler stores. */
export interface ScheduleCron {
  readonly minute: string;
  readonly hour: string;
  /** `MON-FRI`, `FRI`, `MON,WED,FRI` or `*`. */
  readonly weekDay: string;
  /** IANA name: the project time zone. */
  readonly timeZone: string;
  /** `cron(0 9 ? * MON-FRI *)`. */
  readonly expression: string;
}

/**
 * The next `count` instants strictly after `from` at which `schedule` runs, earliest first. Fewer when
 * the schedule can never run again (its days are no working days, or its `every` never lands on them).
 */
export function nextFireTimes(plan: Plan, schedule: Schedule, from: Date, count: number): Date[] {
  const after = instantMillis(from, 'from');
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);
  const rhythm = new Rhythm(plan, schedule);
  const fires: Date[] = [];
  if (count === 0 || !rhythm.mayRun) return fires;

  let date = maxDate(localTime(from, rhythm.timeZone).date, rhythm.firstDay);
  let offset = rhythm.calendar.offsetOf(date);
  // Past the last holiday the calendar repeats every 7·every days; a whole period without a run means
  // the schedule never runs again.
  let quietDays = 0;
  while (fires.length < count && quietDays <= 7 * rhythm.every) {
    const working = rhythm.calendar.isWorkingDay(date);
    if (working && rhythm.runsOn(date, offset)) {
      quietDays = 0;
      const [instant] = instantsAt(date, schedule.at, rhythm.timeZone);
      if (instant !== undefined && instant.getTime() > after) fires.push(instant);
    } else if (date > rhythm.lastIrregularDay) {
      quietDays++;
    }
    if (working) offset++;
    date = addDays(date, 1);
  }
  return fires;
}

/** The latest instant strictly before `before` at which `schedule` ran: "since the last standup". */
export function previousFireTime(plan: Plan, schedule: Schedule, before: Date): Date | undefined {
  const until = instantMillis(before, 'before');
  const rhythm = new Rhythm(plan, schedule);
  if (!rhythm.mayRun) return undefined;
  let date = localTime(before, rhythm.timeZone).date;
  // Working days up to and including `date`: the offset of the latest working day seen, plus one.
  let workingDays = rhythm.calendar.offsetOf(addDays(date, 1));
  for (; date >= rhythm.firstDay; date = addDays(date, -1)) {
    if (!rhythm.calendar.isWorkingDay(date)) continue;
    workingDays--;
    if (!rhythm.runsOn(date, workingDays)) continue;
    const [instant] = instantsAt(date, schedule.at, rhythm.timeZone);
    if (instant !== undefined && instant.getTime() < until) return instant;
  }
  return undefined;
}

/**
 * Whether Convoy acts on a run of `schedule` that EventBridge Scheduler made for `scheduledTime`. The
 * cron ({@link scheduleCron}) fires at `schedule.at` on every one of `schedule.days`; this says no on a
 * holiday, a non-working day, a day the `every` cadence skips, or before the project's first working day.
 * Seconds are ignored: the scheduler invokes within the minute.
 */
export function isScheduledRun(plan: Plan, schedule: Schedule, scheduledTime: Date): ScheduledRunDecision {
  if (Number.isNaN(scheduledTime.getTime()))
    return { run: false, reason: 'the scheduled time is not a valid date' };
  const rhythm = new Rhythm(plan, schedule);
  const local = localTime(scheduledTime, rhythm.timeZone);
  const what = `the ${schedule.id} schedule`;
  if (local.time !== schedule.at)
    return {
      run: false,
      reason: `${local.date} ${local.time} ${rhythm.timeZone} is not when ${what} runs (${schedule.at})`,
    };
  if (local.date < rhythm.firstDay)
    return {
      run: false,
      reason: `${local.date} is before the project's first working day, ${rhythm.firstDay}`,
    };
  if (plan.project.holidays.includes(local.date)) return { run: false, reason: `${local.date} is a holiday` };
  if (!rhythm.calendar.isWorkingDay(local.date))
    return { run: false, reason: `${local.date} is a ${WEEKDAY_NAMES[local.weekday]}, not a working day` };
  if (!schedule.days.includes(local.weekday))
    return {
      run: false,
      reason: `${local.date} is a ${WEEKDAY_NAMES[local.weekday]}; ${what} runs on ${schedule.days.join(', ')}`,
    };
  const offset = rhythm.calendar.offsetOf(local.date);
  if (offset % rhythm.every !== 0)
    return {
      run: false,
      reason:
        `${local.date} is working day ${offset}; ${what} runs every ${ordinal(rhythm.every)} working day ` +
        `(0, ${rhythm.every}, ${2 * rhythm.every}, …)`,
    };
  return { run: true };
}

/**
 * The EventBridge Scheduler cron of `schedule`, evaluated in the project time zone: it fires at
 * `schedule.at` on every one of `schedule.days`, and {@link isScheduledRun} filters the rest.
 */
export function scheduleCron(plan: Plan, schedule: Schedule): ScheduleCron {
  const [hour = '0', minute = '0'] = schedule.at.split(':').map((part) => String(Number(part)));
  const weekDay = weekDayField(schedule.days);
  return {
    minute,
    hour,
    weekDay,
    timeZone: plan.project.timezone,
    expression: `cron(${minute} ${hour} ? * ${weekDay} *)`,
  };
}

/** `instant` on the wall clock of `timeZone`. */
export function localTime(instant: Date, timeZone: string): LocalTime {
  const millis = Math.floor(instantMillis(instant, 'instant') / 1000) * 1000;
  const wall = wallClock(millis, timeZone);
  const text = new Date(wall).toISOString();
  const date = text.slice(0, 10);
  return {
    date,
    time: text.slice(11, 16),
    weekday: weekdayOf(date),
    offsetMinutes: Math.round((wall - millis) / MINUTE_MS),
  };
}

/**
 * The instants at which the wall clock of `timeZone` reads `date` `time` (`HH:MM`), earliest first: one
 * on most days, none in a spring-forward gap, two in a fall-back overlap.
 */
export function instantsAt(date: string, time: string, timeZone: string): Date[] {
  const wall = Date.parse(`${date}T${time}:00Z`);
  if (Number.isNaN(wall)) throw new RangeError(`invalid local date and time "${date} ${time}"`);
  const found = new Set<number>();
  // The offsets in force a day either side cover both sides of any transition near this time.
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const candidate = wall - (wallClock(probe, timeZone) - probe);
    if (wallClock(candidate, timeZone) === wall) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b).map((millis) => new Date(millis));
}

/** What every question about one schedule needs: its calendar and cadence. */
class Rhythm {
  readonly calendar: WorkingCalendar;
  readonly timeZone: string;
  readonly every: number;
  /** The project's first working day: day 0. */
  readonly firstDay: string;
  /** After this date no holiday changes the weekly pattern. */
  readonly lastIrregularDay: string;
  /** False when no working day is one of the schedule's days. */
  readonly mayRun: boolean;
  private readonly days: ReadonlySet<Weekday>;

  constructor(plan: Plan, schedule: Schedule) {
    this.calendar = new WorkingCalendar(plan.project);
    this.timeZone = plan.project.timezone;
    this.every = schedule.every ?? 1;
    this.days = new Set(schedule.days);
    this.firstDay = this.calendar.start;
    this.lastIrregularDay = plan.project.holidays.reduce(maxDate, this.firstDay);
    this.mayRun = plan.project.workdays.some((day) => this.days.has(day));
  }

  /** Whether the schedule runs on working day `date`, whose working-day offset is `offset`. */
  runsOn(date: string, offset: number): boolean {
    return this.days.has(weekdayOf(date)) && offset % this.every === 0;
  }
}

const WEEKDAY_NAMES: Readonly<Record<Weekday, string>> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/**
 * The day-of-week field. EventBridge numbers the days SUN=1 … SAT=7, so a range through Sunday would
 * wrap; ranges are only used for three or more consecutive days from Monday to Saturday.
 */
function weekDayField(days: readonly Weekday[]): string {
  const listed = WEEKDAYS.filter((day) => days.includes(day));
  if (listed.length === WEEKDAYS.length) return '*';
  const names = listed.map((day) => day.toUpperCase());
  const indexes = listed.map((day) => WEEKDAYS.indexOf(day));
  const consecutive = indexes.every((index, i) => i === 0 || index === (indexes[i - 1] as number) + 1);
  return consecutive && names.length >= 3 && !listed.includes('sun')
    ? `${names[0]}-${names[names.length - 1]}`
    : names.join(',');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading of `millis` in `timeZone`, as the epoch milliseconds of that reading in UTC. */
function wallClock(millis: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of format.formatToParts(millis)) fields[part.type] = Number(part.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function instantMillis(instant: Date, name: string): number {
  const millis = instant.getTime();
  if (Number.isNaN(millis)) throw new RangeError(`${name} must be a valid date`);
  return millis;
}

function maxDate(a: string, b: string): string {
  return a > b ? a : b;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
