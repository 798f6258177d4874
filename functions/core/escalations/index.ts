/** The escalation engine: rules from the plan, one open escalation per rule and subject, SLA ladders. */

export { acknowledge, confirmReassignment, MAX_SNOOZE_MS, mayHandle, resolve, snooze } from './actions.js';
export { dedupKey, nextDueAt, onEvent, onMetrics, onTick, type TickOptions } from './engine.js';
export type {
  Escalation,
  EscalationChange,
  EscalationChangeKind,
  EscalationEvent,
  EscalationHistoryEntry,
  EscalationNotice,
  EscalationResolution,
  EscalationRule,
  EscalationStatus,
  Reassignment,
} from './model.js';
export { escalationsChannel } from './notices.js';
export {
  agentAbout,
  BUILTIN_AGENT_DOWN_RULE,
  CLEARING_EVENTS,
  escalationRules,
  eventSubject,
  levelCount,
  PROJECT_SUBJECT,
  resolveTargets,
  ruleLevel,
  wantsJiraIssue,
} from './rules.js';
