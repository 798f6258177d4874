import { dynamoDbRunOnce } from '../adapters/dynamodb/idempotency.js';
import type { HandlerConfig } from './config.js';
import {
  createDependencies,
  type Dependencies,
  type HandlerDependencies,
  openStateTable,
  type StateTable,
} from './dependencies.js';

/**
 * `deps` running work once with Powertools idempotency on `table`. Only the functions that run keyed
 * API requests, webhook deliveries or scheduled jobs once compose it, so only their bundles carry
 * Powertools idempotency and its JMESPath engine (about 45 KB).
 */
export function withRunOnce<D extends Dependencies>(
  deps: D,
  table: Pick<StateTable, 'client' | 'tableName'>,
): D {
  return { ...deps, once: dynamoDbRunOnce(table.client, table.tableName) };
}

/** The composition root of those functions: `createDependencies` and `withRunOnce` on one table. */
export function createRunOnceDependencies(config: HandlerConfig): HandlerDependencies {
  const table = openStateTable(config);
  return withRunOnce(createDependencies(config, table), table);
}
