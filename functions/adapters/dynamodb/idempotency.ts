import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PowertoolsRunOnce } from '../idempotency/run-once.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table-definition.js';

/**
 * `RunOnce` on the coordination table: Powertools' records live in one partition, `IDEMPOTENCY`,
 * sorted by `<scope>#<sha256 of the key>` (keys.ts), and expire through the table's TTL attribute.
 */
export function dynamoDbRunOnce(client: DynamoDBClient, tableName: string): PowertoolsRunOnce {
  return new PowertoolsRunOnce(
    () =>
      new DynamoDBPersistenceLayer({
        tableName,
        awsSdkV3Client: client,
        keyAttr: PARTITION_KEY,
        sortKeyAttr: SORT_KEY,
        staticPkValue: IDEMPOTENCY_PARTITION,
        expiryAttr: TTL_ATTRIBUTE,
      }),
  );
}

/** The partition of Powertools' idempotency records. */
export const IDEMPOTENCY_PARTITION = 'IDEMPOTENCY';
