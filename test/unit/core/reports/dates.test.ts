import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../../../../functions/core/plan/index.js';
import {
  formatDay,
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
    expect(formatDay('2026-01-12')).toBe('Mon Jan 12');
  });
});
