import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCoordinationStore, timeOrderedIds } from '../adapters/dynamodb/coordination-store.js';
import type { CoordinationPorts } from '../core/coordination/commands.js';
import type { IdempotencyStore, TokenStore } from '../core/ports.js';
import { readConfig } from './config.js';

export interface Dependencies extends CoordinationPorts {
  readonly tokens: TokenStore;
  readonly idempotency: IdempotencyStore;
}

let cached: Dependencies | undefined;

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
          }
        : {}),
    });
    const store = new DynamoDbCoordinationStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      config.tableName,
    );
    cached = {
      store,
      tokens: store,
      idempotency: store,
      clock: { now: () => new Date() },
      ids: timeOrderedIds,
    };
  }
  return cached;
}

/** Replaces the dependencies, for tests that run handlers against their own table. */
export function setDependencies(next: Dependencies | undefined): void {
  cached = next;
}
