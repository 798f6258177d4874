import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  JiraIssueTracker,
  type JiraIssueTrackerOptions,
} from '../../functions/adapters/jira/jira-issue-tracker.js';
import { IntegrationError } from '../../functions/core/integrations/model.js';
import { type JiraTestServer, type RecordedRequest, startJiraServer } from '../support/jira-server.js';

let jira: JiraTestServer;
let counter = 0;

beforeAll(async () => {
  jira = await startJiraServer();
});

afterAll(() => jira.close());

afterEach(() => jira.clearFaults());

/** A fresh issue per test, so tests never see each other's state. */
function newIssue(status?: string): string {
  return jira.addIssue(`CON-${++counter}`, status).key;
}

function tracker(
  overrides: Partial<JiraIssueTrackerOptions> = {},
  server: JiraTestServer = jira,
): JiraIssueTracker {
  return new JiraIssueTracker({
    baseUrl: server.url,
    email: server.email,
    apiToken: server.apiToken,
    ...overrides,
  });
}

function requestsFor(issue: string, server: JiraTestServer = jira): RecordedRequest[] {
  return server.requests.filter((r) => r.path.startsWith(`/rest/api/3/issue/${issue}`));
}

async function integrationError(promise: Promise<unknown>): Promise<IntegrationError> {
  const outcome = await promise.then(
    () => new Error('expected the call to fail, it succeeded'),
    (error: unknown) => error,
  );
  if (outcome instanceof IntegrationError) return outcome;
  throw outcome;
}

/** A port on which nothing listens: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('JiraIssueTracker', () => {
  it('runs a smart commit transition by its name or a prefix of it when no status has that name', async () => {
    // Prepare: the default workflow's "Start work" leads from To Do to In Progress.
    const byName = newIssue('To Do');
    const byPrefix = newIssue('To Do');

    // Act
    const named = await tracker().transition(byName, 'start work');
    const prefixed = await tracker().transition(byPrefix, 'start');

    // Assess
    expect([named, prefixed]).toEqual(['moved', 'moved']);
    expect(jira.issue(byName)?.status).toBe('In Progress');
    expect(jira.issue(byPrefix)?.status).toBe('In Progress');
  });

  it('moves an issue through the transition whose target status has the name when it is elsewhere', async () => {
    // Prepare
    const issue = newIssue('In Progress');

    // Act
    const outcome = await tracker().transition(issue, 'In Review');

    // Assess
    expect(outcome).toBe('moved');
    expect(jira.issue(issue)?.status).toBe('In Review');
    const post = requestsFor(issue).find((r) => r.method === 'POST');
    expect(post?.body).toEqual({ transition: { id: '31' } });
    expect(requestsFor(issue).every((r) => r.valid)).toBe(true);
  });

  it('finds the transition by target status in any workflow, ignoring case', async () => {
    // Prepare
    const custom = await startJiraServer({
      workflow: {
        statuses: [
          { id: '1', name: 'Backlog', category: 'new' },
          { id: '2', name: 'Building', category: 'indeterminate' },
          { id: '3', name: 'Shipped', category: 'done' },
        ],
        transitions: [
          { id: '9001', name: 'Ship it', from: '*', to: 'Shipped' },
          { id: '9002', name: 'Pick up', from: ['Backlog'], to: 'Building' },
        ],
      },
      issues: [{ key: 'OPS-7', status: 'Backlog' }],
    });

    try {
      // Act
      const outcome = await tracker({}, custom).transition('OPS-7', 'shipped');

      // Assess
      expect(outcome).toBe('moved');
      expect(custom.issue('OPS-7')?.status).toBe('Shipped');
      expect(requestsFor('OPS-7', custom).find((r) => r.method === 'POST')?.body).toEqual({
        transition: { id: '9001' },
      });
    } finally {
      await custom.close();
    }
  });

  it("answers 'already' and sends no transition when the issue already has the status", async () => {
    // Prepare
    const issue = newIssue('Done');

    // Act
    const outcome = await tracker().transition(issue, 'done');

    // Assess
    expect(outcome).toBe('already');
    expect(requestsFor(issue).filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('fails for good, listing the reachable statuses, when no transition leads to the status', async () => {
    // Prepare
    const issue = newIssue('To Do');

    // Act
    const error = await integrationError(tracker().transition(issue, 'Done'));

    // Assess
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(issue);
    expect(error.message).toContain('"Done"');
    expect(error.message).toContain('"To Do"');
    expect(error.message).toContain('Available target statuses: "In Progress"');
    expect(jira.issue(issue)?.status).toBe('To Do');
  });

  it('keeps one remote link per globalId and updates it when linked again', async () => {
    // Prepare
    const issue = newIssue();
    const adapter = tracker();
    const globalId = 'convoy:github:pr:acme/payments#42';
    const url = 'https://github.com/acme/payments/pull/42';

    // Act
    await adapter.upsertRemoteLink(issue, { globalId, url, title: 'PR #42: Add refunds' });
    await adapter.upsertRemoteLink(issue, {
      globalId,
      url,
      title: 'PR #42: Add refunds (merged)',
      summary: 'Merged into main',
      resolved: true,
    });

    // Assess
    const links = jira.issue(issue)?.remoteLinks ?? [];
    expect(links).toHaveLength(1);
    expect(links[0]?.object).toEqual({
      url,
      title: 'PR #42: Add refunds (merged)',
      summary: 'Merged into main',
      status: { resolved: true },
    });
    expect(requestsFor(issue).map((r) => [r.status, r.valid])).toEqual([
      [201, true],
      [200, true],
    ]);
  });

  it("sends comments and worklogs that satisfy Atlassian's spec", async () => {
    // Prepare
    const issue = newIssue();
    const adapter = tracker({ clock: { now: () => new Date('2026-03-02T09:30:00.000Z') } });

    // Act
    await adapter.addComment(issue, 'Fixed the rounding bug.\nSee PR #42.\n\nThanks & <cheers> 🎉');
    await adapter.addWorklog(issue, 5400, 'Reviewed the refund flow');
    await adapter.addWorklog(issue, 60);

    // Assess
    const sent = requestsFor(issue);
    expect(sent.map((r) => r.operationId)).toEqual(['addComment', 'addWorklog', 'addWorklog']);
    expect(sent.map((r) => r.violations)).toEqual([[], [], []]);
    expect(sent.every((r) => r.valid && r.status === 201)).toBe(true);
    const state = jira.issue(issue);
    expect(state?.comments[0]?.body).toEqual({
      type: 'doc',
      version: 1,
      content: [
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'Fixed the rounding bug.' },
            { type: 'hardBreak' },
            { type: 'text', text: 'See PR #42.' },
          ],
        },
        { type: 'paragraph', content: [{ type: 'text', text: 'Thanks & <cheers> 🎉' }] },
      ],
    });
    expect(state?.worklogs.map((w) => [w.timeSpentSeconds, w.started])).toEqual([
      [5400, '2026-03-02T09:30:00.000+0000'],
      [60, '2026-03-02T09:30:00.000+0000'],
    ]);
    expect(state?.worklogs[0]?.comment).toMatchObject({
      content: [{ content: [{ type: 'text', text: 'Reviewed the refund flow' }] }],
    });
  });

  it('refuses a worklog of no time without calling JIRA', async () => {
    // Prepare
    const issue = newIssue();

    // Act
    const error = await integrationError(tracker().addWorklog(issue, 0));

    // Assess
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(issue);
    expect(requestsFor(issue)).toHaveLength(0);
  });

  it('reports a retryable error with the wait from Retry-After when JIRA answers 429', async () => {
    // Prepare
    const issue = newIssue();
    jira.failNext(1, { kind: 'status', status: 429, retryAfter: '7' });

    // Act
    const error = await integrationError(tracker().addComment(issue, 'hello'));

    // Assess
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 7000, status: 429 });
    expect(error.message).toContain(issue);
    // jira.js and axios do not retry on their own: the outbox worker decides when to try again.
    expect(requestsFor(issue)).toHaveLength(1);
  });

  it('turns a Retry-After date into the wait until then', async () => {
    // Prepare
    const issue = newIssue();
    const now = new Date('2030-01-01T00:00:00.000Z');
    jira.failNext(1, { kind: 'status', status: 503, retryAfter: 'Tue, 01 Jan 2030 00:00:30 GMT' });

    // Act
    const error = await integrationError(tracker({ clock: { now: () => now } }).addComment(issue, 'hello'));

    // Assess
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 30_000, status: 503 });
  });

  it.each([500, 502, 503])('reports a retryable error when JIRA answers %i', async (status) => {
    // Prepare
    const issue = newIssue('In Progress');
    jira.failNext(1, { kind: 'status', status });

    // Act
    const error = await integrationError(tracker().transition(issue, 'In Review'));

    // Assess
    expect(error).toMatchObject({ retryable: true, status, retryAfterMs: undefined });
    expect(requestsFor(issue)).toHaveLength(1);
  });

  it('reports a retryable error when JIRA drops the connection', async () => {
    // Prepare
    const issue = newIssue();
    jira.failNext(1, { kind: 'drop' });

    // Act
    const error = await integrationError(tracker().addComment(issue, 'hello'));

    // Assess
    expect(error.retryable).toBe(true);
    expect(error.status).toBeUndefined();
    expect(error.message).toContain('ECONNRESET');
  });

  it('reports a retryable error when nothing listens at the base URL', async () => {
    // Prepare
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;

    // Act
    const error = await integrationError(tracker({ baseUrl }).transition('CON-1', 'Done'));

    // Assess
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(baseUrl);
  });

  it('reports a retryable error when JIRA answers too slowly', async () => {
    // Prepare
    const issue = newIssue();
    jira.failNext(1, { kind: 'delay', ms: 1500 });

    // Act
    const error = await integrationError(tracker({ timeoutMs: 100 }).addComment(issue, 'hello'));

    // Assess
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/timeout/i);
  });

  it('fails for good with what JIRA said when the issue does not exist', async () => {
    // Act
    const error = await integrationError(tracker().transition('NOPE-404', 'Done'));

    // Assess
    expect(error).toMatchObject({ retryable: false, status: 404 });
    expect(error.message).toContain('NOPE-404');
    expect(error.message).toContain('Issue does not exist or you do not have permission to see it');
  });

  it.each([
    [
      400,
      { errorMessages: [], errors: { summary: 'Field summary is required.' } },
      'summary: Field summary is required.',
    ],
    [403, { errorMessages: ['You do not have permission to comment.'], errors: {} }, 'permission to comment'],
  ])('fails for good with what JIRA said when it answers %i', async (status, body, said) => {
    // Prepare
    const issue = newIssue();
    jira.failNext(1, { kind: 'status', status, body });

    // Act
    const error = await integrationError(tracker().addComment(issue, 'hello'));

    // Assess
    expect(error).toMatchObject({ retryable: false, status });
    expect(error.message).toContain(issue);
    expect(error.message).toContain(said);
  });

  it('never puts the credentials into its errors', async () => {
    // Prepare
    const issue = newIssue('To Do');
    const email = 'release-bot@acme.example';
    const apiToken = 'ATATT3xFfGF0-very-secret-token';
    const secrets = [apiToken, email, Buffer.from(`${email}:${apiToken}`).toString('base64')];
    const wrongCredentials = tracker({ email, apiToken });
    const rightCredentials = tracker();
    const unreachable = tracker({ baseUrl: `http://127.0.0.1:${await closedPort()}`, email, apiToken });

    // Act
    const errors = [
      await integrationError(wrongCredentials.addComment(issue, 'hello')),
      await integrationError(wrongCredentials.transition(issue, 'Done')),
      await integrationError(unreachable.addWorklog(issue, 60)),
      await integrationError(rightCredentials.transition(issue, 'Done')),
      await integrationError(rightCredentials.addComment('NOPE-1', 'hello')),
    ];

    // Assess
    expect(errors[0]).toMatchObject({ retryable: false, status: 401 });
    expect(errors[0]?.message).toContain('CONVOY_JIRA_API_TOKEN');
    for (const error of errors) {
      const shown = `${error.message}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
      for (const secret of [...secrets, jira.apiToken]) expect(shown).not.toContain(secret);
    }
  });
});

describe('startJiraServer', () => {
  const auth = () => `Basic ${Buffer.from(`${jira.email}:${jira.apiToken}`).toString('base64')}`;

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${jira.url}${path}`, {
      method,
      headers: { authorization: auth(), 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  }

  it('rejects a transition that names no transition, saying what is missing', async () => {
    // Prepare
    const issue = newIssue();

    // Act
    const response = await call('POST', `/rest/api/3/issue/${issue}/transitions`, { fields: {} });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.errorMessages.join('\n')).toContain('transition.id is required');
    expect(jira.issue(issue)?.status).toBe('To Do');
    expect(jira.requests.at(-1)).toMatchObject({ operationId: 'doTransition', valid: false });
  });

  it("rejects bodies that break the operation's schema, listing every violation", async () => {
    // Prepare
    const issue = newIssue();

    // Act
    const link = await call('POST', `/rest/api/3/issue/${issue}/remotelink`, {
      globalId: 'x',
      application: 'github',
    });
    const transition = await call('POST', `/rest/api/3/issue/${issue}/transitions`, {
      transition: { id: 21 },
    });

    // Assess
    expect(link.status).toBe(400);
    expect(link.body.errorMessages).toEqual([
      expect.stringContaining('createOrUpdateRemoteIssueLink'),
      "body must have required property 'object'",
      'body application must be object',
    ]);
    expect(transition.status).toBe(400);
    expect(transition.body.errorMessages).toContain('body transition.id must be string');
    expect(jira.issue(issue)?.remoteLinks).toHaveLength(0);
  });

  it('rejects query parameters the operation does not define or cannot read', async () => {
    // Prepare
    const issue = newIssue();

    // Act
    const response = await call(
      'GET',
      `/rest/api/3/issue/${issue}/transitions?expands=x&includeUnavailableTransitions=maybe`,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.errorMessages).toEqual(
      expect.arrayContaining([
        'query parameter "expands" is not defined for getTransitions',
        'query parameter includeUnavailableTransitions must be boolean',
      ]),
    );
  });

  it('answers 404 naming the request when no operation of the spec matches it', async () => {
    // Act
    const unknownPath = await call('GET', '/rest/api/3/issue/CON-1/transition');
    const unknownMethod = await call('PATCH', '/rest/api/3/issue/CON-1');

    // Assess
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.body.errorMessages[0]).toContain('GET /rest/api/3/issue/CON-1/transition');
    expect(unknownMethod.status).toBe(404);
    // The vendored contract describes only the operations Convoy calls: GET of an issue, not PUT or DELETE.
    expect(unknownMethod.body.errorMessages[0]).toContain('has only GET');
    expect(jira.requests.at(-1)?.valid).toBe(false);
    expect(jira.requests.at(-1)?.operationId).toBeUndefined();
  });

  it('answers 401 to requests without the basic-auth credentials', async () => {
    // Act
    const response = await call('GET', '/rest/api/3/issue/CON-1', undefined, {
      authorization: 'Basic bm9ib2R5Om5vcGU=',
    });

    // Assess
    expect(response.status).toBe(401);
    expect(jira.requests.at(-1)?.authorized).toBe(false);
  });

  it('answers 429 with Retry-After once more requests arrive than its rate limit allows', async () => {
    // Prepare
    const limited = await startJiraServer({ rateLimit: { requests: 2, windowMs: 60_000 }, issues: ['RL-1'] });
    const get = () =>
      new JiraIssueTracker({ baseUrl: limited.url, email: limited.email, apiToken: limited.apiToken });

    try {
      // Act
      await get().addComment('RL-1', 'one');
      await get().addComment('RL-1', 'two');
      const error = await integrationError(get().addComment('RL-1', 'three'));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 429 });
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(limited.issue('RL-1')?.comments).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });

  it('keeps its own answers true to the spec', async () => {
    // Prepare
    const issue = newIssue();
    const adapter = tracker();
    await adapter.upsertRemoteLink(issue, { globalId: 'g-1', url: 'https://example.com/1', title: 'One' });
    await adapter.addComment(issue, 'hello');
    await adapter.addWorklog(issue, 120, 'work');

    // Act
    for (const suffix of [
      '',
      '/transitions',
      '/remotelink',
      '/remotelink?globalId=g-1',
      '/comment',
      '/worklog',
    ]) {
      await call('GET', `/rest/api/3/issue/${issue}${suffix}`);
    }

    // Assess
    const answered = requestsFor(issue);
    expect(answered.map((r) => r.status)).toEqual([201, 201, 201, 200, 200, 200, 200, 200, 200]);
    expect(answered.flatMap((r) => r.responseViolations)).toEqual([]);
  });
});
