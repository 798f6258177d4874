import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DynamoDbCoordinationStore,
  timeOrderedIds,
} from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../../functions/adapters/dynamodb/escalation-store.js';
import { DynamoDbGateStore } from '../../functions/adapters/dynamodb/gate-store.js';
import { dynamoDbRunOnce } from '../../functions/adapters/dynamodb/idempotency.js';
import { realPause } from '../../functions/adapters/node/timers.js';
import { applyPlan } from '../../functions/core/coordination/commands.js';
import type { Dependencies, StateTable } from '../../functions/handlers/dependencies.js';
import { mintToken } from '../../functions/handlers/http/auth.js';
import {
  type IntegrationSettings,
  type WorkerDependencies,
  withIntegrations,
} from '../../functions/handlers/integrations.js';
import { createLogger } from '../../functions/handlers/logger.js';
import { makeHttpHandlers } from '../../functions/local/handler-registry.js';
import { type LocalApiServer, startLocalApi } from '../../functions/local/http-server.js';
import { type LocalWorkflows, startLocalWorkflows } from '../../functions/local/local-workflows.js';
import { validPlan } from '../fixtures/plans.js';
import { createTestTable } from './dynamodb.js';

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface TestApi {
  readonly url: string;
  /** The test's own table, for adapters the test builds itself. */
  readonly table: StateTable;
  /** What the handlers run with: the ports (after `options.deps`), a logger and the integrations over them. */
  readonly deps: WorkerDependencies;
  /** The in-process gate workflow and event bus, as convoy dev runs them. */
  readonly workflows: LocalWorkflows;
  readonly admin: string;
  /** Applies a plan (YAML) directly through the use case, as `convoy dev` does at start. */
  apply(yaml: string): Promise<void>;
  /** A token for an agent or person of a project, minted as the API mints its own. */
  token(role: 'agent' | 'person', project: string, subject: string): Promise<string>;
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/**
 * The real local HTTP server and Lambda handlers over a fresh table of the run's DynamoDB Local: what
 * `convoy dev` serves, minus the plan file and the tokens file.
 */
export async function startTestApi(
  options: {
    timing?: Omit<Parameters<typeof startLocalWorkflows>[1], 'log'>;
    /** The key tokens are sealed with, as convoy dev's token-key file holds it. @default 32 random bytes */
    tokenKey?: Uint8Array;
    /**
     * The ports the handlers run with, from the test API's own (with the in-process workflow and bus):
     * an outbox, credentials. The integrations are built over the result.
     */
    deps?: (ports: Dependencies, table: StateTable) => Dependencies;
    /** Where the integrations send (a local Slack server). */
    integrations?: IntegrationSettings;
  } = {},
): Promise<TestApi> {
  const { client, tableName } = await createTestTable();
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoDbCoordinationStore(documentClient, tableName);
  const tokenKey = options.tokenKey ?? randomBytes(32);
  const base: Dependencies = {
    store,
    tokens: store,
    idempotency: store,
    once: dynamoDbRunOnce(client, tableName),
    charts: store,
    escalations: new DynamoDbEscalationStore(documentClient, tableName),
    gates: new DynamoDbGateStore(documentClient, tableName),
    clock: { now: () => new Date() },
    pause: realPause,
    ids: timeOrderedIds,
    secrets: async () => ({}),
    tokenKey: async () => tokenKey,
  };
  const workflows = await startLocalWorkflows(base, {
    log: () => undefined,
    stream: { client, documentClient, tableName },
    ...options.timing,
  });
  const table: StateTable = { client, documentClient, tableName };
  const ports = options.deps ? options.deps(workflows.deps, table) : workflows.deps;
  const deps = withIntegrations({ ...ports, logger: createLogger() }, table, {
    print: () => undefined,
    ...options.integrations,
  });
  const server: LocalApiServer = await startLocalApi({
    port: 0,
    handlers: makeHttpHandlers(deps),
    log: () => undefined,
  });
  const { token: admin } = await mintToken(deps, { role: 'admin' }, new Date().toISOString());
  return {
    url: server.url,
    table,
    deps,
    workflows,
    admin,
    async apply(yaml) {
      const plan = validPlan(yaml);
      await applyPlan(deps, { project: plan.project.id, plan, actor: { kind: 'admin' } });
    },
    async token(role, project, subject) {
      return (await mintToken(deps, { role, project, subject }, new Date().toISOString())).token;
    },
    async call(method, path, options = {}) {
      const token = options.token === undefined ? admin : options.token;
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.raw !== undefined
          ? { body: options.raw }
          : options.body !== undefined
            ? { body: JSON.stringify(options.body) }
            : {}),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
    },
    async close() {
      await server.close();
      await workflows.stop();
    },
  };
}
