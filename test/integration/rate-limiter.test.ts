import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRateLimiter } from '../../functions/adapters/dynamodb/rate-limiter.js';
import { createTestTable, testClient } from '../support/dynamodb.js';

const START = Date.parse('2026-03-02T09:00:00.000Z');
const at = (ms: number) => new Date(START + ms);

let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  client = testClient();
  documents = DynamoDBDocumentClient.from(client);
  ({ tableName } = await createTestTable(client));
});

afterAll(() => {
  client.destroy();
});

describe('DynamoDbRateLimiter', () => {
  it('lets exactly capacity requests through when many workers race for the tokens', async () => {
    // Prepare: twenty workers, each with its own limiter on the same bucket, all at one instant.
    const workers = Array.from(
      { length: 20 },
      () => new DynamoDbRateLimiter(documents, tableName, { name: 'race', capacity: 5 }),
    );

    // Act: each asks until it gets a token or is told to wait for the window (not for contention).
    const granted = await Promise.all(
      workers.map(async (limiter) => {
        for (;;) {
          const wait = await limiter.tryAcquire(at(0));
          if (wait === 0) return true;
          if (wait >= 1_000) return false;
        }
      }),
    );

    // Assess
    expect(granted.filter(Boolean)).toHaveLength(5);
  });

  it('tells a caller to wait until the oldest token taken comes back', async () => {
    // Prepare
    const limiter = new DynamoDbRateLimiter(documents, tableName, {
      name: 'window',
      capacity: 3,
      windowMs: 10_000,
    });

    // Act
    const answers = [];
    for (const ms of [0, 1_000, 2_000, 3_000, 9_999, 10_000, 10_500, 11_000])
      answers.push([ms, await limiter.tryAcquire(at(ms))]);

    // Assess
    expect(answers).toEqual([
      [0, 0],
      [1_000, 0],
      [2_000, 0],
      [3_000, 7_000],
      [9_999, 1],
      [10_000, 0],
      [10_500, 500],
      [11_000, 0],
    ]);
  });

  it('keeps the buckets of two sites apart', async () => {
    // Prepare
    const busy = new DynamoDbRateLimiter(documents, tableName, { name: 'jira:busy', capacity: 1 });
    const quiet = new DynamoDbRateLimiter(documents, tableName, { name: 'jira:quiet', capacity: 1 });
    await busy.tryAcquire(at(0));

    // Act
    const answers = [await busy.tryAcquire(at(1)), await quiet.tryAcquire(at(1))];

    // Assess
    expect(answers).toEqual([59_999, 0]);
  });

  it('refuses a capacity its single item cannot hold, saying what to do', () => {
    // Act
    const create = () => new DynamoDbRateLimiter(documents, tableName, { name: 'huge', capacity: 5_000 });

    // Assess
    expect(create).toThrow(/from 1 to 1000, got 5000: for a higher rate, use a shorter window/);
  });
});
