import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoDbCoordinationStore, timeOrderedIds } from '../adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../adapters/dynamodb/escalation-store.js';
import { DynamoDbGateStore } from '../adapters/dynamodb/gate-store.js';
import { DynamoDbOutbox } from '../adapters/dynamodb/outbox.js';
import { EventBridgeDomainEventBus } from '../adapters/eventbridge/eventbridge-bus.js';
import { realPause } from '../adapters/node/timers.js';
import { SqsWorkQueue } from '../adapters/sqs/sqs-queue.js';
import { SfnGateWorkflow } from '../adapters/stepfunctions/sfn-gate-workflow.js';
import type { CoordinationPorts } from '../core/coordination/commands.js';
import type { GateWorkflow } from '../core/gates/workflow.js';
import type { GithubDelivery } from '../core/integrations/github-events.js';
import type {
  ChartArchive,
  EscalationStore,
  GateStore,
  IdempotencyStore,
  PullRequestFiles,
  RunOnce,
  TokenStore,
  WorkQueue,
} from '../core/ports.js';
import { ConfigError, type HandlerConfig, readConfig } from './config.js';
import type { TokenKey } from './http/auth.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecrets, type Secrets } from './secrets.js';
import { tokenKeyFrom } from './token-key.js';

/** The ports of every use case the handlers run. */
export interface Dependencies extends CoordinationPorts {
  readonly tokens: TokenStore;
  /** Report charts, kept for later display and shared with the reports. */
  readonly charts: ChartArchive;
  /** Holds a handoff against a concurrent retry (core/coordination/commands.ts). */
  readonly idempotency: IdempotencyStore;
  /** Runs keyed API requests, webhook deliveries and scheduled jobs once (Powertools idempotency). */
  readonly once: RunOnce;
  /** Unresolved escalations and their history. */
  readonly escalations: EscalationStore;
  /** Gate state and decisions. */
  readonly gates: GateStore;
  /** Starts and resumes phase-gate workflows (Step Functions deployed, in process locally). */
  readonly workflow?: GateWorkflow;
  /** Where verified GitHub deliveries wait for the worker (SQS deployed, in process locally). */
  readonly githubQueue?: WorkQueue<GithubDelivery>;
  /** Integration credentials; never logged. */
  readonly secrets: () => Promise<Secrets>;
  /** Lists pull requests' files (the GitHub worker); default: Octokit with `CONVOY_GITHUB_TOKEN`. */
  readonly pullRequestFiles?: PullRequestFiles;
  /** The key API tokens are sealed with (functions/handlers/token-key.ts); never logged. */
  readonly tokenKey?: TokenKey;
}

/**
 * What a `make…Handler` takes: the ports and the logger. The workers take the JIRA and Slack side
 * too (`WorkerDependencies`, integrations.ts), which no other function's bundle reaches.
 */
export interface HandlerDependencies extends Dependencies {
  readonly logger: Logger;
}

/** The DynamoDB table the ports are over, for adapters built beside them. */
export interface StateTable {
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
}

const LOCAL_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

/** The SDK clients of the configured table: DynamoDB Local's when the config names an endpoint. */
export function openStateTable(
  config: Pick<HandlerConfig, 'tableName' | 'region' | 'dynamodbEndpoint'>,
): StateTable {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint
      ? {
          endpoint: config.dynamodbEndpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          // DynamoDB Local reads the access key from the header but checks no signature, so a
          // constant one saves the SigV4 work on every call.
          signer: {
            sign: async (request: { headers: Record<string, string> }) => {
              request.headers.authorization = LOCAL_AUTHORIZATION;
              return request;
            },
          } as never,
        }
      : {}),
  });
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, documentClient, tableName: config.tableName };
}

/**
 * The ports over `table` and the AWS services `config` names (Step Functions, EventBridge, SQS);
 * without them, there is no workflow, bus or queue, and `convoy dev` adds its in-process ones.
 */
export function createPorts(config: HandlerConfig, table: StateTable = openStateTable(config)): Dependencies {
  const { documentClient, tableName } = table;
  const store = new DynamoDbCoordinationStore(documentClient, tableName);
  return {
    store,
    outbox: new DynamoDbOutbox(documentClient, tableName),
    tokens: store,
    idempotency: store,
    once: NO_RUN_ONCE,
    charts: store,
    escalations: new DynamoDbEscalationStore(documentClient, tableName),
    gates: new DynamoDbGateStore(documentClient, tableName),
    ...(config.gateStateMachineArn
      ? {
          workflow: new SfnGateWorkflow(
            lazyClient(
              async () => new (await import('@aws-sdk/client-sfn')).SFNClient({ region: config.region }),
            ),
            config.gateStateMachineArn,
          ),
        }
      : {}),
    ...(config.eventBusName
      ? {
          events: new EventBridgeDomainEventBus(
            lazyClient(
              async () =>
                new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient({
                  region: config.region,
                }),
            ),
            config.eventBusName,
          ),
        }
      : {}),
    clock: { now: () => new Date() },
    pause: realPause,
    ids: timeOrderedIds,
    ...(config.githubQueueUrl
      ? {
          githubQueue: new SqsWorkQueue<GithubDelivery>(
            lazyClient(
              async () => new (await import('@aws-sdk/client-sqs')).SQSClient({ region: config.region }),
            ),
            config.githubQueueUrl,
          ),
        }
      : {}),
    secrets: () => loadSecrets(config),
    tokenKey: tokenKeyFrom(config),
  };
}

/**
 * The `once` of a function composed without Powertools idempotency, which only the functions that run
 * keyed requests, deliveries or jobs once load (handlers/run-once.ts): in any other, a call is a bug.
 */
const NO_RUN_ONCE: RunOnce = {
  run: () =>
    Promise.reject(
      new ConfigError(
        'this function was composed without RunOnce; compose it with createRunOnceDependencies (functions/handlers/run-once.ts)',
      ),
    ),
};

/**
 * The composition root: the ports and the logger, from `config` (`readConfig()` deployed; its own
 * object for `convoy dev` and the tests). One SDK client per table, reused by every invocation.
 */
export function createDependencies(
  config: HandlerConfig,
  table: StateTable = openStateTable(config),
): HandlerDependencies {
  return { ...createPorts(config, table), logger: createLogger(config.logLevel) };
}

/** A Lambda handler as the runtime invokes it. */
export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/**
 * The Lambda entry point of `make`: composed from the environment (`readConfig()`) on the first
 * invocation, by `compose` (`createDependencies` unless the function needs more), and kept for the
 * container's life. Importing the module for its factory (convoy dev, the tests) reads no
 * environment and opens no client.
 */
export function fromEnvironment<TEvent, TResult>(
  make: (deps: HandlerDependencies) => LambdaHandler<TEvent, TResult>,
): LambdaHandler<TEvent, TResult>;
export function fromEnvironment<TDeps, TEvent, TResult>(
  make: (deps: TDeps) => LambdaHandler<TEvent, TResult>,
  compose: (config: HandlerConfig) => TDeps,
): LambdaHandler<TEvent, TResult>;
export function fromEnvironment<TEvent, TResult>(
  make: (deps: HandlerDependencies) => LambdaHandler<TEvent, TResult>,
  compose: (config: HandlerConfig) => HandlerDependencies = createDependencies,
): LambdaHandler<TEvent, TResult> {
  let handler: LambdaHandler<TEvent, TResult> | undefined;
  return (event, context) => {
    handler ??= make(compose(readConfig()));
    return handler(event, context);
  };
}

/**
 * A client made on its first request. Only the DynamoDB client loads with every function; Step
 * Functions, EventBridge and SQS load (about 30, 30 and 15 ms at cold start) in the functions that use
 * them, when they first do: the bundles leave @aws-sdk to the runtime, so the import stays dynamic.
 */
// biome-ignore lint/suspicious/noExplicitAny: the SDK's send is overloaded per command; any command goes.
function lazyClient<C extends { send(command: any): Promise<any> }>(make: () => Promise<C>): Pick<C, 'send'> {
  let client: Promise<C> | undefined;
  const send = async (command: unknown) => {
    client ??= make().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return (await client).send(command);
  };
  return { send } as Pick<C, 'send'>;
}
