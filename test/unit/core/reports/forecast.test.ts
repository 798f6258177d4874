import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../../../functions/core/coordination/model.js';
import { WorkingCalendar } from '../../../../functions/core/plan/index.js';
import { addDays } from '../../../../functions/core/reports/dates.js';
import {
  dailyThroughput,
  type Forecast,
  forecastFinish,
  forecastMany,
  HORIZON_WORKING_DAYS,
  mulberry32,
  scheduleVariance,
  velocityByWeek,
} from '../../../../functions/core/reports/forecast.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';
import { weeklyContext } from './fixture.js';

/** Mon–Fri from Mon 2026-01-05, with Mon Jan 19 a holiday. */
const calendar = new WorkingCalendar({
  start: '2026-01-05',
  workdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  holidays: ['2026-01-19'],
});

/** The k-th working day after `today`, counted one day at a time: the arithmetic answer. */
function workingDayAfter(today: string, k: number): string {
  let date = today;
  for (let counted = 0; counted < k; ) {
    date = addDays(date, 1);
    if (date >= calendar.start && calendar.isWorkingDay(date)) counted++;
  }
  return date;
}

function dates(forecast: Forecast) {
  if (forecast.status !== 'forecast') throw new Error(`no forecast: ${forecast.status}`);
  return [forecast.p50.date, forecast.p85.date, forecast.p95.date];
}

describe('mulberry32', () => {
  it('gives the same sequence for a seed, in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const values = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(values);
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(mulberry32(124)()).not.toBe(values[0]);
  });
});

describe('forecastFinish', () => {
  const history = [0, 0.5, 1, 3, 0, 2, 1.5, 0, 4, 1];

  it('gives the same dates for the same seed, and may differ for another', () => {
    const input = { remaining: 30, history, calendar, today: '2026-01-09' };

    const first = forecastFinish({ ...input, seed: 7 });
    const again = forecastFinish({ ...input, seed: 7 });
    const others = Array.from({ length: 20 }, (_, seed) =>
      dates(forecastFinish({ ...input, seed, trials: 500 })).join(),
    );

    expect(again).toEqual(first);
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it('starts the remaining work on the working day after today', () => {
    const forecast = (remaining: number, today: string) =>
      dates(forecastFinish({ remaining, history: [1], calendar, today, seed: 1 }))[0];

    // Friday: one day of work is Monday's, two end on Tuesday; half a day still takes Monday.
    expect(forecast(1, '2026-01-09')).toBe('2026-01-12');
    expect(forecast(2, '2026-01-09')).toBe('2026-01-13');
    expect(forecast(0.5, '2026-01-09')).toBe('2026-01-12');
    // Saturday: the same Monday; before a holiday Monday: Tuesday.
    expect(forecast(1, '2026-01-10')).toBe('2026-01-12');
    expect(forecast(1, '2026-01-16')).toBe('2026-01-20');
    // Before the project starts, its first working day is the first day of work.
    expect(forecast(1, '2026-01-01')).toBe('2026-01-05');
  });

  it('equals the arithmetic answer on a constant throughput: today + ceil(remaining / c) working days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 2_400 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer(),
        (remainingMinutes, perDayMinutes, sampleSize, dayOffset, seed) => {
          fc.pre(remainingMinutes / perDayMinutes <= HORIZON_WORKING_DAYS);
          const today = addDays('2026-01-02', dayOffset);
          const remaining = remainingMinutes / 480;
          const perDay = perDayMinutes / 480;

          const forecast = forecastFinish({
            remaining,
            history: Array.from({ length: sampleSize }, () => perDay),
            calendar,
            today,
            seed,
            trials: 50,
          });

          const expected = workingDayAfter(today, Math.ceil(remainingMinutes / perDayMinutes));
          expect(dates(forecast)).toEqual([expected, expected, expected]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('orders its dates P50 ≤ P85 ≤ P95', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 8 * 480 }), { minLength: 1, maxLength: 30 })
          .filter((h) => h.some((v) => v > 0)),
        fc.integer({ min: 1, max: 50_000 }),
        fc.integer(),
        (historyMinutes, remainingMinutes, seed) => {
          const mean = historyMinutes.reduce((sum, value) => sum + value, 0) / historyMinutes.length;
          fc.pre(remainingMinutes / mean <= HORIZON_WORKING_DAYS);
          const forecast = forecastFinish({
            remaining: remainingMinutes / 480,
            history: historyMinutes.map((minutes) => minutes / 480),
            calendar,
            today: '2026-01-09',
            seed,
            trials: 300,
          });
          const [p50, p85, p95] = dates(forecast) as [string, string, string];
          expect(p50 <= p85 && p85 <= p95).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('says how it was computed: trials, sample size, seed', () => {
    const forecast = forecastFinish({
      remaining: 12,
      history,
      calendar,
      today: '2026-01-09',
      seed: 99,
      trials: 1_000,
    });

    expect(forecast).toMatchObject({
      status: 'forecast',
      trials: 1_000,
      sampleSize: 10,
      seed: 99,
      remaining: 12,
    });
    expect(forecast.status === 'forecast' && forecast.method).toContain(
      'Monte Carlo simulation of 1,000 trials',
    );
    expect(forecast.status === 'forecast' && forecast.method).toContain(
      'from the last 10 working days of throughput',
    );
    expect(forecast.status === 'forecast' && forecast.method).toContain('Seed 99.');
  });

  it('gives a reason instead of a forecast when there is no pace to project', () => {
    const base = { calendar, today: '2026-01-09', seed: 1 };

    expect(forecastFinish({ ...base, remaining: 5, history: [] })).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining('no throughput history'),
    });
    expect(forecastFinish({ ...base, remaining: 5, history: [0, 0, 0] })).toMatchObject({
      status: 'unavailable',
      reason: 'nothing was finished in the 3 working days of history, so there is no pace to project',
    });
    // A trickle: 1 minute in 100 days would take centuries; the trials are not even run.
    expect(
      forecastFinish({ ...base, remaining: 50, history: [...Array(99).fill(0), 1 / 480] }),
    ).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining('more than ten years'),
    });
    expect(forecastFinish({ ...base, remaining: 0, history: [1] })).toMatchObject({ status: 'finished' });
  });

  it('forecasts several amounts of work from the same trials, each as it would be alone', () => {
    const input = { history, calendar, today: '2026-01-09', seed: 5, trials: 2_000 };

    const [small, large] = forecastMany({ ...input, remaining: [5, 40] }) as [Forecast, Forecast];

    expect(small).toEqual(forecastFinish({ ...input, remaining: 5 }));
    expect(large).toEqual(forecastFinish({ ...input, remaining: 40 }));
    dates(small).forEach((date, i) => {
      expect(date <= (dates(large)[i] as string)).toBe(true);
    });
  });
});

describe('dailyThroughput', () => {
  it('gives the estimate-days finished on each working day of the window, zeros included', () => {
    const ctx = weeklyContext();

    const history = dailyThroughput({ plan: ctx.stored.plan, tasks: ctx.snapshot.tasks, now: ctx.now });
    const recent = dailyThroughput({
      plan: ctx.stored.plan,
      tasks: ctx.snapshot.tasks,
      now: ctx.now,
      days: 5,
    });

    expect(history.from).toBe('2026-01-01');
    expect(history.to).toBe('2026-01-16');
    expect(history.days.map((day) => day.finished)).toEqual([0, 0, 0, 0, 5, 5, 0, 10, 0, 10, 5, 0]);
    expect(recent.days.map((day) => [day.date, day.finished])).toEqual([
      ['2026-01-12', 10],
      ['2026-01-13', 0],
      ['2026-01-14', 10],
      ['2026-01-15', 5],
      ['2026-01-16', 0],
    ]);
  });
});

describe('work finished on a weekend', () => {
  const plan = validPlan(MINIMAL_PLAN);
  const done = (id: string, doneAt: string): TaskState => ({
    id,
    status: 'done',
    blocked: false,
    updatedAt: doneAt,
    updatedBy: 'system',
    version: 2,
    doneAt,
  });
  // task-1b (2d) on Sunday Jan 11 in New York; task-1a (1d) late on Sunday Jan 18 there, Monday in UTC.
  const tasks = new Map([
    ['task-1b', done('task-1b', '2026-01-11T20:00:00.000Z')],
    ['task-1a', done('task-1a', '2026-01-19T03:00:00.000Z')],
  ]);

  it('counts in the throughput of the Friday before it, so a Sunday forecast has a pace', () => {
    const history = dailyThroughput({ plan, tasks, now: new Date('2026-01-11T22:00:00.000Z') });

    expect(history.to).toBe('2026-01-09');
    expect(history.days.map((day) => [day.date, day.finished])).toEqual([
      ['2026-01-05', 0],
      ['2026-01-06', 0],
      ['2026-01-07', 0],
      ['2026-01-08', 0],
      ['2026-01-09', 2],
    ]);
  });

  it('counts in the velocity of the ISO week it was done in', () => {
    const weeks = velocityByWeek({ plan, tasks, now: new Date('2026-01-19T15:00:00.000Z') });

    expect(weeks.map((week) => [week.week, week.finished, week.tasks])).toEqual([
      ['2026-W02', 2, 1],
      ['2026-W03', 1, 1],
      ['2026-W04', 0, 0],
    ]);
  });
});

describe('velocityByWeek', () => {
  it('sums the estimates finished and planned in each ISO week', () => {
    const ctx = weeklyContext();

    const weeks = velocityByWeek({ plan: ctx.stored.plan, tasks: ctx.snapshot.tasks, now: ctx.now });

    expect(weeks).toEqual([
      { week: '2026-W01', monday: '2025-12-29', planned: 0, finished: 0, tasks: 0 },
      { week: '2026-W02', monday: '2026-01-05', planned: 10, finished: 10, tasks: 2 },
      { week: '2026-W03', monday: '2026-01-12', planned: 40, finished: 25, tasks: 3 },
    ]);
  });
});

describe('scheduleVariance', () => {
  /** phase-1 (3d of work, due Tue Jan 6) then phase-2 (1d); the baseline finishes Wed Jan 7. */
  const plan = validPlan(`version: 1
project:
  id: demo
  timezone: America/New_York
  start: 2026-01-05
people:
  - id: pm
agents:
  - id: alpha
    owner: pm
  - id: beta
    owner: pm
phases:
  - id: phase-1
    due: 2026-01-06
    tasks:
      - id: task-1a
        agent: alpha
        estimate: 1d
      - id: task-1b
        agent: beta
        estimate: 2d
  - id: phase-2
    dependsOn: [phase-1]
    tasks:
      - id: task-2a
        agent: alpha
        estimate: 1d
`);

  it('compares the P50 finish with the baseline and each active phase’s due date, in working days', () => {
    const variance = scheduleVariance({
      plan,
      tasks: new Map<string, TaskState>(),
      phaseStatus: (phase) => (phase === 'phase-1' ? 'active' : 'pending'),
      baseline: { finish: '2026-01-07' } as Parameters<typeof scheduleVariance>[0]['baseline'],
      history: [1, 1],
      calendar: new WorkingCalendar(plan.project),
      today: '2026-01-05',
      seed: 1,
      trials: 100,
    });

    // 4d at 1d a day from Tuesday: Friday, 2 working days after the baseline's Wednesday.
    expect(variance.forecast.status === 'forecast' && variance.forecast.p50.date).toBe('2026-01-09');
    expect(variance.varianceDays).toBe(2);
    // phase-1's 3d end on Thursday, 2 working days past its Tuesday due date.
    expect(variance.phases).toMatchObject([
      { phase: 'phase-1', due: '2026-01-06', remaining: 3, slipDays: 2 },
    ]);
  });
});
