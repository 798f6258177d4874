import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import { drainOutbox } from '../../functions/core/integrations/outbox-worker.js';
import { buildIntegrations, type IntegrationDependencies } from '../../functions/handlers/integrations.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { type SlackTestServer, startSlackServer } from '../support/slack-server.js';

const TOKEN = 'xoxb-test-token-for-notices';

const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents:
  - { id: alpha, owner: pm, channel: "#alpha-dev" }
  - { id: beta, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, title: "Build the <gateway>", agent: alpha, estimate: 1d }
      - { id: docs, agent: beta, estimate: 1d, dependsOn: [api] }
handoff: [All tests pass]
integrations:
  slack: { channel: "#project" }
`;

let api: TestApi;
let slack: SlackTestServer;
let integrations: IntegrationDependencies;
let counter = 0;

beforeAll(async () => {
  slack = await startSlackServer({ token: TOKEN });
  api = await startTestApi({
    deps: (ports, table) => ({
      ...ports,
      outbox: new DynamoDbOutbox(table.documentClient, table.tableName),
      secrets: async () => ({ CONVOY_SLACK_BOT_TOKEN: TOKEN }),
    }),
    integrations: { slackApiUrl: slack.url },
  });
  integrations = await api.deps.integrations();
});

afterAll(async () => {
  await slack.close();
  await api.close();
});

const drain = () => drainOutbox(integrations.drain, { maxRunMs: 5_000 });

describe('Slack notices of task changes', () => {
  it('posts a finished task, a blocker and a handoff once each, in the agent channel or the project channel', async () => {
    // Prepare
    const project = `n-${++counter}`;
    await api.apply(plan(project));
    const move = (task: string, to: string) =>
      api.call('POST', `/v1/plans/${project}/tasks/${task}/transitions`, { body: { to } });

    // Act
    await move('api', 'in_progress');
    await api.call('POST', `/v1/plans/${project}/handoffs`, {
      body: { task: 'api', to: ['docs'], checklist: { 'All tests pass': true } },
    });
    await move('api', 'done');
    await move('api', 'done');
    await api.call('POST', `/v1/plans/${project}/tasks/docs/blocker`, {
      body: { reason: 'waiting for <review>' },
    });
    await drain();
    await drain();

    // Assess
    const alpha = slack.messages(slack.channelId('#alpha-dev'));
    const general = slack.messages(slack.channelId('#project'));
    expect(alpha).toHaveLength(2);
    expect(general).toHaveLength(1);
    expect(JSON.stringify(alpha)).toContain('Build the &lt;gateway&gt;');
    expect(JSON.stringify(general)).toContain('waiting for &lt;review&gt;');
    expect(slack.calls.filter((call) => call.outcome === 'posted')).toHaveLength(3);
  });

  it('keeps a notice through a Slack outage and posts it once Slack is back', async () => {
    // Prepare
    const project = `n-${++counter}`;
    await api.apply(plan(project));
    const posted = slack.calls.filter((call) => call.outcome === 'posted').length;
    slack.down();

    // Act
    await api.call('POST', `/v1/plans/${project}/tasks/api/blocker`, { body: { reason: 'flaky CI' } });
    const during = await drain();
    const kept = (await integrations.drain.outbox.due(new Date(Date.now() + 3_600_000), 100)).filter(
      (entry) => entry.project === project,
    );
    slack.up();
    // Run the drain as it would run when the retry comes due (its clock just past notBefore).
    for (let round = 0; round < 3; round++) {
      const entry = (await integrations.drain.outbox.due(new Date(Date.now() + 3_600_000), 100)).find(
        (e) => e.project === project,
      );
      if (!entry) break;
      const retryAt = new Date(Math.max(Date.now(), Date.parse(entry.notBefore) + 1));
      await drainOutbox({ ...integrations.drain, clock: { now: () => retryAt } }, { maxRunMs: 5_000 });
    }
    const left = (await integrations.drain.outbox.due(new Date(Date.now() + 3_600_000), 100)).filter(
      (entry) => entry.project === project,
    );

    // Assess
    expect(during.done).toBe(0);
    expect(kept).toHaveLength(1);
    expect(left).toEqual([]);
    expect(slack.calls.filter((call) => call.outcome === 'posted').length).toBe(posted + 1);
  });

  it('prints a notice without a bot token and keeps what Slack would have shown in the audit trail', async () => {
    // Prepare
    const project = `n-${++counter}`;
    const printed: string[] = [];
    const offline = await buildIntegrations(
      { ...api.deps, secrets: async () => ({}) },
      { ...api.table, print: (line) => printed.push(line) },
    );
    await api.apply(plan(project));
    await api.call('POST', `/v1/plans/${project}/tasks/api/blocker`, { body: { reason: 'no staging' } });

    // Act
    await drainOutbox(offline.drain, { maxRunMs: 5_000 });
    const events = await api.call<{ events: { note: string }[] }>(
      'GET',
      `/v1/plans/${project}/events?type=slack.not_sent`,
    );

    // Assess
    expect(printed.join('\n')).toContain('no staging');
    expect(events.body.events.map((e) => e.note)).toEqual([
      expect.stringMatching(/^#alpha-dev: .*no staging/),
    ]);
  });
});
