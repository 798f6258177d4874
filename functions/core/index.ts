/** The core's public entry: the plan model and the pure integration logic. */

export * from './errors.js';
export {
  extractIssueKeys,
  type IssueKeyOptions,
  parseSmartCommits,
  type SmartCommit,
} from './integrations/issue-keys.js';
export {
  IntegrationError,
  type JiraCommand,
  type OutboxEntry,
  type RemoteLink,
} from './integrations/model.js';
export * from './plan/index.js';
