import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESCALATION_ACTION_IDS, GATE_ACTION_IDS } from '../../functions/adapters/slack/notice-messages.js';
import { GITHUB_EVENTS } from '../../functions/core/integrations/github-events.js';
import {
  fuzzParameters,
  fuzzTimeout,
  leaksInternals,
  mutated,
  nastyJson,
  nastyString,
} from '../support/fuzz.js';
import { type Reply, startWebhookHarness, type WebhookHarness } from '../support/webhooks.js';

/**
 * Random signed webhook payloads for GitHub, JIRA and Slack, through the local server and the real
 * Lambdas on DynamoDB Local: real payloads broken in a few places, and random JSON. The signature is
 * always valid, so only the payload is wrong: 2xx or 4xx, never a 5xx, and the GitHub worker never
 * fails a delivery the webhook accepted.
 */

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Record<string, unknown>[];
}[];

let hooks: WebhookHarness;

beforeAll(async () => {
  hooks = await startWebhookHarness();
}, 60_000);

afterAll(async () => {
  await hooks?.close();
});

/** Values that reach the code paths a plan links to: issue keys, smart commits, statuses. */
const meaningful = fc.oneof(
  nastyJson,
  fc.constantFrom(
    'PAY-1',
    'pay-2',
    'PAY-1 #done',
    'PAY-1 #comment fuzzed',
    'PAY-2 #time 1w 2d fuzzing',
    'PAY-2 #time 99999999999999999999w',
    'feature/PAY-1-x',
    'Codertocat/Hello-World',
    'closed',
    'completed',
    'failure',
    'critical',
    'created',
    true,
    1e16,
    Number.MAX_VALUE,
  ),
);

const expectHandled = (reply: Reply, what: string) => {
  const where = `${what} → ${reply.status} ${reply.text.slice(0, 300)}`;
  expect(reply.status, where).toBeLessThan(500);
  expect(leaksInternals(reply.text), where).toBe(false);
  if (reply.status >= 400) {
    const error = (JSON.parse(reply.text) as { error: { code: string; message: string } }).error;
    expect(typeof error.code, where).toBe('string');
    if (reply.status === 400) expect(error.message, where).toMatch(/^(payload|X-[\w-]+)[.:[]/);
  }
};

const HANDLED = GITHUB_EVENTS().filter((name) => examples.some((group) => group.name === name));

describe('GitHub webhook and worker, fuzzed', () => {
  const parameters = fuzzParameters(80);
  const delivery = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...HANDLED).chain((event) => {
        const group = examples.find((candidate) => candidate.name === event)?.examples ?? [{}];
        return fc
          .constantFrom(...group)
          .chain((example) => mutated(example, meaningful))
          .map((payload) => ({ event, body: JSON.stringify(payload) ?? 'null' }));
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        event: fc.oneof(fc.constantFrom(...HANDLED, 'ping', 'issues'), fc.string({ maxLength: 10 })),
        body: nastyJson.map((value) => JSON.stringify(value) ?? 'null'),
      }),
    },
  );

  it(
    'answers 2xx or 4xx and applies every accepted delivery without a failure',
    async () => {
      await fc.assert(
        fc.asyncProperty(delivery, async ({ event, body }) => {
          const reply = await hooks.github(event || 'push', body);
          expectHandled(reply, `GitHub ${event}`);
          const worker = await hooks.runWorker();
          expect(worker.batchItemFailures, `worker on ${event} ${body.slice(0, 300)}`).toEqual([]);
        }),
        { ...parameters, endOnFailure: true },
      );
    },
    fuzzTimeout(parameters.numRuns, 1_500),
  );
});

describe('JIRA webhook, fuzzed', () => {
  const parameters = fuzzParameters(120);
  const statusChange = {
    timestamp: 1_767_600_000_000,
    webhookEvent: 'jira:issue_updated',
    issue: { key: 'PAY-1', fields: { status: { name: 'In Progress' } } },
    changelog: {
      items: [
        {
          field: 'status',
          fieldtype: 'jira',
          from: '1',
          fromString: 'To Do',
          to: '3',
          toString: 'In Progress',
        },
      ],
    },
  };
  const payload = fc.oneof(
    { weight: 3, arbitrary: mutated(statusChange, meaningful) },
    { weight: 1, arbitrary: nastyJson },
  );

  it(
    'answers 2xx or 4xx to any signed payload',
    async () => {
      await fc.assert(
        fc.asyncProperty(payload, async (value) => {
          const body = JSON.stringify(value) ?? 'null';
          expectHandled(await hooks.jira(body), `JIRA ${body.slice(0, 200)}`);
        }),
        { ...parameters, endOnFailure: true },
      );
    },
    fuzzTimeout(parameters.numRuns, 600),
  );
});

describe('Slack interactions, fuzzed', () => {
  const parameters = fuzzParameters(120);
  const click = (actionId: string, value: string) => ({
    type: 'block_actions',
    user: { id: 'U0PM000001' },
    actions: [{ action_id: actionId, value, type: 'button' }],
  });
  const base = [
    click(ESCALATION_ACTION_IDS.ack, 'hooks|security:20260105T100000000Z:1f3a9c2e'),
    click(ESCALATION_ACTION_IDS.resolve, 'hooks|nope'),
    click(GATE_ACTION_IDS.advance, 'hooks|build-gate|1'),
    click(GATE_ACTION_IDS.hold, 'hooks|build-gate|99999999999999999999'),
  ];
  const form = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(...base)
        .chain((payload) =>
          mutated(
            payload,
            fc.oneof(
              meaningful,
              nastyString.map((s) => `hooks|${s}`),
            ),
          ),
        )
        .map((payload) => `payload=${encodeURIComponent(JSON.stringify(payload) ?? 'null')}`),
    },
    {
      weight: 1,
      arbitrary: nastyJson.map((value) =>
        new URLSearchParams({ payload: JSON.stringify(value) ?? 'null' }).toString(),
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );

  it(
    'answers 2xx or 4xx to any signed interaction',
    async () => {
      await fc.assert(
        fc.asyncProperty(form, async (body) => {
          expectHandled(await hooks.slack(body), `Slack ${body.slice(0, 200)}`);
        }),
        { ...parameters, endOnFailure: true },
      );
    },
    fuzzTimeout(parameters.numRuns, 600),
  );
});
