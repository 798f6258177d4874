/** Reports: pure functions from coordination state to a document that adapters render. */
export { type BurndownPoint, type BurndownSeries, buildBurndown } from './burndown.js';
export { buildDailyReport } from './daily.js';
export { formatDay, formatInstant, formatShortDay } from './dates.js';
export { agentParts, buildReport, forAgent, type ReportOptions } from './document.js';
export {
  dailyThroughput,
  type Forecast,
  type ForecastInput,
  type ForecastPercentile,
  forecastFinish,
  forecastMany,
  mulberry32,
  type PhaseSlip,
  remainingEstimate,
  type ScheduleVariance,
  scheduleVariance,
  seedFrom,
  type ThroughputHistory,
  velocityByWeek,
  type WeekVelocity,
} from './forecast.js';
export { renderMarkdown } from './markdown.js';
export * from './model.js';
export { renderPlainText } from './plain-text.js';
export { buildStandup } from './standup.js';
export { buildSync } from './sync.js';
export { buildWeeklySummary, type WeeklyOptions } from './weekly.js';
