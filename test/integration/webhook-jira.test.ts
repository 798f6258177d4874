import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import { startTestApi, type TestApi } from '../support/api.js';

const SECRET = 'jira-webhook-secret-for-tests';

const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: PAY-1 }
integrations:
  jira: { site: https://example.atlassian.net, projects: [PAY] }
`;

let api: TestApi;
let outbox: DynamoDbOutbox;
let counter = 0;

beforeAll(async () => {
  api = await startTestApi({
    deps: (ports, table) => {
      outbox = new DynamoDbOutbox(table.documentClient, table.tableName);
      return { ...ports, outbox, secrets: async () => ({ CONVOY_JIRA_WEBHOOK_SECRET: SECRET }) };
    },
  });
});

afterAll(async () => {
  await api.close();
});

const statusChange = (issue: string, to: string) => ({
  webhookEvent: 'jira:issue_updated',
  issue: { key: issue, fields: { status: { name: to } } },
  changelog: { items: [{ field: 'status', fromString: 'To Do', toString: to }] },
});

async function deliver(
  payload: unknown,
  options: { secret?: string; identifier?: string; signature?: string | null } = {},
) {
  const body = JSON.stringify(payload);
  const signature =
    options.signature === undefined
      ? `sha256=${createHmac('sha256', options.secret ?? SECRET)
          .update(body)
          .digest('hex')}`
      : options.signature;
  const response = await fetch(`${api.url}/webhooks/jira`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-atlassian-webhook-identifier': options.identifier ?? `jira-${++counter}`,
      ...(signature ? { 'x-hub-signature': signature } : {}),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('POST /webhooks/jira', () => {
  it('moves the linked task when its issue changes status in JIRA, and does not send the change back', async () => {
    // Prepare
    const project = `jira-${++counter}`;
    await api.apply(plan(project));
    const before = (await outbox.due(new Date(Date.now() + 60_000), 500)).length;

    // Act
    const response = await deliver(statusChange('PAY-1', 'In Progress'));
    const status = await api.call<{ tasks: { id: string; status: string; updatedAt: string }[] }>(
      'GET',
      `/v1/plans/${project}/status`,
    );
    const events = await api.call<{ events: { actor: string }[] }>(
      'GET',
      `/v1/plans/${project}/events?type=task.transitioned`,
    );
    const after = (await outbox.due(new Date(Date.now() + 60_000), 500)).length;

    // Assess
    expect(response).toMatchObject({
      status: 200,
      body: { moved: [{ project, task: 'api', to: 'in_progress' }] },
    });
    expect(status.body.tasks[0]?.status).toBe('in_progress');
    expect(events.body.events[0]?.actor).toBe('integration:jira');
    expect(after).toBe(before);
  });

  it('has a retried delivery (same identifier) take effect once, and records a move the lifecycle forbids', async () => {
    // Prepare
    const project = `jira-${++counter}`;
    await api.apply(plan(project));

    // Act: todo → done is not a lifecycle step, so it is recorded rather than followed.
    const first = await deliver(statusChange('PAY-1', 'Done'), { identifier: 'same' });
    const again = await deliver(statusChange('PAY-1', 'Done'), { identifier: 'same' });
    const unmapped = await deliver(statusChange('PAY-1', 'Waiting for Customer'));
    const events = await api.call<{ events: { note: string }[] }>(
      'GET',
      `/v1/plans/${project}/events?type=jira.status_changed`,
    );

    // Assess
    expect(first.status).toBe(200);
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(unmapped.status).toBe(200);
    expect(events.body.events.map((e) => e.note)).toEqual([
      'PAY-1 moved to "Waiting for Customer" in JIRA; no Convoy status maps to it',
      'PAY-1 moved to "Done" in JIRA; not followed: task api cannot go from todo to done (from todo it can go to in_progress)',
    ]);
  });

  it('refuses a wrong or missing signature and ignores events that are not status changes', async () => {
    // Act
    const wrong = await deliver(statusChange('PAY-1', 'Done'), { secret: 'guess' });
    const missing = await deliver(statusChange('PAY-1', 'Done'), { signature: null });
    const comment = await deliver({ webhookEvent: 'comment_created', issue: { key: 'PAY-1' } });

    // Assess
    expect(wrong.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(JSON.stringify([wrong, missing])).not.toContain(SECRET);
    expect(comment).toMatchObject({ status: 202, body: { ignored: true } });
  });
});
