export {
  instantsAt,
  isScheduledRun,
  type LocalTime,
  localTime,
  MONITORS,
  type Monitor,
  type MonitorName,
  nextFireTimes,
  previousFireTime,
  type ScheduleCron,
  type ScheduledRunDecision,
  scheduleCron,
} from './fire-times.js';
