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
 * It listens on 127.0.0.1 with telemetry off, and ends with the vitest process however that ends
 * (passing, failing, Ctrl-C or killed): the teardown stops it, and its launcher exits when vitest's
 * end of its standard input closes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A JVM start took 20 s and more beside CDK synthesis on two busy cores.
  const dynamoDb = await startDynamoDbLocal({ readyTimeoutMs: 120_000, log: (line) => console.warn(line) });
  project.provide('dynamodbEndpoint', dynamoDb.endpoint);
  return () => dynamoDb.stop();
}
