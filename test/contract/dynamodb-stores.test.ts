import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll } from 'vitest';
import { DynamoDbCoordinationStore } from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../../functions/adapters/dynamodb/escalation-store.js';
import { DynamoDbGateStore } from '../../functions/adapters/dynamodb/gate-store.js';
import { keys } from '../../functions/adapters/dynamodb/keys.js';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import { DynamoDbRateLimiter } from '../../functions/adapters/dynamodb/rate-limiter.js';
import type { DomainEvent } from '../../functions/core/domain-events.js';
import { createTestTable, testClient } from '../support/dynamodb.js';
import { describeStoreContract } from './stores.js';

const client = testClient();
afterAll(() => client.destroy());

describeStoreContract('DynamoDB stores on DynamoDB Local', async () => {
  // A table per test: the outbox, tokens and idempotency records are not per project.
  const { tableName } = await createTestTable(client);
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoDbCoordinationStore(documentClient, tableName);
  return {
    store,
    escalations: new DynamoDbEscalationStore(documentClient, tableName),
    gates: new DynamoDbGateStore(documentClient, tableName),
    outbox: new DynamoDbOutbox(documentClient, tableName),
    tokens: store,
    idempotency: store,
    charts: store,
    limiter: (options) => new DynamoDbRateLimiter(documentClient, tableName, options),
    publishedEvent: async (id) => {
      const { Item } = await documentClient.send(
        new GetCommand({ TableName: tableName, Key: keys.domainEvent(id), ConsistentRead: true }),
      );
      return Item?.event as DomainEvent | undefined;
    },
  };
});
