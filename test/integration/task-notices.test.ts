import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainOutbox } from '../../functions/core/integrations/outbox-worker.js';
import { setDependencies } from '../../functions/handlers/dependencies.js';
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
  api = await startTestApi();
  slack = await startSlackServer({ token: TOKEN });
  const deps = { ...api.deps, secrets: async () => ({ CONVOY_SLACK_BOT_TOKEN: TOKEN }) };
  integrations = await buildIntegrations(deps, {
    ...api.table,
    print: () => undefined,
    slackApiUrl: slack.url,
  });
  setDependencies({ ...deps, outbox: integrations.drain.outbox });
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
    slack.up();
    const pending = await integrations.drain.outbox.due(new Date(Date.now() + 3_600_000), 100);
    const retryAt = new Date(
      Date.parse(pending.find((entry) => entry.project === project)?.notBefore ?? '') + 1,
    );
    const after = await drainOutbox(
      { ...integrations.drain, clock: { now: () => retryAt } },
      { maxRunMs: 5_000 },
    );

    // Assess
    expect(during).toMatchObject({ done: 0, retried: 1 });
    expect(after.done).toBe(1);
    expect(slack.calls.filter((call) => call.outcome === 'posted').length).toBe(posted + 1);
  });
});
