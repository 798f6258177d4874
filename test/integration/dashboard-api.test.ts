import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCoordinationStore } from '../../functions/adapters/dynamodb/coordination-store.js';
import { analysePlan } from '../../functions/core/plan/index.js';
import { validPlan } from '../fixtures/plans.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { testClient } from '../support/dynamodb.js';
import { until } from '../support/wait.js';

/**
 * The routes the dashboard reads, through the local server (what `convoy dev` serves) on DynamoDB
 * Local with the stream publisher running: the change counter it polls, the plan with its schedule,
 * the forecast, a metric's points and the project list.
 */

const PROJECT = 'board';
const PLAN = `version: 1
project: { id: ${PROJECT}, name: Board, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm, name: Pat }, { id: dev, name: Dee }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 2d }
      - { id: ui, agent: alpha, estimate: 1d }
      - { id: docs, agent: alpha, estimate: 1d, dependsOn: [api] }
  - id: ship
    dependsOn: [build]
    tasks: [{ id: release, agent: alpha, estimate: 1d }]
escalations:
  - { id: slow, when: "tps < 5", notify: [pm] }
`;

/** The DynamoDB operations the handlers sent (not the publisher's), each with the sort key it named. */
const calls: { operation: string; sk?: string }[] = [];

let api: TestApi;
let agent: string;
let pm: string;
let dev: string;

beforeAll(async () => {
  api = await startTestApi({
    // The handlers' store on a client of its own that records each call as DynamoDB receives it.
    deps: (ports, table) => {
      const client = testClient();
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string>; body?: string | Uint8Array };
          const target = request.headers?.['x-amz-target'];
          if (target?.startsWith('DynamoDB_')) {
            const body = JSON.parse(Buffer.from(request.body ?? '{}').toString('utf8')) as {
              Key?: { sk?: { S?: string } };
            };
            calls.push({ operation: target.split('.')[1] as string, sk: body.Key?.sk?.S });
          }
          return next(args);
        },
        { step: 'build', name: 'countCalls' },
      );
      const store = new DynamoDbCoordinationStore(
        DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
        table.tableName,
      );
      return { ...ports, store, tokens: store };
    },
  });
  await api.apply(PLAN);
  [agent, pm, dev] = await Promise.all([
    api.token('agent', PROJECT, 'alpha'),
    api.token('person', PROJECT, 'pm'),
    api.token('person', PROJECT, 'dev'),
  ]);
}, 60_000);

afterAll(async () => {
  await api?.close();
});

const poll = (token: string, etag?: string) =>
  api.call<{ project?: string; version?: string }>('GET', `/v1/plans/${PROJECT}/changes`, {
    token,
    ...(etag ? { headers: { 'if-none-match': etag } } : {}),
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /v1/plans/{project}/changes', () => {
  it('gives a new ETag soon after a transition, and 304 for the one the caller has', async () => {
    // Prepare
    const first = await poll(pm);
    const etag = first.headers.get('etag') as string;
    const unchanged = await poll(pm, etag);

    // Act
    const moved = await api.call('POST', `/v1/plans/${PROJECT}/tasks/ui/transitions`, {
      token: agent,
      body: { to: 'in_progress' },
    });
    const started = Date.now();
    let next = etag;
    const seen = await until(
      async () => {
        next = (await poll(pm, etag)).headers.get('etag') ?? etag;
        return next !== etag;
      },
      // How soon is bench/dashboard.bench.ts's to measure (target 3 s); waiting generously here keeps
      // a loaded machine from making the test flaky.
      { timeoutMs: 15_000, everyMs: 100 },
    );
    const after = await poll(pm, next);

    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ project: PROJECT, version: etag.replaceAll('"', '') });
    expect(etag).toMatch(/^"1\.\d+"$/);
    expect(unchanged.status).toBe(304);
    expect(moved.status).toBe(200);
    expect(seen, `no new ETag ${Date.now() - started} ms after the transition`).toBe(true);
    expect(after.status).toBe(304);
    // Weak or listed tags match too; another tag gets the counter.
    expect((await poll(pm, `"0.0", W/${next}`)).status).toBe(304);
    expect((await poll(pm, '"0.0"')).status).toBe(200);
  });

  it('costs one DynamoDB read per idle poll, authentication included, for a person and an admin', async () => {
    // Prepare: the tokens and the plan are read once, as by the dashboard's first poll.
    const etags = { person: (await poll(pm)).headers.get('etag') as string, admin: '' };
    etags.admin = (await poll(api.admin)).headers.get('etag') as string;
    const perPoll: Record<'person' | 'admin', { operation: string; sk?: string }[][]> = {
      person: [],
      admin: [],
    };

    // Act: polls further apart than the plan pointer is cached (1 s), as the dashboard's 1.5 s are.
    for (let i = 0; i < 3; i++)
      for (const [who, token] of [
        ['person', pm],
        ['admin', api.admin],
      ] as const) {
        await sleep(1_100);
        calls.length = 0;
        const response = await poll(token, etags[who]);
        expect(response.status).toBe(304);
        perPoll[who].push([...calls]);
      }

    // Assess: each one read of the plan pointer, nothing else.
    const pointerRead = [{ operation: 'GetItem', sk: 'PLAN' }];
    expect(perPoll).toEqual({
      person: [pointerRead, pointerRead, pointerRead],
      admin: [pointerRead, pointerRead, pointerRead],
    });
  });

  it('answers 404 for a project without a plan, and 403 to a token of another project', async () => {
    // Act
    const unknown = await poll(api.admin).then(() =>
      api.call('GET', '/v1/plans/nothing-here/changes', { token: api.admin }),
    );
    const foreign = await api.call('GET', '/v1/plans/nothing-here/changes', { token: pm });

    // Assess
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(foreign.status).toBe(403);
  });
});

describe('the read routes of the dashboard', () => {
  it('GET …/plan: the applied plan with the schedule `convoy plan --json` computes', async () => {
    // Act
    const { status, body } = await api.call<Record<string, unknown>>('GET', `/v1/plans/${PROJECT}/plan`, {
      token: agent,
    });

    // Assess
    const plan = validPlan(PLAN);
    expect(status).toBe(200);
    expect(body).toMatchObject({ project: PROJECT, version: 1, appliedBy: 'admin', plan });
    expect(body.schedule).toEqual(JSON.parse(JSON.stringify(analysePlan(plan))));
    expect((body.schedule as { criticalPath: string[] }).criticalPath).toEqual(['api', 'docs', 'release']);
  });

  it('GET …/forecast: P50 ≤ P85 ≤ P95 finish dates from the work done, with the history they came from', async () => {
    // Prepare: a day of work done today gives the trials a pace.
    for (const to of ['in_progress', 'done'])
      await api.call('POST', `/v1/plans/${PROJECT}/tasks/api/transitions`, { token: agent, body: { to } });

    // Act
    const { status, body } = await api.call<{
      forecast: {
        status: string;
        remaining: number;
        p50: { date: string };
        p85: { date: string };
        p95: { date: string };
      };
      baselineFinish: string;
      history: { days: { finished: number }[] };
      today: string;
    }>('GET', `/v1/plans/${PROJECT}/forecast`, { token: pm });

    // Assess
    expect(status).toBe(200);
    expect(body.baselineFinish).toBe(analysePlan(validPlan(PLAN)).finish);
    expect(body.history.days.at(-1)?.finished).toBe(2);
    expect(body.forecast).toMatchObject({ status: 'forecast', remaining: 3 });
    const { p50, p85, p95 } = body.forecast;
    expect(p50.date > body.today).toBe(true);
    expect(p50.date <= p85.date && p85.date <= p95.date).toBe(true);
  });

  it('GET …/metrics/{name}: the newest points, oldest first, bounded by since and limit', async () => {
    // Prepare
    const points = [10, 20, 30].map((value, i) => ({
      name: 'coverage.unit',
      value,
      at: `2026-02-0${i + 1}T10:00:00.000Z`,
    }));
    await api.call('POST', `/v1/plans/${PROJECT}/metrics`, { token: agent, body: { metrics: points } });
    const path = `/v1/plans/${PROJECT}/metrics/coverage.unit`;

    // Act
    const all = await api.call('GET', `${path}?since=2026-01-01T00:00:00Z`, { token: pm });
    const newest = await api.call('GET', `${path}?since=2026-01-01T00:00:00Z&limit=2`, { token: pm });
    const later = await api.call('GET', `${path}?since=2026-02-02T00:00:00Z`, { token: pm });
    const none = await api.call('GET', `/v1/plans/${PROJECT}/metrics/tps`, { token: pm });
    const badName = await api.call('GET', `/v1/plans/${PROJECT}/metrics/${encodeURIComponent('no way')}`, {
      token: pm,
    });
    const badLimit = await api.call('GET', `${path}?limit=1001`, { token: pm });

    // Assess
    expect(all.body).toMatchObject({ name: 'coverage.unit', points, truncated: false });
    expect(newest.body).toMatchObject({ points: points.slice(1), truncated: true });
    expect(later.body).toMatchObject({ points: points.slice(1), truncated: false });
    expect(none).toMatchObject({ status: 200, body: { points: [] } });
    expect(badName).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/^path\.name/) } },
    });
    expect(badLimit).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/^query\.limit/) } },
    });
  });

  it('GET /v1/projects: every project with a plan, for an admin only', async () => {
    // Act
    const byAdmin = await api.call('GET', '/v1/projects');
    const byPerson = await api.call('GET', '/v1/projects', { token: pm });

    // Assess
    expect(byAdmin).toMatchObject({ status: 200, body: { projects: [PROJECT] } });
    expect(byPerson).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  it('GET /v1/whoami: who a token is, and for a person what the plan lets them steer', async () => {
    // Act
    const person = await api.call<Record<string, unknown>>('GET', '/v1/whoami', { token: pm });
    const anAgent = await api.call<Record<string, unknown>>('GET', '/v1/whoami', { token: agent });
    const admin = await api.call<Record<string, unknown>>('GET', '/v1/whoami');
    const nobody = await api.call('GET', '/v1/whoami', { token: 'cvy_0000000000000000_nope' });

    // Assess
    expect(person).toMatchObject({
      status: 200,
      body: { role: 'person', subject: 'pm', project: PROJECT, approves: [], steers: ['alpha'] },
    });
    expect(anAgent).toMatchObject({
      status: 200,
      body: { role: 'agent', subject: 'alpha', project: PROJECT },
    });
    expect(anAgent.body).not.toHaveProperty('steers');
    expect(admin).toMatchObject({ status: 200, body: { role: 'admin' } });
    expect(nobody.status).toBe(401);
  });
});

describe('what a person does from the dashboard', () => {
  it('acknowledges and resolves an escalation that reached them; someone it did not reach gets 403', async () => {
    // Prepare: a slow metric opens the escalation (the publisher follows the metric).
    await api.call('POST', `/v1/plans/${PROJECT}/metrics`, { token: agent, body: { name: 'tps', value: 1 } });
    let id = '';
    await until(async () => {
      const { body } = await api.call<{ escalations: { id: string }[] }>(
        'GET',
        `/v1/plans/${PROJECT}/escalations?status=open`,
      );
      id = body.escalations[0]?.id ?? '';
      return id !== '';
    });
    const path = (action: string) => `/v1/plans/${PROJECT}/escalations/${encodeURIComponent(id)}/${action}`;

    // Act
    const byDev = await api.call('POST', path('ack'), { token: dev, body: {} });
    const ack = await api.call('POST', path('ack'), { token: pm, body: { note: 'looking' } });
    const resolve = await api.call('POST', path('resolve'), { token: pm, body: {} });

    // Assess
    expect(id).not.toBe('');
    expect(byDev.status).toBe(403);
    expect(ack).toMatchObject({
      status: 200,
      body: { changed: true, escalation: { status: 'acknowledged' } },
    });
    expect(resolve).toMatchObject({
      status: 200,
      body: { changed: true, escalation: { status: 'resolved' } },
    });
  });
});
