import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan, Schedule, Weekday } from '../../../../functions/core/plan/index.js';
import {
  instantsAt,
  isScheduledRun,
  localTime,
  MONITORS,
  nextFireTimes,
  previousFireTime,
  scheduleCron,
} from '../../../../functions/core/schedules/index.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';

const BASE = validPlan(MINIMAL_PLAN);
const WEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The minimal plan (America/New_York, starting Mon 2026-01-05) with its project changed. */
function planWith(project: Partial<Plan['project']> = {}): Plan {
  return { ...BASE, project: { ...BASE.project, ...project } };
}

/** A schedule as the parser completes it: `days` default to the project's workdays. */
function scheduleOf(plan: Plan, fields: Partial<Schedule> & { at: string }): Schedule {
  return {
    id: 'standup',
    name: fields.id ?? 'standup',
    job: 'standup',
    days: [...plan.project.workdays],
    ...fields,
  };
}

const iso = (dates: readonly Date[]) => dates.map((date) => date.toISOString());
const at = (text: string) => new Date(text);

describe('nextFireTimes', () => {
  it('keeps a 09:00 schedule at 09:00 New York time when daylight saving starts in March', () => {
    // Prepare
    const plan = planWith();
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const fires = nextFireTimes(plan, standup, at('2026-03-05T00:00:00Z'), 4);

    // Assess
    expect(iso(fires)).toEqual([
      '2026-03-05T14:00:00.000Z',
      '2026-03-06T14:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
    ]);
    expect(fires.map((fire) => localTime(fire, 'America/New_York').time)).toEqual([
      '09:00',
      '09:00',
      '09:00',
      '09:00',
    ]);
  });

  it('keeps a 09:00 schedule at 09:00 New York time when daylight saving ends in November', () => {
    // Prepare
    const plan = planWith();
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const fires = nextFireTimes(plan, standup, at('2026-10-29T00:00:00Z'), 3);

    // Assess
    expect(iso(fires)).toEqual([
      '2026-10-29T13:00:00.000Z',
      '2026-10-30T13:00:00.000Z',
      '2026-11-02T14:00:00.000Z',
    ]);
  });

  it('skips a 02:30 schedule on the March day whose 02:30 does not exist, as EventBridge Scheduler does', () => {
    // Prepare
    const plan = planWith({ workdays: WEEK });
    const nightly = scheduleOf(plan, { at: '02:30' });

    // Act
    const fires = nextFireTimes(plan, nightly, at('2026-03-07T00:00:00Z'), 3);

    // Assess
    expect(iso(fires)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('runs a 01:30 schedule once, at the first 01:30, on the November day that has two', () => {
    // Prepare
    const plan = planWith({ workdays: WEEK });
    const nightly = scheduleOf(plan, { at: '01:30' });

    // Act
    const fires = nextFireTimes(plan, nightly, at('2026-10-31T00:00:00Z'), 3);

    // Assess
    expect(iso(fires)).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('skips holidays', () => {
    // Prepare
    const plan = planWith({ holidays: ['2026-01-19'] });
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const fires = nextFireTimes(plan, standup, at('2026-01-16T00:00:00Z'), 2);

    // Assess
    expect(iso(fires)).toEqual(['2026-01-16T14:00:00.000Z', '2026-01-20T14:00:00.000Z']);
  });

  it('runs every 2nd working day counted from the first working day when every is 2', () => {
    // Prepare: working days Jan 5 (0), 6 (1), 8 (2), 9 (3), 12 (4), 13 (5), 14 (6); Jan 7 is a holiday.
    const plan = planWith({ holidays: ['2026-01-07'] });
    const sync = scheduleOf(plan, { at: '16:00', every: 2 });

    // Act
    const fires = nextFireTimes(plan, sync, at('2026-01-01T00:00:00Z'), 4);

    // Assess
    expect(fires.map((fire) => localTime(fire, 'America/New_York').date)).toEqual([
      '2026-01-05',
      '2026-01-08',
      '2026-01-12',
      '2026-01-14',
    ]);
  });

  it('runs only on the schedule days when days is a subset of the workdays', () => {
    // Prepare
    const plan = planWith();
    const gateReview = scheduleOf(plan, {
      id: 'gate-review',
      job: 'gate-review',
      at: '17:00',
      days: ['fri'],
    });

    // Act
    const fires = nextFireTimes(plan, gateReview, at('2026-01-05T00:00:00Z'), 3);

    // Assess
    expect(iso(fires)).toEqual([
      '2026-01-09T22:00:00.000Z',
      '2026-01-16T22:00:00.000Z',
      '2026-01-23T22:00:00.000Z',
    ]);
  });

  it('follows a Sunday-to-Thursday calendar in a zone without daylight saving', () => {
    // Prepare
    const plan = planWith({ timezone: 'Asia/Dubai', workdays: ['sun', 'mon', 'tue', 'wed', 'thu'] });
    const standup = scheduleOf(plan, { at: '08:30' });

    // Act
    const fires = nextFireTimes(plan, standup, at('2026-01-08T00:00:00Z'), 4);

    // Assess: Thu 8, then Sun 11 (Fri 9 and Sat 10 are off), all 04:30 UTC.
    expect(iso(fires)).toEqual([
      '2026-01-08T04:30:00.000Z',
      '2026-01-11T04:30:00.000Z',
      '2026-01-12T04:30:00.000Z',
      '2026-01-13T04:30:00.000Z',
    ]);
  });

  it('runs the four default schedules of a plan that declares none', () => {
    // Prepare
    const plan = validPlan(MINIMAL_PLAN);

    // Act
    const next = Object.fromEntries(
      plan.schedules.map((schedule) => [
        schedule.id,
        iso(nextFireTimes(plan, schedule, at('2026-01-05T00:00:00Z'), 1)),
      ]),
    );

    // Assess
    expect(next).toEqual({
      standup: ['2026-01-05T14:00:00.000Z'],
      sync: ['2026-01-05T21:00:00.000Z'],
      report: ['2026-01-05T22:00:00.000Z'],
      'gate-review': ['2026-01-09T22:00:00.000Z'],
    });
  });

  it('runs nothing before the first working day on or after the project start', () => {
    // Prepare: the project starts on a Saturday.
    const plan = planWith({ start: '2026-01-03' });
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const fires = nextFireTimes(plan, standup, at('2025-12-01T00:00:00Z'), 1);

    // Assess
    expect(iso(fires)).toEqual(['2026-01-05T14:00:00.000Z']);
  });

  it('returns only instants strictly after from when from is itself a fire time', () => {
    // Prepare
    const plan = planWith();
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const fires = nextFireTimes(plan, standup, at('2026-01-05T14:00:00Z'), 1);

    // Assess
    expect(iso(fires)).toEqual(['2026-01-06T14:00:00.000Z']);
  });

  it('returns nothing when the schedule can never run', () => {
    // Prepare
    const plan = planWith();
    const weekend = scheduleOf(plan, { at: '09:00', days: ['sat'] });
    // Fridays are working days 4, 9, 14…: never a multiple of 5.
    const neverOnCadence = scheduleOf(plan, { at: '09:00', days: ['fri'], every: 5 });

    // Act
    const fires = [weekend, neverOnCadence].map((schedule) =>
      nextFireTimes(plan, schedule, at('2026-01-01T00:00:00Z'), 3),
    );

    // Assess
    expect(fires).toEqual([[], []]);
  });

  it('throws a RangeError when count or from is invalid', () => {
    // Prepare
    const plan = planWith();
    const standup = scheduleOf(plan, { at: '09:00' });

    // Assess
    expect(nextFireTimes(plan, standup, at('2026-01-01T00:00:00Z'), 0)).toEqual([]);
    expect(() => nextFireTimes(plan, standup, at('2026-01-01T00:00:00Z'), -1)).toThrow(RangeError);
    expect(() => nextFireTimes(plan, standup, at('2026-01-01T00:00:00Z'), 1.5)).toThrow(RangeError);
    expect(() => nextFireTimes(plan, standup, new Date(Number.NaN), 1)).toThrow(/from must be a valid date/);
  });
});

describe('previousFireTime', () => {
  it('returns the scheduled time of the run before, across a weekend and a holiday', () => {
    // Prepare
    const plan = planWith({ holidays: ['2026-01-19'] });
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const previous = previousFireTime(plan, standup, at('2026-01-20T14:00:00Z'));

    // Assess
    expect(previous?.toISOString()).toBe('2026-01-16T14:00:00.000Z');
  });

  it('returns the run of the same day when before is later that day', () => {
    // Prepare
    const plan = planWith();
    const report = scheduleOf(plan, { at: '17:00' });

    // Act
    const previous = previousFireTime(plan, report, at('2026-03-09T23:00:00Z'));

    // Assess
    expect(previous?.toISOString()).toBe('2026-03-09T21:00:00.000Z');
  });

  it('returns undefined before the first run', () => {
    // Prepare
    const plan = planWith();
    const standup = scheduleOf(plan, { at: '09:00' });

    // Act
    const previous = previousFireTime(plan, standup, at('2026-01-05T14:00:00Z'));

    // Assess
    expect(previous).toBeUndefined();
  });
});

describe('isScheduledRun', () => {
  const plan = planWith({ holidays: ['2026-01-19'] });
  const standup = scheduleOf(plan, { at: '09:00' });

  it('says run when the scheduled time is a fire time, ignoring the seconds', () => {
    // Act
    const decisions = [at('2026-01-20T14:00:00Z'), at('2026-01-20T14:00:42Z')].map((time) =>
      isScheduledRun(plan, standup, time),
    );

    // Assess
    expect(decisions).toEqual([{ run: true }, { run: true }]);
  });

  it.each([
    ['a holiday', '2026-01-19T14:00:00Z', standup, '2026-01-19 is a holiday'],
    ['a weekend day', '2026-01-17T14:00:00Z', standup, '2026-01-17 is a Saturday, not a working day'],
    [
      'before the first working day',
      '2026-01-02T14:00:00Z',
      standup,
      "2026-01-02 is before the project's first working day, 2026-01-05",
    ],
    [
      'not the time of the schedule',
      '2026-01-20T15:00:00Z',
      standup,
      '2026-01-20 10:00 America/New_York is not when the standup schedule runs (09:00)',
    ],
    [
      'not one of the schedule days',
      '2026-01-22T14:00:00Z',
      { ...standup, id: 'gate-review', days: ['fri'] as Weekday[] },
      '2026-01-22 is a Thursday; the gate-review schedule runs on fri',
    ],
    [
      'a day the every cadence skips',
      '2026-01-06T14:00:00Z',
      { ...standup, every: 2 },
      '2026-01-06 is working day 1; the standup schedule runs every 2nd working day (0, 2, 4, …)',
    ],
  ])('says why not when the scheduled time is on %s', (_case, time, schedule, reason) => {
    // Act
    const decision = isScheduledRun(plan, schedule, at(time));

    // Assess
    expect(decision).toEqual({ run: false, reason });
  });

  it('says why not when the scheduled time is not a date', () => {
    // Act
    const decision = isScheduledRun(plan, standup, new Date('soon'));

    // Assess
    expect(decision).toEqual({ run: false, reason: 'the scheduled time is not a valid date' });
  });

  it('accepts either 01:30 of the November day that has two, since EventBridge sends only one', () => {
    // Prepare
    const everyDay = planWith({ workdays: WEEK });
    const nightly = scheduleOf(everyDay, { at: '01:30' });

    // Act
    const [first, second] = instantsAt('2026-11-01', '01:30', 'America/New_York');

    // Assess
    expect([first?.toISOString(), second?.toISOString()]).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
    expect(isScheduledRun(everyDay, nightly, first as Date)).toEqual({ run: true });
    expect(isScheduledRun(everyDay, nightly, second as Date)).toEqual({ run: true });
  });

  describe('agrees with nextFireTimes', () => {
    const DAY_MS = 86_400_000;
    const someDays = fc.subarray(WEEK, { minLength: 1 });
    const config = fc.record({
      timezone: fc.constantFrom(
        'America/New_York',
        'Europe/Berlin',
        'Australia/Sydney',
        'Asia/Kolkata',
        'UTC',
      ),
      workdays: someDays,
      days: someDays,
      every: fc.integer({ min: 1, max: 4 }),
      at: fc.constantFrom('00:30', '01:30', '02:30', '03:00', '09:00', '17:45', '23:59'),
      holidays: fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 8 }),
    });
    const sample = config.map(({ timezone, workdays, days, every, at: time, holidays }) => {
      const plan = planWith({
        timezone,
        workdays,
        start: '2026-01-05',
        holidays: holidays.map((day) =>
          new Date(Date.UTC(2026, 0, 5) + day * DAY_MS).toISOString().slice(0, 10),
        ),
      });
      return { plan, schedule: scheduleOf(plan, { at: time, days, every }) };
    });
    const instant = fc.integer({ min: Date.UTC(2025, 11, 1), max: Date.UTC(2027, 2, 1) });

    it('accepts every instant nextFireTimes returns, and finds each one as the previous of the next', () => {
      fc.assert(
        fc.property(sample, instant, ({ plan, schedule }, from) => {
          // Act
          const fires = nextFireTimes(plan, schedule, new Date(from), 6);

          // Assess
          for (const [i, fire] of fires.entries()) {
            expect(isScheduledRun(plan, schedule, fire)).toEqual({ run: true });
            expect(fire.getTime()).toBeGreaterThan(from);
            if (i > 0) expect(previousFireTime(plan, schedule, fire)).toEqual(fires[i - 1]);
          }
        }),
        { numRuns: 150 },
      );
    });

    it('finds among nextFireTimes every cron fire that isScheduledRun accepts', () => {
      fc.assert(
        fc.property(sample, instant, ({ plan, schedule }, day) => {
          // Prepare: a fire of the cron, the first instant its local time occurs on one of its days.
          const date = new Date(day).toISOString().slice(0, 10);
          const [fire] = instantsAt(date, schedule.at, plan.project.timezone);
          fc.pre(
            fire !== undefined && schedule.days.includes(localTime(fire, plan.project.timezone).weekday),
          );
          const cronFire = fire as Date;

          // Act
          const decision = isScheduledRun(plan, schedule, cronFire);
          const [next] = nextFireTimes(plan, schedule, new Date(cronFire.getTime() - 1), 1);

          // Assess
          expect(decision.run).toBe(next?.getTime() === cronFire.getTime());
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('scheduleCron', () => {
  const plan = planWith();

  it.each([
    [['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', 'cron(0 9 ? * MON-FRI *)'],
    [['fri'], '17:00', 'cron(0 17 ? * FRI *)'],
    [['fri', 'mon', 'wed'], '16:30', 'cron(30 16 ? * MON,WED,FRI *)'],
    [['sat', 'sun'], '08:05', 'cron(5 8 ? * SAT,SUN *)'],
    [['thu', 'fri', 'sat', 'sun'], '00:00', 'cron(0 0 ? * THU,FRI,SAT,SUN *)'],
    [WEEK, '23:59', 'cron(59 23 ? * * *)'],
  ] as [Weekday[], string, string][])('builds the cron of days %j at %s', (days, time, expression) => {
    // Act
    const cron = scheduleCron(plan, scheduleOf(plan, { at: time, days }));

    // Assess
    expect(cron.expression).toBe(expression);
    expect(cron.timeZone).toBe('America/New_York');
  });

  it('gives the fields ScheduleExpression.cron takes', () => {
    // Act
    const cron = scheduleCron(plan, scheduleOf(plan, { at: '09:05', days: ['fri'] }));

    // Assess
    expect(cron).toEqual({
      minute: '5',
      hour: '9',
      weekDay: 'FRI',
      timeZone: 'America/New_York',
      expression: 'cron(5 9 ? * FRI *)',
    });
  });
});

describe('MONITORS', () => {
  it('runs the heartbeat monitor every minute and the stale-work sweep every 15 minutes', () => {
    // Assess
    expect(MONITORS.map(({ name, everyMinutes }) => [name, everyMinutes])).toEqual([
      ['heartbeats', 1],
      ['stale-work', 15],
    ]);
  });
});
