import type { ProjectSnapshot } from '../coordination/model.js';
import { WorkingCalendar } from '../plan/calendar.js';
import { analysisOf } from './context.js';
import { localDate } from './dates.js';
import {
  DEFAULT_HISTORY_DAYS,
  dailyThroughput,
  type Forecast,
  type PhaseSlip,
  scheduleVariance,
  type ThroughputHistory,
} from './forecast.js';

/** `GET …/forecast`: the weekly summary's forecast as data, computed now. */
export interface ForecastView {
  readonly project: string;
  readonly timezone: string;
  /** `YYYY-MM-DD` in the project's time zone: the forecast's remaining work starts the next working day. */
  readonly today: string;
  /** The plan's own finish, from its estimates alone (`convoy plan`). */
  readonly baselineFinish: string;
  /** P50 / P85 / P95 finish dates, or why there are none. */
  readonly forecast: Forecast;
  /** Working days the P50 finish is after `baselineFinish` (negative: before). */
  readonly varianceDays?: number;
  /** Each active phase with a due date: its forecast and slip. */
  readonly phases: readonly PhaseSlip[];
  /** The throughput the trials draw from: estimate-days finished per working day. */
  readonly history: ThroughputHistory;
}

/**
 * The project's forecast finish from its state alone (one snapshot), with the defaults of the weekly
 * summary (20 working days of history, 10,000 trials, a seed from the calendar and today), so the
 * dashboard and the summary of the same day name the same dates.
 */
export function forecastView(snapshot: ProjectSnapshot, now: Date): ForecastView {
  const plan = snapshot.plan.plan;
  const calendar = new WorkingCalendar(plan.project);
  const analysis = analysisOf(plan);
  const today = localDate(now, plan.project.timezone);
  const history = dailyThroughput({
    plan,
    tasks: snapshot.tasks,
    now,
    calendar,
    days: DEFAULT_HISTORY_DAYS,
  });
  const variance = scheduleVariance({
    plan,
    tasks: snapshot.tasks,
    phaseStatus: (phase) => snapshot.phases.get(phase)?.status ?? 'pending',
    baseline: analysis,
    analysis,
    history: history.days.map((day) => day.finished),
    calendar,
    today,
  });
  return {
    project: snapshot.plan.project,
    timezone: plan.project.timezone,
    today,
    baselineFinish: variance.baselineFinish,
    forecast: variance.forecast,
    ...(variance.varianceDays === undefined ? {} : { varianceDays: variance.varianceDays }),
    phases: variance.phases,
    history,
  };
}
