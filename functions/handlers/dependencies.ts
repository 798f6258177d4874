import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCoordinationStore, timeOrderedIds } from '../adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../adapters/dynamodb/escalation-store.js';
import { DynamoDbGateStore } from '../adapters/dynamodb/gate-store.js';
import { dynamoDbRunOnce } from '../adapters/dynamodb/idempotency.js';
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
  RunOnce,
  TokenStore,
  WorkQueue,
} from '../core/ports.js';
import { readConfig } from './config.js';
import type { TokenKey } from './http/auth.js';
import { buildIntegrations, type IntegrationDependencies } from './integrations.js';
import { logger } from './logger.js';
import { loadSecrets, type Secrets } from './secrets.js';
import { tokenKeyFromEnvironment } from './token-key.js';

export interface Dependencies extends CoordinationPorts {
  readonly tokens: TokenStore;
  /** Report charts, kept for later display and shared with the reports. */
  readonly charts: ChartArchive;
  readonly idempotency: IdempotencyStore;
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
  /** The key API tokens are sealed with (functions/handlers/token-key.ts); never logged. */
  readonly tokenKey?: TokenKey;
}

const LOCAL_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

let cached: Dependencies | undefined;
let documentClient: DynamoDBDocumentClient | undefined;
let table: string | undefined;
let integrationsCache: Promise<IntegrationDependencies> | undefined;

/** The JIRA and Slack side, built once per container from the same table and credentials. */
export function integrations(): Promise<IntegrationDependencies> {
  if (!integrationsCache) {
    const deps = dependencies();
    const config = readConfig();
    integrationsCache = buildIntegrations(deps, {
      documentClient: documentClient as DynamoDBDocumentClient,
      tableName: table as string,
      print: (line) => logger.info(line),
      ...(config.jiraBaseUrl ? { jiraBaseUrl: config.jiraBaseUrl } : {}),
      ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}),
      jiraRequestsPerMinute: config.jiraRequestsPerMinute,
    });
  }
  return integrationsCache;
}

/** The table the dependencies use, for adapters built next to them (convoy dev, tests). */
export function stateTable(): { documentClient: DynamoDBDocumentClient; tableName: string } {
  dependencies();
  return { documentClient: documentClient as DynamoDBDocumentClient, tableName: table as string };
}

/** Replaces the integrations, for convoy dev and tests that wire their own. */
export function setIntegrations(next: IntegrationDependencies | undefined): void {
  integrationsCache = next === undefined ? undefined : Promise.resolve(next);
}

/**
 * The composition root: built on first use (so `convoy dev` can set the environment first) and
 * reused by every later invocation of the same container, SDK client included.
 */
export function dependencies(): Dependencies {
  if (!cached) {
    const config = readConfig();
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
    documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    table = config.tableName;
    const store = new DynamoDbCoordinationStore(documentClient, table);
    const queueUrl = config.githubQueueUrl;
    cached = {
      store,
      outbox: new DynamoDbOutbox(documentClient, table),
      tokens: store,
      idempotency: store,
      once: dynamoDbRunOnce(client, table),
      charts: store,
      escalations: new DynamoDbEscalationStore(documentClient, table),
      gates: new DynamoDbGateStore(documentClient, table),
      ...(config.gateStateMachineArn
        ? {
            workflow: new SfnGateWorkflow(
              new SFNClient({ region: config.region }),
              config.gateStateMachineArn,
            ),
          }
        : {}),
      ...(config.eventBusName
        ? {
            events: new EventBridgeDomainEventBus(
              new EventBridgeClient({ region: config.region }),
              config.eventBusName,
            ),
          }
        : {}),
      clock: { now: () => new Date() },
      pause: realPause,
      ids: timeOrderedIds,
      ...(queueUrl
        ? {
            githubQueue: new SqsWorkQueue<GithubDelivery>(new SQSClient({ region: config.region }), queueUrl),
          }
        : {}),
      secrets: () => loadSecrets(),
      tokenKey: tokenKeyFromEnvironment(),
    };
  }
  return cached;
}

/** Replaces the dependencies, for tests that run handlers against their own table. */
export function setDependencies(next: Dependencies | undefined): void {
  cached = next;
}
