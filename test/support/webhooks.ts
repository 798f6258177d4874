import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import { signSlackRequest } from '../../functions/adapters/slack/verify-request.js';
import type { GithubDelivery } from '../../functions/core/integrations/github-events.js';
import { makeGithubWorkerHandler } from '../../functions/handlers/github-worker.js';
import { lambdaContext } from '../../functions/local/http-server.js';
import { startTestApi, type TestApi } from './api.js';

export const WEBHOOK_SECRETS = {
  CONVOY_GITHUB_WEBHOOK_SECRET: 'github-secret-for-webhook-tests',
  CONVOY_JIRA_WEBHOOK_SECRET: 'jira-secret-for-webhook-tests',
  CONVOY_SLACK_SIGNING_SECRET: 'slack-secret-for-webhook-tests',
};

/** A plan linked to GitHub's example repository, a JIRA project and Slack users. */
export const WEBHOOK_PLAN = `version: 1
project: { id: hooks, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm, slack: U0PM000001 }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: PAY-1 }
      - { id: docs, agent: alpha, estimate: 1d, jira: PAY-2 }
escalations:
  - { id: security, on: security.critical, notify: [pm] }
integrations:
  jira: { site: https://example.atlassian.net, projects: [PAY] }
  github: { repos: [Codertocat/Hello-World, octo-org/convoy] }
  slack: { channel: "#convoy" }
`;

export interface Reply {
  readonly status: number;
  readonly text: string;
}

export interface WebhookHarness {
  readonly api: TestApi;
  github(event: string, body: string, options?: { id?: string }): Promise<Reply>;
  jira(body: string, options?: { identifier?: string }): Promise<Reply>;
  /** A signed Slack interaction whose form body is `form` (`payload=...`). */
  slack(form: string): Promise<Reply>;
  /** Runs the GitHub worker Lambda over every delivery queued so far (or the raw bodies given). */
  runWorker(rawBodies?: readonly string[]): Promise<SQSBatchResponse>;
  close(): Promise<void>;
}

/**
 * The real local server and webhook Lambdas with every webhook secret set; GitHub deliveries are
 * held in a queue until `runWorker` hands them to the real worker Lambda, as SQS would.
 */
export async function startWebhookHarness(): Promise<WebhookHarness> {
  const queued: GithubDelivery[] = [];
  const api = await startTestApi({
    deps: (ports, table) => ({
      ...ports,
      outbox: new DynamoDbOutbox(table.documentClient, table.tableName),
      secrets: async () => WEBHOOK_SECRETS,
      githubQueue: {
        async send(message: GithubDelivery) {
          queued.push(message);
        },
      },
    }),
  });
  const githubWorker = makeGithubWorkerHandler(api.deps);
  try {
    await api.apply(WEBHOOK_PLAN);
  } catch (error) {
    await api.close();
    throw error;
  }
  let counter = 0;
  const post = async (path: string, headers: Record<string, string>, body: string): Promise<Reply> => {
    const response = await fetch(`${api.url}${path}`, { method: 'POST', headers, body });
    return { status: response.status, text: await response.text() };
  };
  return {
    api,
    async github(event, body, options = {}) {
      return post(
        '/webhooks/github',
        {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': options.id ?? `delivery-${Date.now()}-${++counter}`,
          'x-hub-signature-256': await sign(WEBHOOK_SECRETS.CONVOY_GITHUB_WEBHOOK_SECRET, body),
        },
        body,
      );
    },
    async jira(body, options = {}) {
      const signature = createHmac('sha256', WEBHOOK_SECRETS.CONVOY_JIRA_WEBHOOK_SECRET)
        .update(body)
        .digest('hex');
      return post(
        '/webhooks/jira',
        {
          'content-type': 'application/json',
          'x-atlassian-webhook-identifier': options.identifier ?? `jira-${Date.now()}-${++counter}`,
          'x-hub-signature': `sha256=${signature}`,
        },
        body,
      );
    },
    async slack(form) {
      const timestamp = Math.floor(Date.now() / 1000);
      return post(
        '/slack/interactions',
        {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signSlackRequest(WEBHOOK_SECRETS.CONVOY_SLACK_SIGNING_SECRET, timestamp, form),
        },
        form,
      );
    },
    async runWorker(rawBodies) {
      const bodies = rawBodies ?? queued.splice(0).map((delivery) => JSON.stringify(delivery));
      const event = {
        Records: bodies.map((body, i) => ({ messageId: `message-${++counter}-${i}`, body })),
      } as SQSEvent;
      return githubWorker(event, lambdaContext('github-worker', `worker-${counter}`));
    },
    async close() {
      await api.close();
    },
  };
}
