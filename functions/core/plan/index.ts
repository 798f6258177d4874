export { analysePlan, type PhaseSchedule, type PlanAnalysis, type TaskSchedule } from './analysis.js';
export { WorkingCalendar } from './calendar.js';
export { planJsonSchema } from './json-schema.js';
export { DEFAULT_LEASE_MILLIS, leaseDuration } from './lease.js';
export * from './lexical.js';
export { formatPlanError, type ParseOptions, type ParseResult, type PlanError, parsePlan } from './parse.js';
export {
  type Agent,
  DEFAULT_SCHEDULES,
  type Escalation,
  type Gate,
  JOBS,
  type Job,
  type Person,
  type Phase,
  type Plan,
  type Resource,
  type Schedule,
  type Task,
  type TaskStatus,
} from './schema.js';
