import { ConvoyError } from '../core/errors.js';

/** The one module that reads the environment of the Lambda handlers (and of `convoy dev`). */
export interface HandlerConfig {
  readonly tableName: string;
  /** Set by `convoy dev` and the tests to point the SDK at DynamoDB Local. */
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  /** SQS queue of verified GitHub deliveries (deployed); convoy dev uses an in-process queue. */
  readonly githubQueueUrl?: string;
  /** Overrides every plan's JIRA site: tests and self-hosted endpoints. */
  readonly jiraBaseUrl?: string;
  readonly slackApiUrl?: string;
  /** JIRA requests per minute per site. @default 100 */
  readonly jiraRequestsPerMinute: number;
  /** The phase-gate state machine (deployed); convoy dev runs the ASL in process. */
  readonly gateStateMachineArn?: string;
  /** The EventBridge bus domain events go to (deployed); convoy dev uses an in-process bus. */
  readonly eventBusName?: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  const tableName = env.CONVOY_TABLE_NAME;
  if (!tableName)
    throw new Error(
      'CONVOY_TABLE_NAME is not set: the handler does not know which table holds the coordination state',
    );
  return {
    tableName,
    ...(env.CONVOY_DYNAMODB_ENDPOINT ? { dynamodbEndpoint: env.CONVOY_DYNAMODB_ENDPOINT } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(env.CONVOY_GITHUB_QUEUE_URL ? { githubQueueUrl: env.CONVOY_GITHUB_QUEUE_URL } : {}),
    ...(env.CONVOY_JIRA_BASE_URL ? { jiraBaseUrl: env.CONVOY_JIRA_BASE_URL } : {}),
    ...(env.CONVOY_SLACK_API_URL ? { slackApiUrl: env.CONVOY_SLACK_API_URL } : {}),
    jiraRequestsPerMinute:
      positive(env.CONVOY_JIRA_REQUESTS_PER_MINUTE, 'CONVOY_JIRA_REQUESTS_PER_MINUTE', 1000) ?? 100,
    ...(env.CONVOY_GATE_STATE_MACHINE_ARN ? { gateStateMachineArn: env.CONVOY_GATE_STATE_MACHINE_ARN } : {}),
    ...(env.CONVOY_EVENT_BUS_NAME ? { eventBusName: env.CONVOY_EVENT_BUS_NAME } : {}),
  };
}

/** A configuration value that makes no sense: the message names the variable and what it accepts. */
export class ConfigError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_config', message, options);
    this.name = 'ConfigError';
  }
}

function positive(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw new ConfigError(`${name} must be a whole number from 1 to ${max}, got "${value}"`);
  }
  return number;
}
