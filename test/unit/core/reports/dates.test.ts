import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../../../../functions/core/plan/index.js';
import {
  countedOffset,
  formatDay,
  formatInstant,
  formatInstantsIn,
  formatShortDay,
  isoWeek,
  lastWorkingOffset,
  localParts,
  workingDaysBetween,
} from '../../../../functions/core/reports/dates.js';

const calendar = new WorkingCalendar({
  start: '2026-01-05',
  workdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  holidays: ['2026-01-19'],
});

describe('report dates', () => {
  it('reads an instant in the project time zone', () => {
    expect(localParts('2026-01-08T03:30:00.000Z', 'America/New_York')).toEqual({
      date: '2026-01-07',
      time: '22:30',
    });
    expect(localParts('2026-07-01T12:00:00.000Z', 'Europe/Berlin')).toEqual({
      date: '2026-07-01',
      time: '14:00',
    });
  });

  it('names ISO weeks by the year their Thursday is in', () => {
    expect(isoWeek('2026-01-01')).toEqual({ week: '2026-W01', monday: '2025-12-29' });
    expect(isoWeek('2027-01-01')).toEqual({ week: '2026-W53', monday: '2026-12-28' });
    expect(isoWeek('2026-01-18')).toEqual({ week: '2026-W03', monday: '2026-01-12' });
  });

  it('counts working days between dates, skipping weekends and holidays', () => {
    expect(workingDaysBetween(calendar, '2026-01-09', '2026-01-12')).toBe(1);
    expect(workingDaysBetween(calendar, '2026-01-16', '2026-01-20')).toBe(1);
    expect(workingDaysBetween(calendar, '2026-01-20', '2026-01-16')).toBe(-1);
    expect(workingDaysBetween(calendar, '2026-01-10', '2026-01-11')).toBe(0);
    expect(workingDaysBetween(calendar, '2026-01-07', '2026-01-07')).toBe(0);
  });

  it('finds the last working day on or before a date', () => {
    expect(lastWorkingOffset(calendar, '2026-01-05')).toBe(0);
    expect(lastWorkingOffset(calendar, '2026-01-11')).toBe(4);
    expect(lastWorkingOffset(calendar, '2026-01-04')).toBe(-1);
  });

  it('counts work done on a weekend or holiday for the working day before it, and before the start for day 0', () => {
    expect(countedOffset(calendar, '2026-01-09')).toBe(4); // Friday
    expect(countedOffset(calendar, '2026-01-10')).toBe(4); // Saturday: Friday
    expect(countedOffset(calendar, '2026-01-11')).toBe(4); // Sunday: Friday
    expect(countedOffset(calendar, '2026-01-12')).toBe(5); // Monday
    expect(countedOffset(calendar, '2026-01-19')).toBe(9); // the holiday Monday: Friday Jan 16
    expect(countedOffset(calendar, '2026-01-02')).toBe(0); // before the start: the first working day
  });

  it('writes a date unambiguously, with the year only when it is not the current one', () => {
    expect(formatDay('2026-12-07', '2026-12-06')).toBe('Mon 7 Dec');
    expect(formatDay('2027-01-14', '2026-12-06')).toBe('Thu 14 Jan 2027');
    expect(formatDay('2025-12-31', '2026-01-02')).toBe('Wed 31 Dec 2025');
    expect(formatShortDay('2026-12-13', '2026-12-06')).toBe('13 Dec');
    expect(formatShortDay('2027-01-03', '2026-12-06')).toBe('3 Jan 2027');
    expect(() => formatDay('07/12/2026')).toThrow(/not a date: "07\/12\/2026" \(expected YYYY-MM-DD\)/);
  });

  it('writes an instant in the project time zone with the zone’s name, the year when it is another', () => {
    const now = '2026-12-06T15:00:00.000Z';
    expect(formatInstant('2026-12-07T14:00:00.000Z', 'America/New_York', now)).toBe('Mon 7 Dec 09:00 EST');
    expect(formatInstant('2026-07-01T16:05:00.000Z', 'America/New_York', now)).toBe('Wed 1 Jul 12:05 EDT');
    // Late on 31 Dec in New York is already January in UTC: the local year decides.
    expect(formatInstant('2027-01-01T03:00:00.000Z', 'America/New_York', now)).toBe('Thu 31 Dec 22:00 EST');
    expect(formatInstant('2027-01-01T05:00:00.000Z', 'America/New_York', now)).toBe(
      'Fri 1 Jan 2027 00:00 EST',
    );
    expect(formatInstant('2026-12-07T14:00:00.000Z', 'UTC', now)).toBe('Mon 7 Dec 14:00 UTC');
    expect(formatInstant('2026-12-07T14:00:00.000Z', 'Europe/Berlin', now)).toBe('Mon 7 Dec 15:00 GMT+1');
    expect(formatInstant(new Date('2026-12-07T14:00:00.000Z'), 'Asia/Kolkata', now)).toBe(
      'Mon 7 Dec 19:30 GMT+5:30',
    );
    // A stored value that is not an instant shows as it is rather than as "Invalid Date".
    expect(formatInstant('not a time', 'UTC', now)).toBe('not a time');
  });

  it('writes the UTC instants inside a sentence in the project time zone, leaving the rest alone', () => {
    expect(
      formatInstantsIn(
        'moves to level 2 at 2026-12-07T16:00:00.000Z (opened 2026-12-07T14:00Z); build 2026-12-07 passed',
        'America/New_York',
        '2026-12-06T12:00:00.000Z',
      ),
    ).toBe('moves to level 2 at Mon 7 Dec 11:00 EST (opened Mon 7 Dec 09:00 EST); build 2026-12-07 passed');
  });
});
