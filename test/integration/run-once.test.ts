import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbRunOnce, IDEMPOTENCY_PARTITION } from '../../functions/adapters/dynamodb/idempotency.js';
import { TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table-definition.js';
import { MemoryPersistenceLayer, PowertoolsRunOnce } from '../../functions/adapters/idempotency/run-once.js';
import { RunInProgressError, RunKeyReusedError } from '../../functions/core/errors.js';
import type { OnceOptions, RunOnce } from '../../functions/core/ports.js';
import { createTestTable, type TestTable } from '../support/dynamodb.js';

const OPTIONS: OnceOptions = { scope: 'test', holdSeconds: 60, keepSeconds: 3600 };

let table: TestTable;
beforeAll(async () => {
  table = await createTestTable();
});

/** The same cases for Powertools over DynamoDB Local and over memory: the two behave alike. */
describe.each([
  ['DynamoDB', () => dynamoDbRunOnce(table.client, table.tableName)],
  ['memory', () => new PowertoolsRunOnce(() => new MemoryPersistenceLayer())],
] as const)('RunOnce over %s', (_name, make: () => RunOnce) => {
  const unique = () => `key-${Math.random().toString(36).slice(2)}`;

  it('runs the work once and replays its outcome to a repeat', async () => {
    const once = make();
    const key = unique();
    let runs = 0;
    const work = async () => ({ run: ++runs });

    const first = await once.run(OPTIONS, key, 'a', work);
    const repeat = await once.run(OPTIONS, key, 'a', work);

    expect(first).toEqual({ outcome: { run: 1 }, replayed: false });
    expect(repeat).toEqual({ outcome: { run: 1 }, replayed: true });
    expect(runs).toBe(1);
  });

  it('keeps an outcome as JSON: a field left undefined is dropped, not a failed write', async () => {
    const once = make();
    const key = unique();
    const work = async () => ({ kept: 1, left: undefined });

    const first = await once.run(OPTIONS, key, '', work);
    const repeat = await once.run(OPTIONS, key, '', work);

    expect(first.outcome).toEqual({ kept: 1, left: undefined });
    expect(repeat).toEqual({ outcome: { kept: 1 }, replayed: true });
    expect(Object.keys(repeat.outcome)).toEqual(['kept']);
  });

  it('refuses a repeat while the first runs, and one with another fingerprint', async () => {
    const once = make();
    const key = unique();
    let finish: (value: string) => void = () => undefined;
    const running = once.run(OPTIONS, key, 'a', () => new Promise<string>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const concurrent = once.run(OPTIONS, key, 'a', async () => 'second');
    await expect(concurrent).rejects.toBeInstanceOf(RunInProgressError);
    finish('first');
    await expect(running).resolves.toEqual({ outcome: 'first', replayed: false });
    await expect(once.run(OPTIONS, key, 'b', async () => 'other')).rejects.toBeInstanceOf(RunKeyReusedError);
  });

  it('keeps nothing of work that failed, so a retry runs it again', async () => {
    const once = make();
    const key = unique();

    const failed = once.run(OPTIONS, key, 'a', async () => {
      throw new Error('down');
    });
    await expect(failed).rejects.toThrow('down');
    const retry = await once.run(OPTIONS, key, 'a', async () => 'done');

    expect(retry).toEqual({ outcome: 'done', replayed: false });
  });

  it('keeps scopes apart: the same key in another scope runs again', async () => {
    const once = make();
    const key = unique();
    await once.run(OPTIONS, key, '', async () => 'test');

    const other = await once.run({ ...OPTIONS, scope: 'other' }, key, '', async () => 'other');

    expect(other).toEqual({ outcome: 'other', replayed: false });
  });
});

describe('RunOnce over DynamoDB', () => {
  it('stores its records in the IDEMPOTENCY partition, expiring through the table’s TTL attribute', async () => {
    const once = dynamoDbRunOnce(table.client, table.tableName);
    const before = Math.floor(Date.now() / 1000);
    await once.run({ ...OPTIONS, scope: 'ttl' }, 'k', '', async () => 'x');

    const { Items = [] } = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :scope)',
        ExpressionAttributeValues: { ':pk': { S: IDEMPOTENCY_PARTITION }, ':scope': { S: 'ttl#' } },
      }),
    );

    expect(Items).toHaveLength(1);
    const expires = Number(Items[0]?.[TTL_ATTRIBUTE]?.N);
    expect(expires).toBeGreaterThanOrEqual(before + OPTIONS.keepSeconds);
    expect(expires).toBeLessThanOrEqual(before + OPTIONS.keepSeconds + 5);
  });
});
