import { doneInPeriod, indexContext, type ReportIndex } from './context.js';
import { burndownChart, burndownOf } from './daily.js';
import { addDays, formatDay, formatShortDay, isoWeek, workingDaysBetween } from './dates.js';
import {
  DEFAULT_HISTORY_DAYS,
  dailyThroughput,
  type Forecast,
  type ForecastPercentile,
  type ScheduleVariance,
  scheduleVariance,
  velocityByWeek,
  type WeekVelocity,
} from './forecast.js';
import type { Inline, ReportBlock, ReportContext, ReportDocument, ReportSection, TableRow } from './model.js';
import {
  blockedTable,
  documentFrame,
  escalationsBlock,
  note,
  paragraph,
  progressSummary,
} from './sections.js';
import { days, plural, RISK_LABEL, signed, strong } from './text.js';

export interface WeeklyOptions {
  /** Seed of the forecast's PRNG. @default a hash of the project's first working day and today */
  readonly seed?: number;
  /** @default 10_000 */
  readonly trials?: number;
  /** Working days of throughput history the forecast draws from. @default 20 */
  readonly historyDays?: number;
}

/** Weeks of velocity the average is taken over. */
const AVERAGE_WEEKS = 4;
/** Weeks the velocity table shows: the last ones, up to the current week. */
export const VELOCITY_TABLE_WEEKS = 8;

const vsBaseline = (value: number | undefined) =>
  value === undefined
    ? '–'
    : value === 0
      ? 'on the baseline'
      : `${signed(value, (n) => plural(n, 'working day'))}`;

function percentileDate(p: ForecastPercentile, today: string): string {
  return p.beyondHorizon ? `after ${formatDay(p.date, today)}` : formatDay(p.date, today);
}

function velocityBlocks(weeks: readonly WeekVelocity[], today: string): ReportBlock[] {
  if (weeks.length === 0) return [paragraph('The project has not started yet.')];
  const shown = weeks.slice(-VELOCITY_TABLE_WEEKS);
  const recent = weeks.slice(-AVERAGE_WEEKS);
  const finished = recent.reduce((sum, week) => sum + week.finished, 0) / recent.length;
  const planned = recent.reduce((sum, week) => sum + week.planned, 0) / recent.length;
  return [
    {
      kind: 'table',
      columns: [
        { label: 'Week' },
        { label: 'Dates' },
        { label: 'Planned', align: 'right' },
        { label: 'Finished', align: 'right' },
        { label: 'Tasks', align: 'right' },
      ],
      rows: shown.map((week) => ({
        cells: [
          [week.week],
          [`${formatShortDay(week.monday, today)} – ${formatShortDay(addDays(week.monday, 6), today)}`],
          [days(week.planned)],
          [days(week.finished)],
          [String(week.tasks)],
        ],
      })),
    },
    paragraph(
      `Average velocity over the last ${plural(recent.length, 'week')}: `,
      strong(`${days(finished)} a week`),
      `, against ${days(planned)} a week planned.`,
    ),
    note(
      `Velocity counts the estimate of each task finished in an ISO week, whatever the task took; work done on a weekend or holiday counts for the working day before it. Planned counts the estimates of the tasks the baseline schedules to finish that week.${weeks.length > shown.length ? ` The last ${shown.length} of the ${weeks.length} weeks since the project started are shown.` : ''}`,
    ),
  ];
}

function forecastBlocks(index: ReportIndex, variance: ScheduleVariance): ReportBlock[] {
  const forecast: Forecast = variance.forecast;
  if (forecast.status === 'finished') return [paragraph('Every task is done: nothing left to forecast.')];
  if (forecast.status === 'unavailable')
    return [paragraph(strong('No forecast:'), ` ${forecast.reason}. ${days(forecast.remaining)} remain.`)];
  const rows: TableRow[] = [forecast.p50, forecast.p85, forecast.p95].map((p) => ({
    cells: [
      [`P${p.percentile}`],
      [percentileDate(p, index.today)],
      [String(p.workingDays)],
      [vsBaseline(workingDaysBetween(index.calendar, variance.baselineFinish, p.date))],
    ],
  }));
  return [
    {
      kind: 'table',
      columns: [
        { label: 'Confidence' },
        { label: 'Finish' },
        { label: 'Working days', align: 'right' },
        { label: 'vs baseline' },
      ],
      rows,
    },
    note(forecast.method),
    note(
      `Sample size: ${plural(forecast.sampleSize, 'working day')} of throughput history; ${forecast.trials.toLocaleString('en-US')} trials.`,
    ),
  ];
}

function varianceBlocks(variance: ScheduleVariance, today: string): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  const headline: Inline[] = [`Baseline finish ${formatDay(variance.baselineFinish, today)}`];
  if (variance.forecast.status === 'forecast' && variance.varianceDays !== undefined)
    headline.push(
      `; forecast P50 ${percentileDate(variance.forecast.p50, today)}: `,
      strong(
        variance.varianceDays === 0
          ? 'on schedule'
          : variance.varianceDays > 0
            ? `${plural(variance.varianceDays, 'working day')} late`
            : `${plural(-variance.varianceDays, 'working day')} early`,
      ),
      '.',
    );
  else headline.push('; no forecast to compare with.');
  blocks.push(paragraph(...headline));
  if (variance.phases.length > 0)
    blocks.push({
      kind: 'table',
      columns: [
        { label: 'Active phase' },
        { label: 'Due' },
        { label: 'Left', align: 'right' },
        { label: 'Forecast (P50)' },
        { label: 'Slip', align: 'right' },
      ],
      rows: variance.phases.map((phase) => ({
        cells: [
          [phase.name],
          [formatDay(phase.due, today)],
          [days(phase.remaining)],
          [phase.forecast.status === 'forecast' ? percentileDate(phase.forecast.p50, today) : '–'],
          [
            phase.slipDays === undefined
              ? '–'
              : phase.slipDays > 0
                ? `🔴 ${plural(phase.slipDays, 'working day')}`
                : phase.slipDays === 0
                  ? '🟢 on the due date'
                  : `🟢 ${plural(-phase.slipDays, 'working day')} early`,
          ],
        ],
      })),
    });
  if (variance.phases.length > 0)
    blocks.push(
      note(
        'A phase is forecast from its remaining estimate plus that of the active phases planned to finish before it, at the whole team’s pace; slip counts working days past its due date.',
      ),
    );
  return blocks;
}

function agentsWeek(index: ReportIndex): ReportBlock {
  return {
    kind: 'table',
    columns: [
      { label: 'Agent' },
      { label: 'Finished', align: 'right' },
      { label: 'Estimate', align: 'right' },
      { label: 'Left', align: 'right' },
      { label: 'Blocked', align: 'right' },
      { label: 'Risk' },
    ],
    rows: index.plan.agents.flatMap((agent) => {
      const own = index.byAgent.get(agent.id) ?? [];
      if (own.length === 0) return [];
      let finished = 0;
      let finishedMinutes = 0;
      let left = 0;
      let blocked = 0;
      for (const view of own) {
        if (doneInPeriod(index, view)) {
          finished++;
          finishedMinutes += view.minutes;
        }
        if (view.state.status !== 'done') left += view.minutes;
        if (view.state.blocked) blocked++;
      }
      const risk = index.agentStatus.get(agent.id)?.risk;
      return [
        {
          agent: agent.id,
          cells: [
            [agent.name],
            [String(finished)],
            [days(finishedMinutes / 480)],
            [days(left / 480)],
            [blocked === 0 ? '–' : `⛔ ${blocked}`],
            [risk ? RISK_LABEL[risk] : '–'],
          ],
        },
      ];
    }),
  };
}

/**
 * The weekly summary: velocity per ISO week against the plan, schedule variance against the
 * baseline and each active phase's due date, a Monte Carlo forecast of the finish date (P50 / P85 /
 * P95, with its method and sample size), the burndown, each agent's week, blockers and escalations.
 */
export function buildWeeklySummary(ctx: ReportContext, options: WeeklyOptions = {}): ReportDocument {
  const index = indexContext(ctx);
  const { plan } = index;
  const tasks = ctx.snapshot.tasks;
  const weeks = velocityByWeek({
    plan,
    tasks,
    now: ctx.now,
    baseline: index.baseline,
    calendar: index.calendar,
  });
  const history = dailyThroughput({
    plan,
    tasks,
    now: ctx.now,
    calendar: index.calendar,
    days: options.historyDays ?? DEFAULT_HISTORY_DAYS,
  });
  const variance = scheduleVariance({
    plan,
    tasks,
    phaseStatus: index.phaseStatus,
    baseline: index.baseline,
    analysis: index.analysis,
    history: history.days.map((day) => day.finished),
    calendar: index.calendar,
    today: index.today,
    ...(options.trials === undefined ? {} : { trials: options.trials }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(history.from && history.to
      ? { historyLabel: `${formatDay(history.from, index.today)} – ${formatDay(history.to, index.today)}` }
      : {}),
  });
  const series = burndownOf(index);

  let finished = 0;
  let finishedMinutes = 0;
  for (const view of index.ordered)
    if (doneInPeriod(index, view)) {
      finished++;
      finishedMinutes += view.minutes;
    }
  const week = isoWeek(index.today);
  const headline: Inline[] = [
    `Week ${week.week} (${formatShortDay(week.monday, index.today)} – ${formatShortDay(addDays(week.monday, 6), index.today)}): `,
    strong(`${plural(finished, 'task')} finished (${days(finishedMinutes / 480)})`),
    ' since the last summary.',
  ];
  if (variance.forecast.status === 'forecast')
    headline.push(
      ` Forecast finish: P50 ${percentileDate(variance.forecast.p50, index.today)} (${vsBaseline(variance.varianceDays)} vs the baseline ${formatDay(variance.baselineFinish, index.today)}), P85 ${percentileDate(variance.forecast.p85, index.today)}, P95 ${percentileDate(variance.forecast.p95, index.today)}.`,
    );
  const sections: ReportSection[] = [
    {
      id: 'summary',
      heading: 'Summary',
      blocks: [paragraph(...progressSummary(index)), paragraph(...headline)],
    },
    { id: 'velocity', heading: 'Velocity', blocks: velocityBlocks(weeks, index.today) },
    { id: 'schedule', heading: 'Schedule variance', blocks: varianceBlocks(variance, index.today) },
    { id: 'forecast', heading: 'Forecast', blocks: forecastBlocks(index, variance) },
    { id: 'burndown', heading: 'Burndown', blocks: [burndownChart(series)] },
    { id: 'agents', heading: 'Agents this week', blocks: [agentsWeek(index)] },
    { id: 'blocked', heading: 'Blocked', blocks: [blockedTable(index)] },
    { id: 'escalations', heading: 'Open escalations', blocks: [escalationsBlock(index)] },
  ];
  return documentFrame(index, 'weekly-summary', sections);
}
