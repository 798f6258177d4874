import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JiraIssueTracker } from '../../functions/adapters/jira/jira-issue-tracker.js';
import { IntegrationError, type NewIssue } from '../../functions/core/integrations/model.js';
import { type JiraTestServer, startJiraServer } from '../support/jira-server.js';

let jira: JiraTestServer;
let counter = 0;

beforeAll(async () => {
  jira = await startJiraServer({ projects: ['AV12', { key: 'OPS', issueTypes: ['Incident'] }] });
});

afterAll(() => jira.close());

afterEach(() => jira.clearFaults());

function tracker(): JiraIssueTracker {
  return new JiraIssueTracker({ baseUrl: jira.url, email: jira.email, apiToken: jira.apiToken });
}

/** An issue with a label of its own, so tests never see each other's issues. */
function newIssue(overrides: Partial<NewIssue> = {}): NewIssue {
  return {
    project: 'AV12',
    type: 'Task',
    summary: 'Escalation TPS below target: tps is 1,200,000 (tps < 1,500,000)',
    description: 'Tech Lead and CTO: please resolve within 2h.\n\nNotified: Tech Lead and CTO.',
    label: `convoy-test${++counter}`,
    ...overrides,
  };
}

const labelled = (label: string) => jira.issues().filter((issue) => issue.labels.includes(label));

/** The requests of one call: the search for the label and the create, if any. */
const callsFor = (label: string) =>
  jira.requests.filter(
    (r) =>
      (r.operationId === 'searchAndReconsileIssuesUsingJqlPost' && JSON.stringify(r.body).includes(label)) ||
      (r.operationId === 'createIssue' && JSON.stringify(r.body).includes(label)),
  );

async function integrationError(promise: Promise<unknown>): Promise<IntegrationError> {
  const outcome = await promise.then(
    () => new Error('expected the call to fail, it succeeded'),
    (error: unknown) => error,
  );
  if (outcome instanceof IntegrationError) return outcome;
  throw outcome;
}

describe('JiraIssueTracker.createIssue', () => {
  it("searches for the label, then creates the issue with requests that satisfy Atlassian's spec", async () => {
    // Prepare
    const issue = newIssue();

    // Act
    const outcome = await tracker().createIssue(issue);

    // Assess
    expect(outcome).toEqual({ key: expect.stringMatching(/^AV12-\d+$/), created: true });
    const [state] = labelled(issue.label);
    expect(labelled(issue.label)).toHaveLength(1);
    expect(state).toMatchObject({ key: outcome.key, project: 'AV12', type: 'Task', summary: issue.summary });
    expect(state?.description).toMatchObject({
      type: 'doc',
      content: [
        { content: [{ type: 'text', text: 'Tech Lead and CTO: please resolve within 2h.' }] },
        { content: [{ type: 'text', text: 'Notified: Tech Lead and CTO.' }] },
      ],
    });
    const calls = callsFor(issue.label);
    expect(calls.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/rest/api/3/search/jql', 200],
      ['POST', '/rest/api/3/issue', 201],
    ]);
    expect(calls[0]?.body).toEqual({
      jql: `labels = "${issue.label}" ORDER BY created ASC`,
      fields: ['summary'],
      maxResults: 1,
    });
    expect(calls.flatMap((r) => [...r.violations, ...r.responseViolations])).toEqual([]);
    expect(calls.every((r) => r.valid)).toBe(true);
  });

  it('finds the issue it made instead of making a second one when run again', async () => {
    // Prepare
    const issue = newIssue();
    const first = await tracker().createIssue(issue);

    // Act
    const again = await tracker().createIssue(issue);

    // Assess
    expect(again).toEqual({ key: first.key, created: false });
    expect(labelled(issue.label)).toHaveLength(1);
    expect(callsFor(issue.label).map((r) => r.operationId)).toEqual([
      'searchAndReconsileIssuesUsingJqlPost',
      'createIssue',
      'searchAndReconsileIssuesUsingJqlPost',
    ]);
  });

  it('makes one issue when the answer to the create is lost and the command is retried', async () => {
    // Prepare
    const issue = newIssue();
    jira.failNext(1, { kind: 'drop-answer' }, { operationId: 'createIssue' });

    // Act
    const lost = await integrationError(tracker().createIssue(issue));
    const retried = await tracker().createIssue(issue);

    // Assess
    expect(lost.retryable).toBe(true);
    expect(retried.created).toBe(false);
    expect(labelled(issue.label).map((state) => state.key)).toEqual([retried.key]);
  });

  it.each([500, 502, 503])(
    'reports a retryable error and creates nothing when JIRA answers %i to the create',
    async (status) => {
      // Prepare
      const issue = newIssue();
      jira.failNext(1, { kind: 'status', status }, { operationId: 'createIssue' });

      // Act
      const error = await integrationError(tracker().createIssue(issue));

      // Assess
      expect(error).toMatchObject({ retryable: true, status });
      expect(error.message).toContain(`creating a Task in AV12`);
      expect(labelled(issue.label)).toEqual([]);
    },
  );

  it('reports a retryable error with the wait when JIRA rate-limits the search', async () => {
    // Prepare
    const issue = newIssue();
    jira.failNext(
      1,
      { kind: 'status', status: 429, retryAfter: '9' },
      { operationId: 'searchAndReconsileIssuesUsingJqlPost' },
    );

    // Act
    const error = await integrationError(tracker().createIssue(issue));

    // Assess
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 9000 });
    expect(error.message).toContain(issue.label);
    expect(callsFor(issue.label).map((r) => r.operationId)).toEqual(['searchAndReconsileIssuesUsingJqlPost']);
  });

  it.each([
    [{ type: 'Story', project: 'OPS' }, 'issuetype: Specify a valid issue type'],
    [{ project: 'NOPE' }, 'project: Specify a valid project ID or key'],
  ])('fails for good, naming the field JIRA refused, for %o', async (overrides, said) => {
    // Prepare
    const issue = newIssue(overrides);

    // Act
    const error = await integrationError(tracker().createIssue(issue));

    // Assess
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toContain(said);
    expect(error.message).toContain('jira.project and jira.type');
    expect(labelled(issue.label)).toEqual([]);
  });

  it('creates an issue of a type the project has, ignoring case', async () => {
    // Act
    const outcome = await tracker().createIssue(newIssue({ project: 'OPS', type: 'incident' }));

    // Assess
    expect(outcome.key).toMatch(/^OPS-\d+$/);
    expect(jira.issue(outcome.key)?.type).toBe('Incident');
  });

  it('refuses a label with a space or an empty summary without calling JIRA', async () => {
    // Prepare
    const before = jira.requests.length;

    // Act
    const spaced = await integrationError(tracker().createIssue(newIssue({ label: 'convoy x' })));
    const blank = await integrationError(tracker().createIssue(newIssue({ summary: ' \n ' })));

    // Assess
    expect(spaced.retryable).toBe(false);
    expect(spaced.message).toContain('label');
    expect(blank.retryable).toBe(false);
    expect(blank.message).toContain('summary');
    expect(jira.requests.length).toBe(before);
  });

  it('puts a long, multi-line summary on one line within 255 characters', async () => {
    // Prepare
    const issue = newIssue({ summary: `first line\nsecond ${'x'.repeat(400)}` });

    // Act
    const outcome = await tracker().createIssue(issue);

    // Assess
    const summary = jira.issue(outcome.key)?.summary ?? '';
    expect(summary.startsWith('first line second x')).toBe(true);
    expect(summary.length).toBe(255);
  });
});

describe('startJiraServer search and create', () => {
  const auth = () => `Basic ${Buffer.from(`${jira.email}:${jira.apiToken}`).toString('base64')}`;

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${jira.url}${path}`, {
      method,
      headers: { authorization: auth(), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  it('rejects a search body that breaks the schema and an unbounded query', async () => {
    // Act
    const unknownField = await call('POST', '/rest/api/3/search/jql', { jql: 'labels = x', startAt: 0 });
    const unbounded = await call('POST', '/rest/api/3/search/jql', { jql: 'ORDER BY created DESC' });

    // Assess
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errorMessages).toContain(
      'body must NOT have additional properties (unexpected property "startAt")',
    );
    expect(unbounded.status).toBe(400);
  });

  it('finds issues by project and label, oldest first, answering as the spec says', async () => {
    // Prepare
    const label = `convoy-search${++counter}`;
    const first = await tracker().createIssue(newIssue({ label }));
    jira.addIssue('AV12-900');

    // Act
    const found = await call('POST', '/rest/api/3/search/jql', {
      jql: `project = AV12 AND labels = "${label}"`,
      fields: ['summary', 'labels'],
    });
    const ids = await call('POST', '/rest/api/3/search/jql', { jql: `labels = ${label}` });

    // Assess
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      issues: [
        {
          id: expect.any(String),
          key: first.key,
          self: expect.stringContaining('/rest/api/3/issue/'),
          fields: { summary: expect.any(String), labels: [label] },
        },
      ],
      isLast: true,
    });
    expect(ids.body.issues).toEqual([{ id: expect.any(String) }]);
    expect(jira.requests.slice(-2).flatMap((r) => r.responseViolations)).toEqual([]);
  });

  it('rejects a description that is not Atlassian Document Format', async () => {
    // Act
    const response = await call('POST', '/rest/api/3/issue', {
      fields: { project: { key: 'AV12' }, issuetype: { name: 'Task' }, summary: 'x', description: 'plain' },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.errorMessages.join('\n')).toContain(
      'fields.description must be an Atlassian Document Format document',
    );
  });
});
