import { WEEKDAYS, type Weekday } from './lexical.js';

const DAY_MS = 86_400_000;
/** Day number (days since 1970-01-01) of Monday 1970-01-05: weeks are counted from a Monday. */
const MONDAY = 4;
/** 0000-01-01 and 9999-12-31: the dates `YYYY-MM-DD` can write. */
const FIRST_DAY = Date.parse('0000-01-01T00:00:00Z') / DAY_MS;
const LAST_DAY = Date.parse('9999-12-31T00:00:00Z') / DAY_MS;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
function dayNumber(date: string): number {
  const millis = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(millis)) throw new RangeError(`invalid date "${date}" (expected YYYY-MM-DD)`);
  return millis / DAY_MS;
}

/** The `YYYY-MM-DD` date of a day number; a RangeError past the years 0000–9999 instead of a wrong date. */
function dateOf(day: number): string {
  if (!(day >= FIRST_DAY && day <= LAST_DAY))
    throw new RangeError(`day ${day} is outside the years 0000–9999 a YYYY-MM-DD date can name`);
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Monday-based weekday index (0 = mon … 6 = sun) of a day number. */
const weekdayIndex = (day: number) => (((day - MONDAY) % 7) + 7) % 7;

/** Day of week of a `YYYY-MM-DD` date: the calendar itself, independent of any time zone. */
export function weekdayOf(date: string): Weekday {
  return WEEKDAYS[weekdayIndex(dayNumber(date))] as Weekday;
}

export function addDays(date: string, days: number): string {
  return dateOf(dayNumber(date) + days);
}

/**
 * The project's working days: its workdays minus its holidays, counted from the first working day on
 * or after the project start. Offset 0 is that first day.
 *
 * Everything is arithmetic on day numbers, never a walk over the days: the working days before a
 * date are whole weeks times the workdays per week, plus the workdays of the partial week, minus
 * the holidays before it that fall on a workday (a binary search). `offsetOf` is O(log holidays),
 * `dateAt` a binary search over that count, so a plan of any length costs the same
 * (docs/plan-format.md, "Schedule analysis").
 */
export class WorkingCalendar {
  private readonly workdays: ReadonlySet<Weekday>;
  private readonly dates = new Map<number, string>();
  private readonly holidays: ReadonlySet<string>;
  /** `before[k]`: how many of the weekday indexes 0 … k−1 are workdays. */
  private readonly before: Int32Array;
  private readonly perWeek: number;
  /** Day numbers of the holidays that fall on a workday, ascending, without duplicates. */
  private readonly closed: Float64Array;
  private readonly firstDay: number;
  /** Working days before the first working day, by {@link count}: the origin of the offsets. */
  private readonly origin: number;

  constructor(project: {
    readonly start: string;
    readonly workdays: readonly Weekday[];
    readonly holidays: readonly string[];
  }) {
    if (project.workdays.length === 0) throw new RangeError('a calendar needs at least one working day');
    this.workdays = new Set(project.workdays);
    this.holidays = new Set(project.holidays);
    this.before = new Int32Array(8);
    WEEKDAYS.forEach((weekday, k) => {
      this.before[k + 1] = (this.before[k] as number) + (this.workdays.has(weekday) ? 1 : 0);
    });
    this.perWeek = this.before[7] as number;
    this.closed = Float64Array.from(
      new Set(
        [...this.holidays]
          .map(dayNumber)
          .filter((day) => this.workdays.has(WEEKDAYS[weekdayIndex(day)] as Weekday)),
      ),
    ).sort();
    const start = dayNumber(project.start);
    this.firstDay = this.nthWorkingDayFrom(start, 0);
    this.origin = this.count(this.firstDay);
  }

  isWorkingDay(date: string): boolean {
    return this.workdays.has(weekdayOf(date)) && !this.holidays.has(date);
  }

  /** The date of working-day offset `offset` (0 = the first working day). */
  dateAt(offset: number): string {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`working-day offset must be a whole number ≥ 0, got ${offset}`);
    let date = this.dates.get(offset);
    if (date === undefined) {
      date = dateOf(this.nthWorkingDayFrom(this.firstDay, offset));
      // An analysis asks for the same few hundred dates thousands of times; the memo stays bounded.
      if (this.dates.size >= 4096) this.dates.clear();
      this.dates.set(offset, date);
    }
    return date;
  }

  /** The first working day on or after the project start. */
  get start(): string {
    return dateOf(this.firstDay);
  }

  /** Working-day offset of a date: how many working days from the start come before it. */
  offsetOf(date: string): number {
    return Math.max(0, this.count(dayNumber(date)) - this.origin);
  }

  /** Working days before day number `day`, counted from an arbitrary fixed origin (may be negative). */
  private count(day: number): number {
    const weeks = Math.floor((day - MONDAY) / 7);
    const workdays = weeks * this.perWeek + (this.before[weekdayIndex(day)] as number);
    return workdays - this.closedBefore(day);
  }

  /** How many closed days (holidays on a workday) come before day number `day`. */
  private closedBefore(day: number): number {
    let low = 0;
    let high = this.closed.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.closed[middle] as number) < day) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The day number of the working day `n` working days after the first one on or after `from`. */
  private nthWorkingDayFrom(from: number, n: number): number {
    // Each working day is a day of its own, so the answer is at least `from + n`.
    if (from + n > LAST_DAY)
      throw new RangeError(
        `working day ${n} after ${dateOf(from)} is past 9999-12-31, the last date a calendar holds`,
      );
    // The answer is the first day d with count(d + 1) > target. Each week holds `perWeek` working
    // days and each holiday takes away at most one, so the answer lies within these bounds.
    const target = this.count(from) + n;
    let low = from;
    let high = from + 7 * (Math.ceil((n + 1 + this.closed.length) / this.perWeek) + 1);
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (this.count(middle + 1) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
