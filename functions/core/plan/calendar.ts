import { WEEKDAYS, type Weekday } from './lexical.js';

const DAY_MS = 86_400_000;

/** Day of week of a `YYYY-MM-DD` date: the calendar itself, independent of any time zone. */
export function weekdayOf(date: string): Weekday {
  const utc = Date.parse(`${date}T00:00:00Z`);
  return WEEKDAYS[(new Date(utc).getUTCDay() + 6) % 7] as Weekday;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The project's working days: its workdays minus its holidays, counted from the first working day on
 * or after the project start. Offset 0 is that first day. Dates are computed lazily and cached.
 */
export class WorkingCalendar {
  private readonly days: string[] = [];
  private readonly workdays: ReadonlySet<Weekday>;
  private readonly holidays: ReadonlySet<string>;
  private cursor: string;

  constructor(project: {
    readonly start: string;
    readonly workdays: readonly Weekday[];
    readonly holidays: readonly string[];
  }) {
    if (project.workdays.length === 0) throw new RangeError('a calendar needs at least one working day');
    this.workdays = new Set(project.workdays);
    this.holidays = new Set(project.holidays);
    this.cursor = project.start;
  }

  isWorkingDay(date: string): boolean {
    return this.workdays.has(weekdayOf(date)) && !this.holidays.has(date);
  }

  /** The date of working-day offset `offset` (0 = the first working day). */
  dateAt(offset: number): string {
    if (!Number.isInteger(offset) || offset < 0)
      throw new RangeError(`working-day offset must be a whole number ≥ 0, got ${offset}`);
    while (this.days.length <= offset) {
      // Holidays can only remove a bounded number of days, so this always advances.
      if (this.isWorkingDay(this.cursor)) this.days.push(this.cursor);
      this.cursor = addDays(this.cursor, 1);
    }
    return this.days[offset] as string;
  }

  /** The first working day on or after the project start. */
  get start(): string {
    return this.dateAt(0);
  }

  /** Working-day offset of a date: how many working days from the start come before it. */
  offsetOf(date: string): number {
    let low = 0;
    let high = 1;
    while (this.dateAt(high) < date) high *= 2;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.dateAt(middle) < date) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
