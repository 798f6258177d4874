import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../functions/local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the DynamoDB Local shared by the whole run; tables isolate test files. */
    dynamodbEndpoint: string;
  }
}

/**
 * Starts one in-memory DynamoDB Local for the whole test run: a JVM per test file would cost
 * seconds and hundreds of megabytes each. Test files reach it through `test/support/dynamodb.ts`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamoDb = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamoDb.endpoint);
  return () => dynamoDb.stop();
}
