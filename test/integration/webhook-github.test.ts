import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import type { GithubDelivery } from '../../functions/core/integrations/github-events.js';
import { makeGithubWorkerHandler } from '../../functions/handlers/github-worker.js';
import { lambdaContext } from '../../functions/local/http-server.js';
import { InProcessQueue } from '../../functions/local/in-process-queue.js';
import { startTestApi, type TestApi } from '../support/api.js';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Record<string, unknown>[];
}[];

const SECRET = 'webhook-secret-for-tests';
const OLD_SECRET = 'the-secret-being-rotated-out';

/** A plan linked to the repository of GitHub's example payloads (Codertocat/Hello-World). */
const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: PAY-1 }
      - { id: docs, agent: alpha, estimate: 1d, jira: PAY-2 }
integrations:
  jira: { site: https://example.atlassian.net, projects: [PAY] }
  github: { repos: [Codertocat/Hello-World, octo-org/convoy] }
  slack: { channel: "#convoy" }
`;

let api: TestApi;
let queue: InProcessQueue<GithubDelivery>;
let outbox: DynamoDbOutbox;
let counter = 0;

beforeAll(async () => {
  let githubWorker: ReturnType<typeof makeGithubWorkerHandler> | undefined;
  // Deliveries run through the real worker Lambda, as SQS would invoke it.
  queue = new InProcessQueue<GithubDelivery>({
    consume: async (delivery) => {
      const event = { Records: [{ messageId: delivery.id, body: JSON.stringify(delivery) }] } as SQSEvent;
      const result = await (githubWorker as NonNullable<typeof githubWorker>)(
        event,
        lambdaContext('github-worker', delivery.id),
      );
      if (result.batchItemFailures.length > 0) throw new Error(`delivery ${delivery.id} failed`);
    },
    retryDelayMs: 10,
  });
  api = await startTestApi({
    deps: (ports, table) => {
      outbox = new DynamoDbOutbox(table.documentClient, table.tableName);
      return {
        ...ports,
        outbox,
        githubQueue: queue,
        secrets: async () => ({ CONVOY_GITHUB_WEBHOOK_SECRET: `${SECRET}, ${OLD_SECRET}` }),
      };
    },
  });
  githubWorker = makeGithubWorkerHandler(api.deps);
});

afterAll(async () => {
  await queue.stop();
  await api.close();
});

async function deliver(
  event: string,
  payload: unknown,
  options: { secret?: string; id?: string; signature?: string | null } = {},
) {
  const body = JSON.stringify(payload);
  const signature =
    options.signature === undefined ? await sign(options.secret ?? SECRET, body) : options.signature;
  const response = await fetch(`${api.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.id ?? `delivery-${++counter}`,
      ...(signature ? { 'x-hub-signature-256': signature } : {}),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const pullRequest = (action: string, fields: Record<string, unknown> = {}) => ({
  action,
  number: 7,
  pull_request: {
    number: 7,
    title: 'PAY-1: gRPC gateway',
    body: 'Also touches pay-2.',
    html_url: 'https://github.com/octo-org/convoy/pull/7',
    draft: false,
    merged: false,
    head: { ref: 'feature/PAY-1-gateway' },
    user: { login: 'octocat' },
    ...fields,
  },
  repository: { full_name: 'octo-org/convoy' },
});

describe('POST /webhooks/github', () => {
  it('answers every example payload GitHub publishes, signed, with a 2xx and never a 5xx', async () => {
    // Prepare
    await api.apply(plan(`gh-${++counter}`));
    const deliveries = examples.flatMap((group) =>
      group.examples.map((payload) => ({ event: group.name, payload })),
    );

    // Act
    const statuses = [];
    for (const { event, payload } of deliveries)
      statuses.push({ event, status: (await deliver(event, payload)).status });
    await queue.idle();

    // Assess
    expect(deliveries.length).toBeGreaterThan(250);
    expect(statuses.filter(({ status }) => status < 200 || status >= 300)).toEqual([]);
  });

  it('moves a task to in_review when its PR opens and to done when it merges, and enqueues the JIRA work', async () => {
    // Prepare
    const project = `gh-${++counter}`;
    await api.apply(plan(project));
    await api.call('POST', `/v1/plans/${project}/tasks/api/transitions`, { body: { to: 'in_progress' } });

    // Act
    const opened = await deliver('pull_request', pullRequest('opened'));
    await queue.idle();
    const inReview = await api.call<{ tasks: { id: string; status: string }[] }>(
      'GET',
      `/v1/plans/${project}/status`,
    );
    await deliver('pull_request', pullRequest('closed', { merged: true }));
    await queue.idle();
    const done = await api.call<{ tasks: { id: string; status: string }[] }>(
      'GET',
      `/v1/plans/${project}/status`,
    );
    // JIRA commands are shared by every project watching the repository, so look at the whole outbox.
    const commands = await outbox.due(new Date(Date.now() + 60_000), 500);

    // Assess
    expect(opened.status).toBe(202);
    expect(inReview.body.tasks.find((t) => t.id === 'api')?.status).toBe('in_review');
    expect(done.body.tasks.find((t) => t.id === 'api')?.status).toBe('done');
    expect(commands.map((entry) => entry.command)).toEqual(
      expect.arrayContaining([
        { kind: 'transition', issue: 'PAY-1', status: 'In Progress' },
        { kind: 'transition', issue: 'PAY-1', status: 'In Review' },
        { kind: 'transition', issue: 'PAY-1', status: 'Done' },
        expect.objectContaining({
          kind: 'remote-link',
          issue: 'PAY-2',
          link: expect.objectContaining({ globalId: 'github-pr:octo-org/convoy#7' }),
        }),
        expect.objectContaining({
          kind: 'slack',
          channel: '#convoy',
          notice: expect.objectContaining({ type: 'pr-merged', number: 7, tasks: ['api', 'docs'] }),
        }),
      ]),
    );
    // docs (PAY-2) is todo: a PR cannot take it to in_review, so that is recorded as activity instead.
    expect(done.body.tasks.find((t) => t.id === 'docs')?.status).toBe('todo');
  });

  it('has a redelivered delivery take effect once', async () => {
    // Prepare
    const project = `gh-${++counter}`;
    await api.apply(plan(project));
    const push = {
      ref: 'refs/heads/main',
      commits: [
        {
          id: 'abc1234def',
          message: 'PAY-1 #comment gateway compiles #time 1h 30m',
          author: { username: 'octocat' },
        },
      ],
      repository: { full_name: 'octo-org/convoy' },
    };

    // Act
    const first = await deliver('push', push, { id: 'same-delivery' });
    const again = await deliver('push', push, { id: 'same-delivery' });
    await queue.idle();
    const commands = (await outbox.due(new Date(Date.now() + 60_000), 100)).filter((entry) =>
      entry.id.startsWith('github:same-delivery:'),
    );

    // Assess
    expect(first.status).toBe(202);
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(commands.map((entry) => entry.command)).toEqual([
      { kind: 'comment', issue: 'PAY-1', body: 'gateway compiles (octocat, octo-org/convoy@abc1234)' },
      { kind: 'worklog', issue: 'PAY-1', seconds: 5400, comment: '(octocat, octo-org/convoy@abc1234)' },
    ]);
  });

  it('accepts a push far larger than the API body limit (GitHub sends up to 25 MB)', async () => {
    // Prepare: 300 KB of commits, over the agent API's 256 KB.
    const commits = Array.from({ length: 600 }, (_, i) => ({
      id: `c${i}`,
      message: `chore: ${'x'.repeat(480)}`,
      author: { username: 'octocat' },
    }));

    // Act
    const response = await deliver('push', {
      ref: 'refs/heads/main',
      commits,
      repository: { full_name: 'octo-org/convoy' },
    });

    // Assess
    expect(response.status).toBe(202);
  });

  it('accepts the secret being rotated out, and rejects a wrong, missing or malformed signature before parsing', async () => {
    // Act
    const rotated = await deliver('ping', { zen: 'hi' }, { secret: OLD_SECRET });
    const wrong = await deliver('ping', { zen: 'hi' }, { secret: 'guess' });
    const missing = await deliver('ping', { zen: 'hi' }, { signature: null });
    const malformed = await deliver('ping', { zen: 'hi' }, { signature: 'sha1=abc' });

    // Assess
    expect(rotated.status).toBe(200);
    expect(wrong).toMatchObject({
      status: 401,
      body: {
        error: { message: 'X-Hub-Signature-256 does not match the payload for any configured secret' },
      },
    });
    expect(missing).toMatchObject({
      status: 401,
      body: { error: { message: 'missing X-Hub-Signature-256 header' } },
    });
    expect(malformed.status).toBe(401);
    expect(JSON.stringify([wrong, missing, malformed])).not.toContain(SECRET);
  });

  it('records a critical security alert as the event security.critical', async () => {
    // Prepare
    const project = `gh-${++counter}`;
    await api.apply(plan(project));
    const alert = {
      action: 'created',
      alert: {
        html_url: 'https://github.com/octo-org/convoy/security/dependabot/3',
        security_advisory: { severity: 'critical', summary: 'RCE in parser' },
      },
      repository: { full_name: 'octo-org/convoy' },
    };

    // Act
    await deliver('dependabot_alert', alert);
    await deliver('dependabot_alert', {
      ...alert,
      alert: { ...alert.alert, security_advisory: { severity: 'low', summary: 'typo' } },
    });
    await queue.idle();
    const events = await api.call<{ events: { note: string }[] }>(
      'GET',
      `/v1/plans/${project}/events?type=security.critical`,
    );

    // Assess
    expect(events.body.events.map((e) => e.note)).toEqual(['octo-org/convoy: dependabot: RCE in parser']);
  });

  it('keeps build.failure_rate as failed over finished CI runs of the last 7 days', async () => {
    // Prepare
    const project = `gh-${++counter}`;
    await api.apply(plan(project));
    const run = (conclusion: string) => ({
      action: 'completed',
      workflow_run: {
        conclusion,
        name: 'CI',
        head_branch: 'main',
        html_url: 'https://github.com/octo-org/convoy/actions/runs/1',
      },
      repository: { full_name: 'octo-org/convoy' },
    });

    // Act
    for (const conclusion of ['success', 'failure', 'success', 'cancelled', 'failure'])
      await deliver('workflow_run', run(conclusion));
    await queue.idle();
    const status = await api.call<{ metrics: Record<string, { value: number }> }>(
      'GET',
      `/v1/plans/${project}/status`,
    );

    // Assess: a cancelled run is not finished; 2 failed of 4 finished.
    expect(status.body.metrics['build.failure_rate']?.value).toBe(0.5);
  });

  it('never writes a secret to the logs, whatever the delivery', async () => {
    // Prepare: capture everything the process writes while deliveries succeed, fail and are refused.
    const captured: string[] = [];
    const writes = [process.stdout, process.stderr].map((stream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        captured.push(String(chunk));
        return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      return () => {
        stream.write = original as typeof stream.write;
      };
    });
    const project = `gh-${++counter}`;
    await api.apply(plan(project));

    // Act
    try {
      await deliver('pull_request', pullRequest('opened'));
      await deliver('pull_request', pullRequest('opened'), { secret: 'guess' });
      await deliver('push', { commits: 'not a list', repository: { full_name: 'octo-org/convoy' } });
      await deliver('ping', { zen: SECRET });
      // A delivery that cannot be queued is logged as an error (and answered 503 for redelivery).
      await queue.stop();
      const unqueued = await deliver('pull_request', pullRequest('opened'));
      expect(unqueued.status).toBe(503);
    } finally {
      for (const restore of writes) restore();
    }

    // Assess: the payload that quotes the secret is the only place it may appear, and it is not logged.
    expect(captured.join('')).toContain('"level":"ERROR"');
    expect(captured.join('')).not.toContain(OLD_SECRET);
    expect(captured.join('')).not.toContain(SECRET);
  });
});
