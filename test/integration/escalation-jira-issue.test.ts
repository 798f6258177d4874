import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../functions/adapters/dynamodb/coordination-store.js';
import { onMetrics } from '../../functions/core/escalations/index.js';
import { type EscalationPorts, runEscalations } from '../../functions/core/escalations/service.js';
import type { OutboxEntry } from '../../functions/core/integrations/model.js';
import { drainOutbox } from '../../functions/core/integrations/outbox-worker.js';
import { buildIntegrations, type IntegrationDependencies } from '../../functions/handlers/integrations.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { type JiraTestServer, startJiraServer } from '../support/jira-server.js';

/** A plan whose tps-low rule asks for a JIRA issue in AV12 when it opens; no Slack, so JIRA is all the outbox holds. */
const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people:
  - { id: pm, name: Project Manager }
  - { id: lead, name: Tech Lead }
agents:
  - { id: alpha, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
escalations:
  - id: tps-low
    name: TPS below target
    when: "tps < 100"
    notify: [lead, pm]
    jira: { project: AV12 }
integrations:
  jira:
    projects: [AV12]
`;

let api: TestApi;
let jira: JiraTestServer;
let live: IntegrationDependencies;
let counter = 0;

beforeAll(async () => {
  api = await startTestApi();
  jira = await startJiraServer({ projects: ['AV12'] });
  live = await buildIntegrations(
    {
      ...api.deps,
      secrets: async () => ({ CONVOY_JIRA_EMAIL: jira.email, CONVOY_JIRA_API_TOKEN: jira.apiToken }),
    },
    { ...api.table, print: () => undefined, jiraBaseUrl: jira.url },
  );
});

afterAll(async () => {
  await jira.close();
  await api.close();
});

/** A fresh project whose escalations go through the integrations' outbox. */
async function project() {
  const id = `j-${++counter}`;
  await api.apply(plan(id));
  const ports: EscalationPorts = {
    store: api.deps.store,
    escalations: api.deps.escalations,
    outbox: live.drain.outbox,
    clock: { now: () => new Date() },
    ids: timeOrderedIds,
  };
  return {
    id,
    /** Reports a tps value to the engine, as the metrics API does. */
    metric(value: number) {
      const now = new Date();
      const latest = new Map([['tps', { name: 'tps', value, at: now.toISOString() }]]);
      return runEscalations(ports, id, (p, open) => onMetrics(p, open, latest, now));
    },
    pending: async (): Promise<OutboxEntry[]> =>
      (await live.drain.outbox.due(new Date('9999-01-01'), 500)).filter((entry) => entry.project === id),
  };
}

const drain = (integrations: IntegrationDependencies = live, at?: Date) =>
  drainOutbox(at ? { ...integrations.drain, clock: { now: () => at } } : integrations.drain, {
    maxRunMs: 5_000,
  });

const labelled = (label: string) => jira.issues().filter((issue) => issue.labels.includes(label));

describe('escalations with a jira rule', () => {
  it('creates exactly one JIRA issue, with its label, when the escalation opens', async () => {
    // Prepare
    const p = await project();

    // Act
    const [opened] = await p.metric(42);
    await p.metric(41);
    const queued = await p.pending();
    await drain();
    await drain();

    // Assess
    expect(queued).toHaveLength(1);
    const [entry] = queued;
    expect(entry?.id).toBe(`jira:${p.id}:escalation:${opened?.escalation.id}:v1:opened`);
    expect(entry?.command).toMatchObject({
      kind: 'create-issue',
      project: 'AV12',
      type: 'Task',
      summary: 'Escalation TPS below target: tps is 42 (tps < 100)',
    });
    const label = entry?.command.kind === 'create-issue' ? entry.command.label : '';
    const issues = labelled(label);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ project: 'AV12', type: 'Task', labels: [label] });
    expect(JSON.stringify(issues[0]?.description)).toContain('Notified: Tech Lead and Project Manager.');
    expect(await p.pending()).toEqual([]);
  });

  it('still makes one issue when the same command runs twice (a retry after a lost answer)', async () => {
    // Prepare
    const p = await project();
    await p.metric(7);
    const [entry] = await p.pending();
    if (entry?.command.kind !== 'create-issue') throw new Error('no create-issue command was queued');

    // Act: the worker's runner twice, then the worker itself, which runs it a third time.
    await live.drain.run(entry.command, entry);
    await live.drain.run(entry.command, entry);
    const report = await drain();

    // Assess
    expect(labelled(entry.command.label)).toHaveLength(1);
    expect(report.done).toBe(1);
    expect(await p.pending()).toEqual([]);
  });

  it('keeps the command for a retry when JIRA answers 5xx to the create, then creates the issue once', async () => {
    // Prepare
    const p = await project();
    await p.metric(3);
    const [queued] = await p.pending();
    const label = queued?.command.kind === 'create-issue' ? queued.command.label : '';
    jira.failNext(1, { kind: 'status', status: 503 }, { operationId: 'createIssue' });

    // Act
    const failed = await drain();
    const [waiting] = await p.pending();
    await drain(live, new Date(Date.parse(waiting?.notBefore ?? '') + 1));

    // Assess
    expect(failed).toMatchObject({ done: 0, retried: 1, deadLettered: 0 });
    expect(waiting).toMatchObject({ attempts: 1, lastError: expect.stringContaining('HTTP 503') });
    expect(labelled(label)).toHaveLength(1);
    expect(await p.pending()).toEqual([]);
  });

  it('prints the issue it would create and keeps it in the audit trail without JIRA credentials', async () => {
    // Prepare
    const p = await project();
    const printed: string[] = [];
    const offline = await buildIntegrations(
      { ...api.deps, secrets: async () => ({}) },
      { ...api.table, print: (line) => printed.push(line) },
    );
    await p.metric(5);
    const [entry] = await p.pending();
    const label = entry?.command.kind === 'create-issue' ? entry.command.label : '';

    // Act
    await drain(offline);
    const events = await api.call<{ events: { note: string; subject: string }[] }>(
      'GET',
      `/v1/plans/${p.id}/events?type=jira.not_sent`,
    );

    // Assess
    expect(printed).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\[jira\\] AV12: create Task "Escalation TPS below target: tps is 5 \\(tps < 100\\)" \\(label ${label}\\): .*Notified: Tech Lead and Project Manager\\.`,
        ),
      ),
    ]);
    expect(events.body.events).toEqual([
      expect.objectContaining({ subject: 'AV12', note: expect.stringContaining(`(label ${label})`) }),
    ]);
    expect(labelled(label)).toEqual([]);
  });
});
