import { addDays } from '../plan/calendar.js';

export { addDays };

import type { WorkingCalendar } from '../plan/index.js';
import { localTime } from '../schedules/fire-times.js';

/**
 * Calendar arithmetic for reports, always in the project's time zone: a task done at 23:30 in New
 * York on Monday counts for Monday, whatever UTC says.
 */

const DAY_MS = 86_400_000;
/** `YYYY-MM-DD` and `HH:MM` of an instant in a time zone (the schedules' wall clock, one implementation). */
export function localParts(instant: Date | string, timeZone: string): { date: string; time: string } {
  const { date, time } = localTime(typeof instant === 'string' ? new Date(instant) : instant, timeZone);
  return { date, time };
}

export const localDate = (instant: Date | string, timeZone: string) => localParts(instant, timeZone).date;

const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Mon Jan 12`: a date as people write it in a status report. */
export function formatDay(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  return `${WEEKDAY_NAMES[(day.getUTCDay() + 6) % 7]} ${MONTH_NAMES[day.getUTCMonth()]} ${day.getUTCDate()}`;
}

/** `Jan 12`, for chart ticks and tight table cells. */
export function formatShortDay(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  return `${MONTH_NAMES[day.getUTCMonth()]} ${day.getUTCDate()}`;
}

/** `Mon Jan 12 09:00`, in the project's time zone. */
export function formatInstant(instant: Date | string, timeZone: string): string {
  const { date, time } = localParts(instant, timeZone);
  return `${formatDay(date)} ${time}`;
}

/** The ISO 8601 week of a date: `2026-W03`, and the Monday it starts on. */
export function isoWeek(date: string): { readonly week: string; readonly monday: string } {
  const utc = Date.parse(`${date}T00:00:00Z`);
  const weekday = (new Date(utc).getUTCDay() + 6) % 7;
  // The week belongs to the year its Thursday is in.
  const thursday = utc + (3 - weekday) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / DAY_MS / 7);
  return {
    week: `${year}-W${String(week).padStart(2, '0')}`,
    monday: new Date(utc - weekday * DAY_MS).toISOString().slice(0, 10),
  };
}

/**
 * The working-day offset of the last working day on or before `date`: -1 when `date` is before the
 * project's first working day.
 */
export function lastWorkingOffset(calendar: WorkingCalendar, date: string): number {
  const before = calendar.offsetOf(date);
  return calendar.isWorkingDay(date) && calendar.dateAt(before) === date ? before : before - 1;
}

/**
 * Working days from `from` to `to`: how many working days `d` have `from < d <= to`, negative when
 * `to` is before `from`. Measures slip: a forecast on the working day after the due date is 1 late.
 */
export function workingDaysBetween(calendar: WorkingCalendar, from: string, to: string): number {
  if (from === to) return 0;
  const [low, high, sign] = from < to ? [from, to, 1] : [to, from, -1];
  // offsetOf counts the working days before a date, so the difference counts low <= d < high;
  // shifting both ends by a day gives low < d <= high.
  return sign * (calendar.offsetOf(addDays(high, 1)) - calendar.offsetOf(addDays(low, 1)));
}
