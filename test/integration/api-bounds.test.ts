import { request } from 'node:http';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCoordinationStore } from '../../functions/adapters/dynamodb/coordination-store.js';
import { encodeCursor } from '../../functions/adapters/dynamodb/items.js';
import { keys } from '../../functions/adapters/dynamodb/keys.js';
import { startTestApi, type TestApi } from '../support/api.js';

/**
 * Issue 11's defects at the HTTP edge (D1, D6, D7, D8, D9, D12): every input the API accepts is one
 * the store can hold, every other is a 400 naming the field, and the local server survives anything.
 */

const PROJECT = 'bounds';
const PLAN = `version: 1
project: { id: ${PROJECT}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }, { id: beta, owner: pm }]
phases:
  - id: build
    tasks: [{ id: api, agent: alpha, estimate: 1d }]
`;

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
  await api.apply(PLAN);
  await api.apply(PLAN.replace(`id: ${PROJECT},`, 'id: other,'));
});

afterAll(async () => {
  await api.close();
});

type ErrorBody = { error: { code: string; message: string } };

/** A request the way a client that ignores fetch's rules sends it: any path, any Host header. */
function rawRequest(path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(api.url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

const metricsPath = `/v1/plans/${PROJECT}/metrics`;

describe('D1: the local server survives any request', () => {
  it('answers 400 naming the path parameter for a malformed percent-encoding, and keeps serving', async () => {
    const response = await rawRequest(`/v1/plans/x/tasks/%ZZ/transitions`);

    expect(response.status).toBe(400);
    expect((JSON.parse(response.body) as ErrorBody).error.message).toMatch(/^path\.task: /);
    expect((await api.call('GET', `/v1/plans/${PROJECT}/status`)).status).toBe(200);
  });

  it('routes a request whose Host header is not a host', async () => {
    const response = await rawRequest(`/v1/plans/${PROJECT}/events`, { Host: 'a b' });

    // No token: the route ran and refused it, rather than the server dying on `new URL`.
    expect(response.status).toBe(401);
    expect((await api.call('GET', `/v1/plans/${PROJECT}/status`)).status).toBe(200);
  });
});

describe('D6: numbers and strings are bounded to what DynamoDB holds', () => {
  it.each([
    ['9007199254740992', /body\.value: must be between/],
    ['1e16', /body\.value: must be between/],
    ['1e200', /body\.value: must be between/],
    ['-1e200', /body\.value: must be between/],
    ['0.5e-130', /body\.value: must be 0 or at least 1e-130/],
    ['1e400', /body\.value: must be a finite number/],
  ])('refuses the metric value %s with a 400 naming the field, storing nothing', async (value, message) => {
    const response = await api.call<ErrorBody>('POST', metricsPath, {
      raw: `{"name":"bounds.huge","value":${value}}`,
      headers: { 'content-type': 'application/json' },
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
    const stored = await api.table.documentClient.send(
      new QueryCommand({
        TableName: api.table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.metricSeries(PROJECT, 'bounds.huge') },
      }),
    );
    expect(stored.Items).toEqual([]);
  });

  it('stores the extremes of the range exactly', async () => {
    const values = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-130, -1e-130, 0];
    const at = '2026-01-06T10:00:00.000Z';
    const response = await api.call('POST', metricsPath, {
      body: { metrics: values.map((value) => ({ name: 'bounds.edge', value, at })) },
    });

    expect(response.status).toBe(201);
    const history = await api.deps.store.metricHistory(PROJECT, 'bounds.edge', at);
    expect(history.map((point) => point.value).sort((a, b) => a - b)).toEqual(
      [...values].sort((a, b) => a - b),
    );
  });

  it('refuses a heartbeat completion DynamoDB cannot store', async () => {
    const response = await api.call<ErrorBody>('POST', `/v1/plans/${PROJECT}/agents/alpha/heartbeat`, {
      raw: '{"completion":1e-131}',
      headers: { 'content-type': 'application/json' },
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^body\.completion: must be 0 or at least 1e-130/);
  });

  it('refuses a metric name too long for a key before anything is stored', async () => {
    const name = `m${'a'.repeat(1019)}`;
    const response = await api.call<ErrorBody>('POST', metricsPath, { body: { name, value: 1 } });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^body\.name: too big/);
    const stored = await api.table.documentClient.send(
      new QueryCommand({
        TableName: api.table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.metricSeries(PROJECT, name) },
      }),
    );
    expect(stored.Items).toEqual([]);
  });

  it('refuses an event type too long for the index key', async () => {
    const type = `e${'a'.repeat(2099)}`;
    const posted = await api.call<ErrorBody>('POST', `/v1/plans/${PROJECT}/events`, { body: { type } });
    const listed = await api.call<ErrorBody>('GET', `/v1/plans/${PROJECT}/events?type=${type}`);

    expect(posted.status).toBe(400);
    expect(posted.body.error.message).toMatch(/^body\.type: too big/);
    expect(listed.status).toBe(400);
    expect(listed.body.error.message).toMatch(/^query\.type: too big/);
  });

  it('refuses an escalation id too long for a key', async () => {
    const id = `x${'a'.repeat(1019)}`;
    const response = await api.call<ErrorBody>('POST', `/v1/plans/${PROJECT}/escalations/${id}/ack`, {
      body: {},
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^path\.id: too big/);
  });
});

describe('D6: an events cursor only continues the query it came from', () => {
  const eventsOf = (query: string) => api.call<ErrorBody>('GET', `/v1/plans/${PROJECT}/events?${query}`);

  it('pages through the trail with the cursors it returns', async () => {
    for (let i = 0; i < 3; i++)
      await api.call('POST', `/v1/plans/${PROJECT}/events`, { body: { type: 'deploy.finished' } });

    const first = await api.call<{ events: unknown[]; cursor: string }>(
      'GET',
      `/v1/plans/${PROJECT}/events?type=deploy.finished&limit=2`,
    );
    const second = await api.call<{ events: unknown[] }>(
      'GET',
      `/v1/plans/${PROJECT}/events?type=deploy.finished&limit=2&cursor=${first.body.cursor}`,
    );

    expect(first.body.events).toHaveLength(2);
    expect(second.status).toBe(200);
    expect(second.body.events.length).toBeGreaterThanOrEqual(1);
  });

  const crafted: [string, () => string, string?][] = [
    ['a key of another project', () => encodeCursor(keys.event('other', '2026-01-06T00:00:00.000Z#aa'))],
    ['a token item', () => encodeCursor(keys.token('0'.repeat(64)))],
    ['an empty sort key', () => encodeCursor({ pk: keys.events(PROJECT), sk: '' })],
    [
      'a key of the trail used for a query by type',
      () => encodeCursor(keys.event(PROJECT, '2026-01-06T00:00:00.000Z#aa')),
      'type=deploy.finished',
    ],
    [
      'a key of another type',
      () =>
        encodeCursor({
          ...keys.event(PROJECT, '2026-01-06T00:00:00.000Z#aa'),
          gsi1pk: keys.eventsOfType(PROJECT, 'task.moved'),
          gsi1sk: '2026-01-06T00:00:00.000Z#aa',
        }),
      'type=deploy.finished',
    ],
    [
      'a key before `since`',
      () => encodeCursor(keys.event(PROJECT, '2020-01-01T00:00:00.000Z#aa')),
      'since=2026-01-01T00:00:00Z',
    ],
    ['extra attributes', () => encodeCursor({ ...keys.event(PROJECT, 'x'), role: 'admin' })],
    ['not JSON at all', () => 'bm90IGpzb24'],
  ];

  it.each(crafted)('refuses %s with a 400 naming the cursor', async (_what, cursor, query) => {
    const response = await eventsOf(`${query ? `${query}&` : ''}cursor=${cursor()}`);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toMatch(/^query\.cursor: /);
  });
});

describe('D6: an escalations cursor holds a key DynamoDB accepts', () => {
  it('refuses one with an empty sort key with a 400 naming the cursor', async () => {
    const pk = keys.escalations(PROJECT);
    const cursor = encodeCursor({ pk, sk: '', gsi1pk: pk, gsi1sk: '' });

    const response = await api.call<ErrorBody>('GET', `/v1/plans/${PROJECT}/escalations?cursor=${cursor}`);

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^query\.cursor: /);
  });
});

describe('D7: POST /metrics names the field at fault', () => {
  it.each([
    [{ name: 'tps', value: 'fast' }, /^body\.value: /],
    [{ name: 'Bad Name', value: 1 }, /^body\.name: /],
    [{ value: 1 }, /^body\.name: required field is missing/],
    [{ metrics: [{ name: 'tps', value: 1 }, { name: 'tps' }] }, /^body\.metrics\.1\.value: required/],
    [{ metrics: [] }, /^body\.metrics: /],
    [{ name: 'tps', value: 1, when: 'now' }, /^body\.when: unknown field/],
    [[1, 2], /^body: /],
  ])('%j → %s', async (body, message) => {
    const response = await api.call<ErrorBody>('POST', metricsPath, { body });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
    expect(response.body.error.message).not.toMatch(/^body: invalid input$/i);
  });
});

describe('D8: every acknowledged metric point is kept', () => {
  const series = async (name: string) =>
    (await api.deps.store.metricHistory(PROJECT, name, '2000-01-01T00:00:00.000Z')).map((point) => ({
      value: point.value,
      at: point.at,
    }));

  it('keeps two values posted for the same instant', async () => {
    const at = '2026-01-06T09:00:00.000Z';
    const first = await api.call('POST', metricsPath, { body: { name: 'same.at', value: 1, at } });
    const second = await api.call('POST', metricsPath, { body: { name: 'same.at', value: 2, at } });

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(await series('same.at')).toEqual([
      { value: 1, at },
      { value: 2, at },
    ]);
  });

  it('keeps points posted in the same millisecond without `at`', async () => {
    const responses = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((value) => api.call('POST', metricsPath, { body: { name: 'same.ms', value } })),
    );

    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect((await series('same.ms')).map((point) => point.value).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stores a repeated point once: a retry is idempotent', async () => {
    const point = { name: 'retried', value: 7, at: '2026-01-06T09:30:00.000Z' };
    await api.call('POST', metricsPath, { body: point });
    const again = await api.call('POST', metricsPath, { body: { metrics: [point, point] } });

    expect(again.status).toBe(201);
    expect(await series('retried')).toEqual([{ value: 7, at: point.at }]);
  });
});

describe('D9: lastHeartbeatAt only moves forward', () => {
  it('keeps the newer heartbeat when an older one is written after it', async () => {
    const store = new DynamoDbCoordinationStore(api.table.documentClient, api.table.tableName);
    const agentItem = async () =>
      (
        await api.table.documentClient.send(
          new GetCommand({ TableName: api.table.tableName, Key: keys.agent(PROJECT, 'beta') }),
        )
      ).Item;
    const newer = '2026-01-06T10:00:01.000Z';
    const older = '2026-01-06T10:00:00.000Z';

    // Two concurrent heartbeats, the later-stamped one written first.
    await store.recordHeartbeat(PROJECT, 'beta', { at: newer, completion: 60, risk: 'green' });
    const late = await store.recordHeartbeat(PROJECT, 'beta', { at: older, completion: 40, risk: 'red' });

    const item = await agentItem();
    expect(item).toMatchObject({ lastHeartbeatAt: newer, completion: 60, risk: 'green', heartbeats: 2 });
    expect(late.agent).toMatchObject({ lastHeartbeatAt: newer, completion: 60, heartbeats: 2 });
  });
});

describe('D12: strings are well-formed Unicode on the way in', () => {
  it.each([
    [
      `/v1/plans/${PROJECT}/tasks/api/transitions`,
      '{"to":"in_progress","note":"half \\ud800 a pair"}',
      /^body\.note: contains a lone UTF-16 surrogate/,
    ],
    [
      `/v1/plans/${PROJECT}/events`,
      '{"type":"deploy.finished","subject":"\\udfff"}',
      /^body\.subject: contains a lone/,
    ],
    [`/v1/plans/${PROJECT}/agents/alpha/heartbeat`, '{"note":"\\ud83d"}', /^body\.note: contains a lone/],
  ])('refuses a lone surrogate in %s', async (path, raw, message) => {
    const response = await api.call<ErrorBody>('POST', path, {
      raw,
      headers: { 'content-type': 'application/json' },
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
  });

  it('accepts a well-formed pair and echoes it back as valid JSON', async () => {
    const response = await fetch(`${api.url}/v1/plans/${PROJECT}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' },
      body: '{"type":"deploy.finished","note":"shipped \\ud83d\\ude80"}',
    });
    const text = await response.text();

    expect(response.status).toBe(201);
    expect((JSON.parse(text) as { event: { note: string } }).event.note).toBe('shipped 🚀');
    expect(text).not.toMatch(/\\ud[89a-f]/i);
  });
});
