import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { ConvoyError } from '../core/errors.js';
import {
  DYNAMODB_ENDPOINT_ENV,
  EVENT_BUS_NAME_ENV,
  GATE_STATE_MACHINE_ARN_ENV,
  GITHUB_QUEUE_URL_ENV,
  JIRA_BASE_URL_ENV,
  JIRA_REQUESTS_PER_MINUTE_ENV,
  LOG_LEVEL_ENV,
  MCP_TOOLS_ENV,
  SECRET_NAMES,
  SECRETS_ARN_ENV,
  SLACK_API_URL_ENV,
  TABLE_NAME_ENV,
  TOKEN_KEY_ARN_ENV,
  TOKEN_KEY_FILE_ENV,
} from './env-names.js';
import type { Secrets } from './secrets.js';

/**
 * Everything a composition of the handlers is configured with (`createDependencies`): what the
 * environment says deployed ({@link readConfig}), or an object `convoy dev` and the tests write.
 */
export interface HandlerConfig {
  readonly tableName: string;
  /** Points the SDK at DynamoDB Local (`convoy dev`, the tests). */
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
  /** The Secrets Manager secret of the integration credentials (deployed). */
  readonly secretsArn?: string;
  /**
   * Integration credentials given directly (locally, as environment variables); they win over the
   * secret's. Never logged: log the names of the keys at most.
   */
  readonly localSecrets: Secrets;
  /** Where the token key is: a Secrets Manager secret (deployed) or a file (`convoy dev`). */
  readonly tokenKeyArn?: string;
  readonly tokenKeyFile?: string;
  /** Which tools the MCP server serves when a request does not say: all, or the agent loop's (`core`). @default 'all' */
  readonly mcpTools?: 'all' | 'core';
  /** The handlers' log level. @default - Powertools' own default (INFO) */
  readonly logLevel?: LogLevel;
}

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/** The one function that reads the environment of the Lambda handlers; the names are in env-names.ts. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  const tableName = env[TABLE_NAME_ENV];
  if (!tableName)
    throw new Error(
      `${TABLE_NAME_ENV} is not set: the handler does not know which table holds the coordination state`,
    );
  const localSecrets: Secrets = {};
  for (const name of SECRET_NAMES) if (env[name]) localSecrets[name] = env[name];
  const logLevel = env[LOG_LEVEL_ENV];
  return {
    tableName,
    ...(env[DYNAMODB_ENDPOINT_ENV] ? { dynamodbEndpoint: env[DYNAMODB_ENDPOINT_ENV] } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(env[GITHUB_QUEUE_URL_ENV] ? { githubQueueUrl: env[GITHUB_QUEUE_URL_ENV] } : {}),
    ...(env[JIRA_BASE_URL_ENV] ? { jiraBaseUrl: env[JIRA_BASE_URL_ENV] } : {}),
    ...(env[SLACK_API_URL_ENV] ? { slackApiUrl: env[SLACK_API_URL_ENV] } : {}),
    jiraRequestsPerMinute:
      positive(env[JIRA_REQUESTS_PER_MINUTE_ENV], JIRA_REQUESTS_PER_MINUTE_ENV, 1000) ?? 100,
    ...(env[GATE_STATE_MACHINE_ARN_ENV] ? { gateStateMachineArn: env[GATE_STATE_MACHINE_ARN_ENV] } : {}),
    ...(env[EVENT_BUS_NAME_ENV] ? { eventBusName: env[EVENT_BUS_NAME_ENV] } : {}),
    ...(env[SECRETS_ARN_ENV] ? { secretsArn: env[SECRETS_ARN_ENV] } : {}),
    localSecrets,
    ...(env[TOKEN_KEY_ARN_ENV] ? { tokenKeyArn: env[TOKEN_KEY_ARN_ENV] } : {}),
    ...(env[TOKEN_KEY_FILE_ENV] ? { tokenKeyFile: env[TOKEN_KEY_FILE_ENV] } : {}),
    ...(logLevel ? { logLevel: oneOf(logLevel, LOG_LEVEL_ENV, LOG_LEVELS) } : {}),
    ...(env[MCP_TOOLS_ENV] ? { mcpTools: mcpToolSet(env[MCP_TOOLS_ENV]) } : {}),
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

function mcpToolSet(value: string): 'all' | 'core' {
  const set = value.toLowerCase();
  if (set !== 'all' && set !== 'core')
    throw new ConfigError(`${MCP_TOOLS_ENV} must be core or all, got "${value}"`);
  return set;
}

function oneOf<T extends string>(value: string, name: string, allowed: readonly T[]): T {
  const upper = value.toUpperCase();
  if (!(allowed as readonly string[]).includes(upper))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return upper as T;
}
