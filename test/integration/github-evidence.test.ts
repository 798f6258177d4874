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

/** Evidence for done (#15): GitHub's own example payloads, adapted to a plan, through the real worker. */

type Payload = Record<string, unknown> & { action?: string };
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Payload[];
}[];
const example = (event: string, pick: (payload: Payload) => boolean): Payload => {
  const found = examples.find((group) => group.name === event)?.examples.find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return structuredClone(found);
};

const SECRET = 'webhook-secret-for-tests';
/** The head commit of PR #2 in GitHub's examples. */
const HEAD = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

/** A plan whose tasks need evidence; each test's project watches a repository of its own. */
const plan = (project: string, repo: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }, { id: other }]
agents: [{ id: alpha, owner: pm }]
definitionOfDone: [pr-merged, checks-passed]
handoff: [tests pass, docs updated]
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: PAY-1 }
      - { id: gateway, agent: alpha, estimate: 1d }
      - { id: notes, agent: alpha, estimate: 1d, evidence: [handoff] }
      - { id: cover, agent: alpha, estimate: 1d, evidence: ["coverage.unit >= 80"] }
      - { id: plain, agent: alpha, estimate: 1d, evidence: [] }
      - { id: next, agent: alpha, estimate: 1d, dependsOn: [notes] }
integrations:
  jira: { projects: [PAY] }
  github: { repos: [${repo}] }
`;

let api: TestApi;
let queue: InProcessQueue<GithubDelivery>;
let counter = 0;

beforeAll(async () => {
  let worker: ReturnType<typeof makeGithubWorkerHandler> | undefined;
  queue = new InProcessQueue<GithubDelivery>({
    consume: async (delivery) => {
      const event = { Records: [{ messageId: delivery.id, body: JSON.stringify(delivery) }] } as SQSEvent;
      const result = await (worker as NonNullable<typeof worker>)(
        event,
        lambdaContext('github-worker', delivery.id),
      );
      if (result.batchItemFailures.length > 0) throw new Error(`delivery ${delivery.id} failed`);
    },
    retryDelayMs: 10,
    onDeadLetter: (_message, error) => {
      throw error;
    },
  });
  api = await startTestApi({
    deps: (ports, table) => ({
      ...ports,
      outbox: new DynamoDbOutbox(table.documentClient, table.tableName),
      githubQueue: queue,
      secrets: async () => ({ CONVOY_GITHUB_WEBHOOK_SECRET: SECRET }),
    }),
  });
  worker = makeGithubWorkerHandler(api.deps);
});

afterAll(async () => {
  await queue.stop();
  await api.close();
});

async function deliver(event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const response = await fetch(`${api.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': `evidence-${++counter}`,
      'x-hub-signature-256': await sign(SECRET, body),
    },
    body,
  });
  expect(response.status).toBe(202);
  await queue.idle();
}

/** GitHub's example PR #2 (head ec26c3e on branch "changes"), in `repo`, titled to name `names`. */
function pullRequest(repo: string, action: 'opened' | 'closed', names: string, merged = false) {
  const payload = example('pull_request', (candidate) => candidate.action === action);
  const pr = payload.pull_request as Record<string, unknown>;
  Object.assign(pr, { title: `${names}: update the README`, merged, draft: false });
  (payload.repository as Record<string, unknown>).full_name = repo;
  return payload;
}

/** GitHub's example check suite completed on PR #2's head commit, by a CI app other than Actions. */
function checkSuite(repo: string, conclusion: string) {
  const payload = example(
    'check_suite',
    (candidate) =>
      candidate.action === 'completed' &&
      ((candidate.check_suite as { pull_requests: unknown[] }).pull_requests?.length ?? 0) > 0,
  );
  Object.assign(payload.check_suite as Record<string, unknown>, { conclusion });
  (payload.repository as Record<string, unknown>).full_name = repo;
  return payload;
}

/** GitHub's example workflow run, completed, moved onto PR #2's head commit. */
function workflowRun(repo: string, conclusion: string) {
  const payload = example(
    'workflow_run',
    (candidate) =>
      candidate.action === 'completed' &&
      (candidate.workflow_run as { conclusion: string | null }).conclusion === 'success',
  );
  const run = payload.workflow_run as Record<string, unknown>;
  Object.assign(run, {
    conclusion,
    name: 'CI',
    head_sha: HEAD,
    head_branch: 'changes',
    pull_requests: [{ number: 2, head: { ref: 'changes', sha: HEAD } }],
  });
  (payload.repository as Record<string, unknown>).full_name = repo;
  return payload;
}

async function setUp() {
  const project = `ev-${++counter}`;
  const repo = `octo-org/${project}`;
  await api.apply(plan(project, repo));
  const agent = await api.token('agent', project, 'alpha');
  const move = (task: string, body: Record<string, unknown>, token: string | null = agent) =>
    api.call<Record<string, unknown>>('POST', `/v1/plans/${project}/tasks/${task}/transitions`, {
      body,
      token,
    });
  const view = async (task: string) =>
    (await api.call<Record<string, unknown>>('GET', `/v1/plans/${project}/tasks/${task}`)).body;
  return { project, repo, agent, move, view };
}

describe('evidence for done', () => {
  it("refuses an agent's done with 409 listing what is missing, then a merged PR with green checks moves the task to done", async () => {
    // Prepare
    const { project, repo, move, view } = await setUp();
    await move('api', { to: 'in_progress' });

    // Act
    const refused = await move('api', { to: 'done' });
    await deliver('pull_request', pullRequest(repo, 'opened', 'PAY-1'));
    await deliver('check_suite', checkSuite(repo, 'success'));
    const beforeMerge = await view('api');
    await deliver('pull_request', pullRequest(repo, 'closed', 'PAY-1', true));
    const after = await view('api');
    const status = await api.call<{ tasks: Record<string, unknown>[] }>('GET', `/v1/plans/${project}/status`);

    // Assess
    expect(refused.status).toBe(409);
    const error = refused.body.error as { code: string; message: string; details: Record<string, string>[] };
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('pr-merged: no merged pull request names task api');
    expect(error.message).toContain('checks-passed');
    expect(error.details.map((entry) => entry.evidence)).toEqual(['pr-merged', 'checks-passed']);
    expect(error.details[0]?.source).toContain('PAY-1');
    expect(beforeMerge.status).toBe('in_review');
    expect(after.status).toBe('done');
    expect(after.verification).toEqual({
      by: 'evidence',
      items: ['PR #2 merged', 'CI green on ec26c3e'],
      at: expect.any(String),
    });
    expect(status.body.tasks.find((entry) => entry.id === 'api')?.verification).toEqual(after.verification);
  });

  it('keeps a merged PR whose checks have not passed out of done, and a green workflow run afterwards finishes it', async () => {
    // Prepare: the task is named by its id only, in the PR's title.
    const { repo, move, view } = await setUp();
    await move('gateway', { to: 'in_progress' });
    await deliver('pull_request', pullRequest(repo, 'opened', 'gateway'));

    // Act
    await deliver('workflow_run', workflowRun(repo, 'failure'));
    await deliver('pull_request', pullRequest(repo, 'closed', 'gateway', true));
    const red = await view('gateway');
    await deliver('workflow_run', workflowRun(repo, 'success'));
    const green = await view('gateway');

    // Assess
    expect(red.status).toBe('in_progress');
    expect(green.status).toBe('done');
    expect(green.verification).toMatchObject({
      by: 'evidence',
      items: ['PR #2 merged', 'CI green on ec26c3e'],
    });
  });

  it("lets the agent's owner override with a note, records who and why, and the standup lists it as unverified", async () => {
    // Prepare
    const { project, move, view } = await setUp();
    await move('api', { to: 'in_progress' });
    const owner = await api.token('person', project, 'pm');
    const stranger = await api.token('person', project, 'other');

    // Act
    const byAgent = await move('api', { to: 'done', override: true, note: 'trust me' });
    const noNote = await move('api', { to: 'done', override: true }, owner);
    const byStranger = await move('api', { to: 'done', override: true, note: 'shipped by hand' }, stranger);
    const plainPerson = await move('api', { to: 'done' }, owner);
    const overridden = await move(
      'api',
      { to: 'done', override: true, note: 'hotfix deployed by hand' },
      owner,
    );
    const task = await view('api');
    const standup = await api.call<Record<string, unknown>>(
      'GET',
      `/v1/plans/${project}/reports/standup?format=json`,
    );

    // Assess
    expect(byAgent.status).toBe(403);
    expect(noNote.status).toBe(400);
    expect(byStranger.status).toBe(403);
    expect(plainPerson.status).toBe(409);
    expect(overridden.status).toBe(200);
    expect(task.status).toBe('done');
    expect(task.verification).toMatchObject({
      by: 'override',
      actor: 'person:pm',
      note: 'hotfix deployed by hand',
      missing: [expect.stringContaining('pr-merged'), expect.stringContaining('checks-passed')],
    });
    const text = JSON.stringify(standup.body);
    expect(text).toContain('Unverified done claims');
    expect(text).toContain('overridden by person:pm: hotfix deployed by hand');
  });

  it('takes a handoff with every checklist item confirmed as evidence', async () => {
    // Prepare
    const { project, agent, move, view } = await setUp();
    await move('notes', { to: 'in_progress' });

    // Act
    const before = await move('notes', { to: 'done' });
    const handoff = await api.call('POST', `/v1/plans/${project}/handoffs`, {
      body: { task: 'notes', to: ['next'], checklist: { 'tests pass': true, 'docs updated': true } },
      token: agent,
    });
    const after = await move('notes', { to: 'done' });

    // Assess
    expect(before.status).toBe(409);
    expect(JSON.stringify(before.body)).toContain('no handoff of task notes');
    expect(handoff.status).toBe(201);
    expect(after.status).toBe(200);
    expect((await view('notes')).verification).toMatchObject({
      by: 'evidence',
      items: [expect.stringMatching(/^handoff .+ confirmed$/)],
    });
  });

  it('judges a metric condition on the latest value of the metric', async () => {
    // Prepare
    const { project, move, view } = await setUp();
    await move('cover', { to: 'in_progress' });
    const metric = (value: number) =>
      api.call('POST', `/v1/plans/${project}/metrics`, {
        body: { metrics: [{ name: 'coverage.unit', value }] },
      });

    // Act
    const none = await move('cover', { to: 'done' });
    await metric(72);
    const low = await move('cover', { to: 'done' });
    await metric(84);
    const met = await move('cover', { to: 'done' });

    // Assess
    expect(none.status).toBe(409);
    expect(JSON.stringify(none.body)).toContain('coverage.unit has no value yet');
    expect(low.status).toBe(409);
    expect(JSON.stringify(low.body)).toContain('coverage.unit is 72, needs ≥ 80');
    expect(met.status).toBe(200);
    expect((await view('cover')).verification).toMatchObject({
      by: 'evidence',
      items: ['coverage.unit 84 ≥ 80'],
    });
  });

  it('leaves a task that lists no evidence as it always was', async () => {
    // Prepare
    const { move, view } = await setUp();
    await move('plain', { to: 'in_progress' });

    // Act
    const done = await move('plain', { to: 'done' });

    // Assess
    expect(done.status).toBe(200);
    expect((await view('plain')).verification).toBeUndefined();
  });
});
