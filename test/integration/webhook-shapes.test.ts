import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookHarness, type WebhookHarness } from '../support/webhooks.js';

/**
 * Issue 11, D11: a signed payload of the wrong shape is a 400 naming the field, never a 500, and a
 * malformed delivery never fails the GitHub worker.
 */

let hooks: WebhookHarness;

beforeAll(async () => {
  hooks = await startWebhookHarness();
});

afterAll(async () => {
  await hooks?.close();
});

const error = (text: string) => (JSON.parse(text) as { error: { code: string; message: string } }).error;

describe('JIRA webhook', () => {
  it.each([
    ['null', /^payload: expected object, received null/],
    ['[1]', /^payload: expected object, received array/],
    ['{"changelog":{"items":[null]}}', /^payload\.changelog\.items\.0: expected object, received null/],
    ['{"changelog":{"items":{}}}', /^payload\.changelog\.items: expected array/],
    [
      '{"issue":{"key":7},"changelog":{"items":[{"field":"status","toString":"Done"}]}}',
      /^payload\.issue\.key: expected string/,
    ],
    [
      '{"issue":{"key":"PAY-1"},"changelog":{"items":[{"field":"status","toString":{"name":"Done"}}]}}',
      /^payload\.changelog\.items\.0\.toString: expected string/,
    ],
  ])('refuses %s with a 400 naming the field', async (body, message) => {
    const response = await hooks.jira(body);

    expect(response.status).toBe(400);
    expect(error(response.text).message).toMatch(message);
  });

  it('ignores a status change item without a status it can read', async () => {
    const response = await hooks.jira('{"issue":{"key":"PAY-1"},"changelog":{"items":[{"field":"status"}]}}');

    expect(response.status).toBe(202);
  });
});

describe('Slack interactions', () => {
  it.each([
    ['payload=null', /^payload: expected object, received null/],
    ['payload=%5B%5D', /^payload: expected object, received array/],
    [`payload=${encodeURIComponent('{"type":"block_actions","actions":[null]}')}`, /^payload\.actions\.0: /],
    [
      `payload=${encodeURIComponent('{"type":"block_actions","actions":[{"action_id":1}]}')}`,
      /^payload\.actions\.0\.action_id: /,
    ],
    [`payload=${encodeURIComponent('{"type":"block_actions","user":"U1"}')}`, /^payload\.user: /],
  ])('refuses %s with a 400 naming the field', async (form, message) => {
    const response = await hooks.slack(form);

    expect(response.status).toBe(400);
    expect(error(response.text).message).toMatch(message);
  });

  it('answers a button naming a project too long for a key without acting', async () => {
    const value = `${'p'.repeat(1500)}|security:1`;
    const form = `payload=${encodeURIComponent(
      JSON.stringify({
        type: 'block_actions',
        user: { id: 'U0PM000001' },
        actions: [{ action_id: 'escalation_ack', value }],
      }),
    )}`;
    const response = await hooks.slack(form);

    expect(response.status).toBe(200);
  });
});

describe('GitHub webhook and worker', () => {
  it.each([
    ['null', /^payload: expected object, received null/],
    ['[]', /^payload: expected object, received array/],
    ['"push"', /^payload: expected object, received string/],
  ])('refuses a signed %s push with a 400, queueing nothing', async (body, message) => {
    const response = await hooks.github('push', body);
    const worker = await hooks.runWorker();

    expect(response.status).toBe(400);
    expect(error(response.text).message).toMatch(message);
    expect(worker.batchItemFailures).toEqual([]);
  });

  it('drops a malformed queued message instead of failing on it until the dead-letter queue', async () => {
    const result = await hooks.runWorker([
      'null',
      'not json',
      JSON.stringify({ id: 'd-1', event: 'push', payload: null }),
      JSON.stringify({ id: 'd-2', event: 'push' }),
    ]);

    expect(result.batchItemFailures).toEqual([]);
  });

  it('applies a push whose fields have the wrong types without failing', async () => {
    const body = JSON.stringify({
      repository: { full_name: 'octo-org/convoy' },
      commits: [
        null,
        5,
        { id: 7, message: ['PAY-1'] },
        { id: 'abc', message: 'PAY-1 #time 99999999999999999999w' },
      ],
    });
    const response = await hooks.github('push', body);
    const worker = await hooks.runWorker();

    expect(response.status).toBe(202);
    expect(worker.batchItemFailures).toEqual([]);
  });

  it('refuses a delivery id too long for a key', async () => {
    const response = await hooks.github('push', '{}', { id: 'd'.repeat(1500) });

    expect(response.status).toBe(400);
    expect(error(response.text).message).toMatch(/^X-GitHub-Delivery: /);
  });
});
