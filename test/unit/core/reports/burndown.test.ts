import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../../../functions/core/coordination/model.js';
import { buildBurndown } from '../../../../functions/core/reports/burndown.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';
import { dailyContext } from './fixture.js';

/** MINIMAL_PLAN: Mon 2026-01-05 start, New York; task-1a 1d, task-1b 2d, then task-2a 1d: 4d, finishing Wed Jan 7. */
const PLAN = validPlan(MINIMAL_PLAN);

const done = (id: string, doneAt: string | undefined, updatedAt = '2026-01-05T15:00:00.000Z'): TaskState => ({
  id,
  status: 'done',
  blocked: false,
  updatedAt,
  updatedBy: 'system',
  version: 3,
  ...(doneAt ? { doneAt } : {}),
});

describe('buildBurndown', () => {
  it('counts the estimate not done by the end of each working day, up to today only', () => {
    // Prepare: the fixture on Wed Jan 14 at 17:00.
    const ctx = dailyContext();

    // Act
    const series = buildBurndown({ plan: ctx.stored.plan, tasks: ctx.snapshot.tasks, now: ctx.now });

    // Assess
    expect(series.start).toBe('2026-01-01');
    expect(series.plannedFinish).toBe('2026-02-13');
    expect(series.total).toBe(116);
    expect(series.points).toHaveLength(32);
    const remaining = Object.fromEntries(series.points.map((point) => [point.date, point.remaining]));
    expect(remaining).toMatchObject({
      '2026-01-06': 116,
      '2026-01-07': 111,
      '2026-01-08': 106,
      '2026-01-09': 106,
      '2026-01-12': 96,
      '2026-01-13': 96,
      '2026-01-14': 86,
    });
    expect(remaining['2026-01-15']).toBeUndefined();
    expect(series.remaining).toBe(86);
    expect(series.today).toBe('2026-01-14');
  });

  it('draws the ideal line from the total on the first working day to zero on the planned finish', () => {
    const ctx = dailyContext();

    const series = buildBurndown({ plan: ctx.stored.plan, tasks: ctx.snapshot.tasks, now: ctx.now });

    expect(series.points[0]?.ideal).toBe(116);
    expect(series.points[31]).toMatchObject({ date: '2026-02-13', day: 31, ideal: 0 });
    expect(series.points[9]?.ideal).toBeCloseTo(116 * (1 - 9 / 31), 10);
    expect(series.ideal).toBeCloseTo(116 * (1 - 9 / 31), 10);
    for (let i = 1; i < series.points.length; i++)
      expect(series.points[i]?.ideal).toBeLessThan(series.points[i - 1]?.ideal as number);
  });

  it('runs on to today when the project is late, the ideal line staying at zero', () => {
    const series = buildBurndown({
      plan: PLAN,
      tasks: new Map([['task-1a', done('task-1a', '2026-01-05T20:00:00.000Z')]]),
      now: new Date('2026-01-13T20:00:00.000Z'),
    });

    expect(series.points.map((point) => point.date)).toEqual([
      '2026-01-05',
      '2026-01-06',
      '2026-01-07',
      '2026-01-08',
      '2026-01-09',
      '2026-01-12',
      '2026-01-13',
    ]);
    expect(series.points.map((point) => point.ideal)).toEqual([4, 2, 0, 0, 0, 0, 0]);
    expect(series.points.every((point) => point.remaining === 3)).toBe(true);
  });

  it('counts work by the local date, for the Friday before a weekend, and by updatedAt without doneAt', () => {
    const series = buildBurndown({
      plan: PLAN,
      tasks: new Map([
        // Tue 22:30 in New York is Wednesday in UTC.
        ['task-1a', done('task-1a', '2026-01-07T03:30:00.000Z')],
        // Saturday counts for Friday.
        ['task-1b', done('task-1b', '2026-01-10T15:00:00.000Z')],
        // Written before doneAt existed: its last update says when.
        ['task-2a', done('task-2a', undefined, '2026-01-13T15:00:00.000Z')],
      ]),
      now: new Date('2026-01-14T15:00:00.000Z'),
    });

    const remaining = Object.fromEntries(series.points.map((point) => [point.date, point.remaining]));
    expect(remaining).toEqual({
      '2026-01-05': 4,
      '2026-01-06': 3,
      '2026-01-07': 3,
      '2026-01-08': 3,
      '2026-01-09': 1,
      '2026-01-12': 1,
      '2026-01-13': 0,
      '2026-01-14': 0,
    });
  });

  it('on a Sunday, counts the work finished that Sunday: today’s point agrees with what is done', () => {
    // task-1a on Monday, task-1b on Sunday afternoon in New York; the report runs that Sunday evening.
    const series = buildBurndown({
      plan: PLAN,
      tasks: new Map([
        ['task-1a', done('task-1a', '2026-01-05T20:00:00.000Z')],
        ['task-1b', done('task-1b', '2026-01-11T19:00:00.000Z')],
      ]),
      now: new Date('2026-01-11T23:00:00.000Z'),
    });

    // 3d of the 4d are done: 1d remains, on Friday's point (the last working day), not 4d or 3d.
    expect(series.today).toBe('2026-01-11');
    expect(series.remaining).toBe(1);
    expect(series.points.at(-1)).toMatchObject({ date: '2026-01-09', remaining: 1 });
  });

  it('has no actuals before the project starts', () => {
    const series = buildBurndown({ plan: PLAN, tasks: new Map(), now: new Date('2026-01-02T15:00:00.000Z') });

    expect(series.points).toHaveLength(3);
    expect(series.points.every((point) => point.remaining === undefined)).toBe(true);
    expect(series.remaining).toBe(4);
  });
});
