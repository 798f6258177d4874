import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../../../functions/core/coordination/model.js';
import {
  buildDailyReport,
  buildWeeklySummary,
  type ReportBlock,
  type ReportDocument,
  renderMarkdown,
} from '../../../../functions/core/reports/index.js';
import { renderPlainText } from '../../../../functions/core/reports/plain-text.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';
import { reportContext, weeklyContext } from './fixture.js';

/**
 * Work finished on a Sunday, read that Sunday: AI agents work on weekends, and every number of the
 * reports counts their work, the same way (docs/rhythm.md, "How work is counted").
 *
 * MINIMAL_PLAN: Mon 2026-01-05 start in New York, task-1a 1d, task-1b 2d, task-2a 1d (4d in all).
 * Nothing is done during the week; task-1b is done on Saturday and task-1a on Sunday, and the
 * reports run on Sunday Jan 11 at 18:00.
 */
const PLAN = validPlan(MINIMAL_PLAN);

const done = (id: string, doneAt: string): TaskState => ({
  id,
  status: 'done',
  blocked: false,
  updatedAt: doneAt,
  updatedBy: 'system',
  version: 3,
  doneAt,
});

const sunday = () =>
  reportContext({
    plan: PLAN,
    now: '2026-01-11T23:00:00.000Z', // Sun 18:00 EST
    since: '2026-01-09T22:00:00.000Z', // Fri 17:00 EST, the previous summary
    tasks: [
      done('task-1b', '2026-01-10T16:00:00.000Z'), // Sat 11:00 EST
      done('task-1a', '2026-01-11T15:00:00.000Z'), // Sun 10:00 EST
    ],
    events: [],
    escalations: [],
  });

const section = (doc: ReportDocument, id: string) => {
  const found = doc.sections.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no section ${id}`);
  return found;
};

const rows = (block: ReportBlock | undefined) => {
  if (block?.kind !== 'table') throw new Error(`expected a table, got ${block?.kind}`);
  return block.rows.map((row) =>
    row.cells.map((cell) =>
      cell.map((part) => (typeof part === 'string' ? part : 'text' in part ? part.text : part.name)).join(''),
    ),
  );
};

describe('work finished on a Sunday', () => {
  it('counts in the weekly summary, its velocity and its forecast alike', () => {
    const doc = buildWeeklySummary(sunday(), { seed: 3, trials: 1_000 });
    const markdown = renderMarkdown(doc);

    expect(markdown).toContain('**2 tasks finished (3d)** since the last summary');
    // The week of the weekend's Friday: both tasks, 3d.
    expect(rows(section(doc, 'velocity').blocks[0]).at(-1)).toEqual([
      '2026-W02',
      '5 Jan – 11 Jan',
      '4d',
      '3d',
      '2',
    ]);
    // The forecast draws from Mon–Fri, Friday holding the weekend's 3d: a pace of 0.6d a day.
    expect(markdown).not.toContain('nothing was finished');
    expect(markdown).toContain(
      'from the last 5 working days of throughput (Mon 5 Jan – Fri 9 Jan), mean 0.6 estimate-days a day',
    );
    // 1d left at 0.6d a day: at best the next working day, whatever the draws.
    expect(markdown).toMatch(/Forecast finish: P50 (Mon 12|Tue 13|Wed 14|Thu 15|Fri 16) Jan/);
  });

  it('counts in the burndown, which agrees with the share done', () => {
    const doc = buildDailyReport(sunday());
    const summary = renderPlainText({ ...doc, sections: [section(doc, 'summary')] });

    // 3d of 4d done: 75%, and 1d remains on the burndown, past the planned finish (ideal 0).
    expect(summary).toContain('2 of 3 tasks done (3d of 4d, 75%)');
    expect(summary).toContain('Remaining 1d of 4d against 0d on the ideal line: 1d of work behind.');
    const chart = section(doc, 'burndown').blocks[0];
    expect(chart?.kind === 'chart' && chart.series.points.at(-1)).toMatchObject({
      date: '2026-01-09',
      remaining: 1,
    });
  });
});

describe('the weekly summary of a long project', () => {
  it('shows the last 8 weeks of velocity, and says how many weeks there are', () => {
    // The sprint-20-23 example, started Thu 1 Jan 2026, read on Sunday 6 Dec 2026: 49 ISO weeks.
    const doc = buildWeeklySummary(
      weeklyContext({ now: '2026-12-06T20:00:00.000Z', since: '2026-11-27T22:00:00.000Z' }),
      { seed: 1, trials: 500 },
    );

    const weeks = rows(section(doc, 'velocity').blocks[0]);
    expect(weeks.map((row) => row[0])).toEqual([
      '2026-W42',
      '2026-W43',
      '2026-W44',
      '2026-W45',
      '2026-W46',
      '2026-W47',
      '2026-W48',
      '2026-W49',
    ]);
    expect(weeks.at(-1)?.[1]).toBe('30 Nov – 6 Dec');
    expect(renderMarkdown(doc)).toContain('The last 8 of the 49 weeks since the project started are shown.');
    expect(renderMarkdown(doc)).toContain('Working day 242, 210 working days past the 32 planned ·');
  });
});
