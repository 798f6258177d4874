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

/**
 * Every date a person reads goes through `formatDay`, `formatShortDay`, `formatInstant` and
 * `formatInstantsIn`: one style, unambiguous, in the project's time zone. A date alone reads
 * `Mon 7 Dec`, with the year when it is not the current one (`Thu 14 Jan 2027`); an instant reads
 * `Mon 7 Dec 09:00 EST` (24-hour clock and the zone's abbreviation, or its offset where the zone has
 * none, e.g. `GMT+1`). Machine outputs (JSON, API fields, `--json`) keep ISO 8601.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One `Intl.DateTimeFormat` per time zone, built once: building one costs far more than using it. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

interface Parts {
  readonly weekday: string;
  readonly day: string;
  readonly month: string;
  readonly year: string;
  readonly hour: string;
  readonly minute: string;
  readonly zone: string;
}

function partsOf(millis: number, timeZone: string): Parts {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(millis)) parts[part.type] = part.value;
  return {
    weekday: parts.weekday ?? '',
    day: parts.day ?? '',
    month: parts.month ?? '',
    year: parts.year ?? '',
    hour: parts.hour ?? '',
    minute: parts.minute ?? '',
    zone: parts.timeZoneName ?? timeZone,
  };
}

/** The year at an instant in a time zone; a report asks for the same one many times. */
let lastYear = { millis: Number.NaN, timeZone: '', year: '' };
function yearIn(millis: number, timeZone: string): string {
  if (lastYear.millis !== millis || lastYear.timeZone !== timeZone)
    lastYear = { millis, timeZone, year: partsOf(millis, timeZone).year };
  return lastYear.year;
}

const toMillis = (instant: Date | string) =>
  typeof instant === 'string' ? Date.parse(instant) : instant.getTime();

/** `YYYY-MM-DD` noon UTC: the calendar date itself, whatever the time zone. */
function dateParts(date: string): Parts {
  const millis = Date.parse(`${date}T12:00:00Z`);
  if (Number.isNaN(millis)) throw new RangeError(`not a date: "${date}" (expected YYYY-MM-DD)`);
  return partsOf(millis, 'UTC');
}

/** The current year: of `today` (`YYYY-MM-DD`) when given, else of the clock. */
const currentYear = (today: string | undefined) => today?.slice(0, 4) ?? String(new Date().getUTCFullYear());

/**
 * A calendar date (`YYYY-MM-DD`) as people read it: `Mon 7 Dec`, or `Thu 14 Jan 2027` when it is not
 * in the year of `today` (the project's today, `YYYY-MM-DD`; default: the clock's).
 */
export function formatDay(date: string, today?: string): string {
  const parts = dateParts(date);
  const year = parts.year === currentYear(today) ? '' : ` ${parts.year}`;
  return `${parts.weekday} ${parts.day} ${parts.month}${year}`;
}

/** `7 Dec` (`14 Jan 2027` in another year), for chart ticks and tight table cells. */
export function formatShortDay(date: string, today?: string): string {
  const parts = dateParts(date);
  const year = parts.year === currentYear(today) ? '' : ` ${parts.year}`;
  return `${parts.day} ${parts.month}${year}`;
}

/**
 * An instant in the project's time zone: `Mon 7 Dec 09:00 EST`, with the year (`Thu 14 Jan 2027
 * 09:00 EST`) when it is not the year `now` is in there (default: the clock's now). An instant that
 * does not parse is returned as it came, so a bad stored value still shows.
 */
export function formatInstant(instant: Date | string, timeZone: string, now?: Date | string): string {
  const millis = toMillis(instant);
  if (Number.isNaN(millis)) return String(instant);
  const parts = partsOf(millis, timeZone);
  const thisYear = yearIn(now === undefined ? Date.now() : toMillis(now), timeZone);
  const year = parts.year === thisYear ? '' : ` ${parts.year}`;
  return `${parts.weekday} ${parts.day} ${parts.month}${year} ${parts.hour}:${parts.minute} ${parts.zone}`;
}

/** An ISO 8601 UTC instant inside a sentence: `2026-01-05T12:00:00.000Z`, `2026-01-05T12:00Z`. */
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z\b/g;

/**
 * A sentence written for the audit trail (`due 2026-01-05T12:00:00.000Z`) as a person reads it: each
 * UTC instant in it written with `formatInstant`. The rest of the text is left as it is.
 */
export function formatInstantsIn(text: string, timeZone: string, now?: Date | string): string {
  return text.replace(ISO_INSTANT, (instant) => formatInstant(instant, timeZone, now));
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
 * The working day that work done on `date` counts for, as an offset: the date itself when it is a
 * working day, else the last working day before it (work done on a Saturday, a Sunday or a holiday
 * counts for the Friday or the day before the holiday, in the same ISO week when the week starts on
 * a working Monday), and the project's first working day for work done before the project starts.
 * Throughput, velocity, the burndown and the forecast all count by it, so on a Sunday they agree with
 * each other and with what is done.
 */
export function countedOffset(calendar: WorkingCalendar, date: string): number {
  return Math.max(0, lastWorkingOffset(calendar, date));
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
