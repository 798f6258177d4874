/**
 * The names of the environment variables the stack sets on the functions (lib/) and the handlers
 * read (config.ts): one spelling for both sides. No imports, so a bundle or the CDK app that needs
 * a name pulls in nothing else.
 */

/** The DynamoDB table holding the coordination state (set by `AppFunction.bindTable`). */
export const TABLE_NAME_ENV = 'CONVOY_TABLE_NAME';
/** Points the SDK at DynamoDB Local (tests and local tools; `convoy dev` passes it in its config). */
export const DYNAMODB_ENDPOINT_ENV = 'CONVOY_DYNAMODB_ENDPOINT';
/** The SQS queue of verified GitHub deliveries (the GitHub webhook function only). */
export const GITHUB_QUEUE_URL_ENV = 'CONVOY_GITHUB_QUEUE_URL';
/** Overrides every plan's JIRA site: tests and self-hosted JIRA. */
export const JIRA_BASE_URL_ENV = 'CONVOY_JIRA_BASE_URL';
/** Where Slack's Web API is (tests point it at a local server). */
export const SLACK_API_URL_ENV = 'CONVOY_SLACK_API_URL';
/** JIRA requests per minute per site. */
export const JIRA_REQUESTS_PER_MINUTE_ENV = 'CONVOY_JIRA_REQUESTS_PER_MINUTE';
/** The phase-gate state machine. */
export const GATE_STATE_MACHINE_ARN_ENV = 'CONVOY_GATE_STATE_MACHINE_ARN';
/** The EventBridge bus domain events go to. */
export const EVENT_BUS_NAME_ENV = 'CONVOY_EVENT_BUS_NAME';
/** The Secrets Manager secret holding the integration credentials (a JSON object keyed by `SECRET_NAMES`). */
export const SECRETS_ARN_ENV = 'CONVOY_SECRETS_ARN';
/** Deployed: the Secrets Manager secret holding the token key (a generated string). */
export const TOKEN_KEY_ARN_ENV = 'CONVOY_TOKEN_KEY_ARN';
/** Locally: the file holding the token key. */
export const TOKEN_KEY_FILE_ENV = 'CONVOY_TOKEN_KEY_FILE';
/** `core`: the MCP function serves only the agent loop's tools unless a request asks for all (`?tools=all`). */
export const MCP_TOOLS_ENV = 'CONVOY_MCP_TOOLS';
/** Powertools' log level (DEBUG, INFO, WARN, ERROR...). */
export const LOG_LEVEL_ENV = 'POWERTOOLS_LOG_LEVEL';
/** Powertools' service name, which every log line carries. */
export const SERVICE_NAME_ENV = 'POWERTOOLS_SERVICE_NAME';

/**
 * The keys the deployed secret's template holds, as it was first deployed: CloudFormation writes the
 * template again whenever it changes, which would reset every credential in it. A key added later
 * (CONVOY_GITHUB_TOKEN) is read when present, and put by hand with put-secret-value; never add it here, but to
 * {@link SECRET_NAMES}.
 */
export const SECRET_TEMPLATE_NAMES = [
  'CONVOY_GITHUB_WEBHOOK_SECRET',
  'CONVOY_JIRA_EMAIL',
  'CONVOY_JIRA_API_TOKEN',
  'CONVOY_JIRA_WEBHOOK_SECRET',
  'CONVOY_SLACK_BOT_TOKEN',
  'CONVOY_SLACK_SIGNING_SECRET',
] as const;

/**
 * The integration credentials: environment variables locally, and the keys of the `SECRETS_ARN_ENV`
 * secret deployed.
 */
export const SECRET_NAMES = [
  ...SECRET_TEMPLATE_NAMES,
  // Lists a pull request's files for conflict detection (the GitHub worker only); optional.
  'CONVOY_GITHUB_TOKEN',
] as const;
