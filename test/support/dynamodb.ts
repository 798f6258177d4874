import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { ensureTable } from '../../functions/adapters/dynamodb/table-definition.js';

/** A table of its own for one test file or test, on the run's shared DynamoDB Local. */
export interface TestTable {
  readonly tableName: string;
  readonly client: DynamoDBClient;
}

/** The endpoint of the DynamoDB Local started by `test/setup/dynamodb-local.ts`. */
export function testEndpoint(): string {
  const endpoint = inject('dynamodbEndpoint');
  if (endpoint === undefined) {
    throw new Error(
      'No DynamoDB Local endpoint was provided: add test/setup/dynamodb-local.ts to test.globalSetup in vitest.config.ts',
    );
  }
  return endpoint;
}

/** A client for the shared DynamoDB Local; dummy credentials, so no AWS configuration is needed. */
export function testClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: testEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'convoytest', secretAccessKey: 'convoytest' },
    maxAttempts: 3,
  });
}

/**
 * Creates a table with the coordination table's schema under a unique name, so test files running
 * in parallel never see each other's items.
 */
export async function createTestTable(client: DynamoDBClient = testClient()): Promise<TestTable> {
  const tableName = `test-${randomUUID()}`;
  await ensureTable(client, tableName);
  return { tableName, client };
}
