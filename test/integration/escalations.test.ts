import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import { noticeMessage, parseEscalationButtonValue } from '../../functions/adapters/slack/notice-messages.js';
import { VersionConflictError } from '../../functions/core/errors.js';
import { type Escalation, onEvent, onMetrics, onTick } from '../../functions/core/escalations/index.js';
import { type EscalationPorts, runEscalations } from '../../functions/core/escalations/service.js';
import type { EscalationPostNotice, OutboxEntry } from '../../functions/core/integrations/model.js';
import { validPlan } from '../fixtures/plans.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { convoy } from '../support/cli.js';

/**
 * A plan with a two-level condition ladder (lead, then cto), an event rule for lead, and an agent
 * with a restart window: the built-in agent-down rule proposes handing its tasks to lead.
 */
const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people:
  - { id: pm, name: Project Manager, slack: U0PM }
  - { id: lead, name: Tech Lead, slack: U0LEAD }
  - { id: cto, name: CTO }
  - { id: outsider }
agents:
  - { id: alpha, owner: pm, backup: lead, restartSla: 30m }
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
      - { id: docs, agent: alpha, estimate: 1d }
escalations:
  - id: tps-low
    when: "tps < 100"
    notify: [lead]
    sla: 2h
    levels:
      - notify: [cto]
        sla: 4h
  - id: security
    on: security.critical
    notify: [lead]
    sla: 1h
integrations:
  slack: { channel: "#convoy", escalations: "#escalations" }
`;

let api: TestApi;
let outbox: DynamoDbOutbox;
let counter = 0;
const START = Date.parse('2026-01-05T10:00:00.000Z');

beforeAll(async () => {
  // The API's own use cases post through the same outbox the test reads.
  api = await startTestApi({
    deps: (ports, table) => {
      outbox = new DynamoDbOutbox(table.documentClient, table.tableName);
      return { ...ports, outbox };
    },
  });
});
afterAll(async () => {
  await api.close();
});

/** A fresh project with its own clock, so tests never see each other's state. */
async function project() {
  const id = `e-${++counter}`;
  await api.apply(plan(id));
  let now = new Date(START);
  const ports: EscalationPorts = {
    store: api.deps.store,
    escalations: api.deps.escalations,
    outbox,
    clock: { now: () => now },
    ids: timeOrderedIds,
  };
  return {
    id,
    ports,
    path: (suffix: string) => `/v1/plans/${id}${suffix}`,
    /** Moves this project's clock to `minutes` after 2026-01-05T10:00Z. */
    at(minutes: number) {
      now = new Date(START + minutes * 60_000);
      return now;
    },
    now: () => now,
    /** Runs the engine on an event, as the events API will. */
    event(type: string, subject?: string) {
      return runEscalations(ports, id, (p, open) =>
        onEvent(p, open, { type, ...(subject ? { subject } : {}), at: now.toISOString() }, now),
      );
    },
    metric(value: number) {
      const latest = new Map([['tps', { name: 'tps', value, at: now.toISOString() }]]);
      return runEscalations(ports, id, (p, open) => onMetrics(p, open, latest, now));
    },
    posts: async () =>
      (await outbox.due(new Date('9999-01-01'), 500)).filter(
        (entry): entry is OutboxEntry & { command: { kind: 'slack'; notice: EscalationPostNotice } } =>
          entry.project === id && entry.command.kind === 'slack' && 'notice' in entry.command,
      ),
  };
}

type Project = Awaited<ReturnType<typeof project>>;

async function openSecurity(p: Project, subject = 'cve-1'): Promise<Escalation> {
  const [change] = await p.event('security.critical', subject);
  if (!change) throw new Error('the security rule did not open an escalation');
  return change.escalation;
}

describe('DynamoDbEscalationStore', () => {
  it('lets exactly one of two concurrent openings of the same rule and subject succeed', async () => {
    // Prepare
    const p = await project();
    const planOf = validPlan(plan(p.id));
    const opening = (minutes: number, subject: string) => {
      const now = p.at(minutes);
      const [change] = onEvent(
        planOf,
        [],
        { type: 'security.critical', subject, at: now.toISOString() },
        now,
      );
      if (!change) throw new Error('no opening');
      return { escalation: change.escalation, expectedVersion: change.expectedVersion };
    };

    for (const subject of ['cve-1', 'cve-2', 'cve-3', 'cve-4', 'cve-5']) {
      // Two functions decided at once from the same (empty) state; their ids differ, their key does not.
      const first = opening(0, subject);
      const second = opening(1, subject);
      expect(first.escalation.id).not.toBe(second.escalation.id);

      // Act
      const outcomes = await Promise.allSettled([
        p.ports.escalations.saveEscalations(p.id, [first]),
        p.ports.escalations.saveEscalations(p.id, [second]),
      ]);

      // Assess
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(VersionConflictError);
    }
    const unresolved = await p.ports.escalations.unresolvedEscalations(p.id);
    expect(unresolved.map((escalation) => escalation.subject).sort()).toEqual([
      'cve-1',
      'cve-2',
      'cve-3',
      'cve-4',
      'cve-5',
    ]);
  });

  it('refuses a write whose expected version is stale', async () => {
    // Prepare
    const p = await project();
    const opened = await openSecurity(p);
    const planOf = validPlan(plan(p.id));
    const [update] = onEvent(
      planOf,
      [opened],
      { type: 'security.critical', subject: 'cve-1', at: p.now().toISOString() },
      p.now(),
    );
    if (!update) throw new Error('no update');
    await p.ports.escalations.saveEscalations(p.id, [update]);

    // Act
    const stale = p.ports.escalations.saveEscalations(p.id, [update]);

    // Assess
    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    expect(await p.ports.escalations.getEscalation(p.id, opened.id)).toMatchObject({
      version: 2,
      occurrences: 2,
    });
  });

  it('moves a resolved escalation out of the unresolved set into the history, freeing its key', async () => {
    // Prepare
    const p = await project();
    const [opened] = await p.metric(42);
    if (!opened) throw new Error('no opening');

    // Act
    p.at(30);
    const [cleared] = await p.metric(150);
    p.at(60);
    const [again] = await p.metric(10);

    // Assess
    expect(cleared?.kinds).toEqual(['resolved']);
    expect(again?.kinds).toEqual(['opened']);
    const unresolved = await p.ports.escalations.unresolvedEscalations(p.id);
    expect(unresolved.map((escalation) => escalation.id)).toEqual([again?.escalation.id]);
    expect(await p.ports.escalations.getEscalation(p.id, opened.escalation.id)).toMatchObject({
      status: 'resolved',
      resolution: 'condition-cleared',
      version: 2,
    });
    const resolved = await api.call<{ escalations: Escalation[] }>(
      'GET',
      p.path('/escalations?status=resolved'),
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body.escalations.map((escalation) => [escalation.id, escalation.status])).toEqual([
      [opened.escalation.id, 'resolved'],
    ]);
    const open = await api.call<{ escalations: Escalation[] }>('GET', p.path('/escalations?status=open'));
    expect(open.body.escalations.map((escalation) => escalation.id)).toEqual([again?.escalation.id]);
  });
});

describe('runEscalations', () => {
  it('reads again and decides again when another function wrote first', async () => {
    // Prepare
    const p = await project();
    const calls: number[] = [];

    // Act
    const changes = await runEscalations(p.ports, p.id, async (planOf, open) => {
      calls.push(open.length);
      const now = p.now();
      const decided = onEvent(
        planOf,
        open,
        { type: 'security.critical', subject: 'cve-9', at: now.toISOString() },
        now,
      );
      if (calls.length === 1) {
        // Another function opens the same escalation between this decision's read and its write.
        const later = p.at(1);
        const rival = onEvent(
          planOf,
          [],
          { type: 'security.critical', subject: 'cve-9', at: later.toISOString() },
          later,
        );
        await p.ports.escalations.saveEscalations(p.id, rival);
      }
      return decided;
    });

    // Assess
    expect(calls).toEqual([0, 1]);
    expect(changes.map((change) => change.kinds)).toEqual([['updated']]);
    const [escalation] = await p.ports.escalations.unresolvedEscalations(p.id);
    expect(escalation).toMatchObject({ subject: 'cve-9', occurrences: 2, version: 2 });
    // The losing attempt wrote nothing: no audit event, no post.
    const events = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=escalation.opened'));
    expect(events.body.events).toEqual([]);
    expect(await p.posts()).toEqual([]);
  });

  it('records each change in the audit trail and posts each notice once, with its buttons', async () => {
    // Prepare
    const p = await project();

    // Act
    const opened = await openSecurity(p);
    p.at(5);
    const repeated = await p.event('security.critical', 'cve-1');

    // Assess
    expect(repeated.map((change) => change.kinds)).toEqual([['updated']]);
    const posts = await p.posts();
    expect(posts).toHaveLength(1);
    const [post] = posts;
    expect(post?.id).toBe(`slack:${p.id}:escalation:${opened.id}:v1:opened`);
    expect(post?.command).toMatchObject({
      kind: 'slack',
      channel: '#escalations',
      key: `${p.id}:escalation:${opened.id}:v1:opened`,
      notice: {
        type: 'escalation',
        project: p.id,
        escalation: { id: opened.id, rule: 'security', subject: 'cve-1', level: 1, status: 'open' },
        mentions: ['U0LEAD'],
        actions: ['ack', 'resolve'],
      },
    });
    const message = noticeMessage(post?.command.notice as EscalationPostNotice);
    expect(JSON.stringify(message.blocks)).toContain('<@U0LEAD>');
    const actions = message.blocks.find((block) => block.type === 'actions') as {
      elements: { action_id: string; value: string; text: { text: string } }[];
    };
    expect(actions.elements.map((button) => [button.text.text, button.action_id, button.value])).toEqual([
      ['Acknowledge', 'escalation:ack', `${p.id}|${opened.id}`],
      ['Resolve', 'escalation:resolve', `${p.id}|${opened.id}`],
    ]);
    expect(parseEscalationButtonValue(actions.elements[0]?.value ?? '')).toEqual({
      project: p.id,
      id: opened.id,
    });
    const events = await api.call<{ events: { subject: string; actor: string; data: unknown }[] }>(
      'GET',
      p.path('/events?type=escalation.opened'),
    );
    expect(events.body.events).toEqual([
      expect.objectContaining({
        subject: opened.id,
        actor: 'system',
        data: expect.objectContaining({ rule: 'security', subject: 'cve-1', level: 1, by: 'system' }),
      }),
    ]);
  });
});

describe('runEscalations across projects', () => {
  it('posts for each project even when both open the same rule and subject at the same instant', async () => {
    // Prepare
    const [a, b] = [await project(), await project()];

    // Act
    const [first, second] = [await openSecurity(a), await openSecurity(b)];

    // Assess: escalation ids are unique per project only; the posts' keys are scoped to it.
    expect(first.id).toBe(second.id);
    expect((await a.posts()).map((post) => post.command.key)).toEqual([
      `${a.id}:escalation:${first.id}:v1:opened`,
    ]);
    expect((await b.posts()).map((post) => post.command.key)).toEqual([
      `${b.id}:escalation:${second.id}:v1:opened`,
    ]);
  });
});

describe('escalation routes', () => {
  it('lets a target of the current or an earlier level and an admin handle it, and nobody else', async () => {
    // Prepare
    const p = await project();
    const [opened] = await p.metric(42);
    if (!opened) throw new Error('no opening');
    p.at(130);
    const [climbed] = await runEscalations(p.ports, p.id, (planOf, open) => onTick(planOf, open, p.now()));
    expect(climbed?.escalation).toMatchObject({ level: 2, targets: ['cto'] });
    const id = encodeURIComponent(opened.escalation.id);
    const [lead, cto, outsider, agent] = await Promise.all([
      api.token('person', p.id, 'lead'),
      api.token('person', p.id, 'cto'),
      api.token('person', p.id, 'outsider'),
      api.token('agent', p.id, 'alpha'),
    ]);

    // Act
    const byOutsider = await api.call('POST', p.path(`/escalations/${id}/ack`), {
      token: outsider,
      body: {},
    });
    const byAgent = await api.call('POST', p.path(`/escalations/${id}/resolve`), { token: agent, body: {} });
    const byLead = await api.call('POST', p.path(`/escalations/${id}/ack`), {
      token: lead,
      body: { note: 'looking at the load balancer' },
    });
    const byCto = await api.call('POST', p.path(`/escalations/${id}/ack`), { token: cto, body: {} });
    const byAdmin = await api.call('POST', p.path(`/escalations/${id}/resolve`), {
      body: { note: 'scaled out' },
    });
    const twice = await api.call('POST', p.path(`/escalations/${id}/resolve`), { token: lead, body: {} });
    const ackResolved = await api.call('POST', p.path(`/escalations/${id}/ack`), { token: cto, body: {} });
    const unknown = await api.call('POST', p.path('/escalations/tps-low%3Anope%3A0/resolve'), { body: {} });
    const badBody = await api.call('POST', p.path(`/escalations/${id}/ack`), { body: { reason: 'x' } });

    // Assess
    expect(byOutsider).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(byOutsider.body).toMatchObject({
      error: { message: expect.stringContaining('person:outsider may not acknowledge') },
    });
    expect(byAgent.status).toBe(403);
    expect(byLead).toMatchObject({
      status: 200,
      body: { changed: true, escalation: { status: 'acknowledged', acknowledgedBy: 'person:lead' } },
    });
    expect(byCto).toMatchObject({ status: 200, body: { changed: false } });
    expect(byAdmin).toMatchObject({
      status: 200,
      body: {
        changed: true,
        escalation: { status: 'resolved', resolution: 'person', resolvedBy: 'admin', note: 'scaled out' },
      },
    });
    expect(twice).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(ackResolved.status).toBe(409);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(badBody.status).toBe(400);
    const acknowledged = await api.call<{ events: { actor: string; note: string; data: { by: string } }[] }>(
      'GET',
      p.path('/events?type=escalation.acknowledged'),
    );
    expect(acknowledged.body.events).toEqual([
      expect.objectContaining({
        actor: 'person:lead',
        note: 'looking at the load balancer',
        data: expect.objectContaining({ by: 'person:lead' }),
      }),
    ]);
    // One post per change: opened, escalated, acknowledged (once), resolved.
    // The API posts on the real clock, the engine here on the test's: order the posts by version.
    const version = (post: { id: string }) => Number(/:v(\d+):/.exec(post.id)?.[1]);
    const posts = (await p.posts()).sort((a, b) => version(a) - version(b));
    expect(posts.map((post) => post.id.split(':').at(-1))).toEqual([
      'opened',
      'escalated',
      'acknowledged',
      'resolved',
    ]);
    expect(posts.map((post) => post.command.notice.actions)).toEqual([
      ['ack', 'resolve'],
      ['ack', 'resolve'],
      ['resolve'],
      [],
    ]);
  });

  it('confirms a proposed reassignment for the agent owner and records who takes each task', async () => {
    // Prepare
    const p = await project();
    const [down] = await p.event('agent.down', 'alpha');
    if (!down) throw new Error('no agent-down escalation');
    p.at(31);
    const [proposed] = await runEscalations(p.ports, p.id, (planOf, open) =>
      onTick(planOf, open, p.now(), { openTasks: new Map([['alpha', ['api', 'docs']]]) }),
    );
    expect(proposed?.kinds).toContain('reassignment-proposed');
    const id = encodeURIComponent(down.escalation.id);
    const [owner, backup] = await Promise.all([
      api.token('person', p.id, 'pm'),
      api.token('person', p.id, 'lead'),
    ]);

    // Act
    const byBackup = await api.call('POST', p.path(`/escalations/${id}/reassign`), {
      token: backup,
      body: {},
    });
    const byOwner = await api.call('POST', p.path(`/escalations/${id}/reassign`), { token: owner, body: {} });
    const again = await api.call('POST', p.path(`/escalations/${id}/reassign`), { token: owner, body: {} });

    // Assess
    expect(byBackup.status).toBe(403);
    expect(byOwner).toMatchObject({
      status: 200,
      body: { changed: true, escalation: { reassignment: { to: 'lead', confirmedBy: 'person:pm' } } },
    });
    expect(again).toMatchObject({ status: 200, body: { changed: false } });
    const reassigned = await api.call<{ events: { subject: string; actor: string; data: unknown }[] }>(
      'GET',
      p.path('/events?type=task.reassigned'),
    );
    expect(reassigned.body.events.map((event) => [event.subject, event.actor, event.data]).sort()).toEqual([
      ['api', 'person:pm', { from: 'alpha', to: 'lead', escalation: down.escalation.id }],
      ['docs', 'person:pm', { from: 'alpha', to: 'lead', escalation: down.escalation.id }],
    ]);
    const proposal = (await p.posts()).find((post) => post.id.endsWith(':reassignment-proposed'));
    expect(proposal?.command.notice.actions).toEqual(['ack', 'resolve', 'reassign']);
    const buttons = noticeMessage(proposal?.command.notice as EscalationPostNotice).blocks.find(
      (block) => block.type === 'actions',
    ) as { elements: { action_id: string; text: { text: string } }[] };
    expect(buttons.elements.at(-1)).toMatchObject({
      action_id: 'escalation:reassign',
      text: { text: 'Reassign to backup' },
    });
    // The plan is not changed: the tasks still belong to alpha, but lead holds them now.
    const status = await api.call<{
      tasks: { id: string; agent: string; holder: string }[];
      agents: { id: string; reassigned: { task: string; to: string }[] }[];
    }>('GET', p.path('/status'));
    expect(status.body.tasks.map((task) => [task.agent, task.holder])).toEqual([
      ['alpha', 'lead'],
      ['alpha', 'lead'],
    ]);
    expect(status.body.agents[0]?.reassigned).toEqual([
      { task: 'api', to: 'lead' },
      { task: 'docs', to: 'lead' },
    ]);
    const printed = await convoy('status', '--url', api.url, '--project', p.id, '--token', api.admin);
    expect(printed.stdout).toMatch(
      /Reassigned \(2\)\n {2}api → lead \(from alpha; confirmed by person:pm, .+\) · todo\n {2}docs → lead/,
    );
  });

  it('snoozes a condition that still holds: no level change, reminder or new escalation until it ends', async () => {
    // Prepare
    const p = await project();
    const [opened] = await p.metric(42);
    if (!opened) throw new Error('no opening');
    const id = encodeURIComponent(opened.escalation.id);
    const [lead, outsider, agent] = await Promise.all([
      api.token('person', p.id, 'lead'),
      api.token('person', p.id, 'outsider'),
      api.token('agent', p.id, 'alpha'),
    ]);
    // The API runs on the real clock, the engine here on the project's: snooze until a real future time.
    const until = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const snooze = (body: unknown, token?: string) =>
      api.call<{ changed: boolean; escalation: Escalation; error?: { message: string } }>(
        'POST',
        p.path(`/escalations/${id}/snooze`),
        { body, ...(token ? { token } : {}) },
      );

    // Act
    const byOutsider = await snooze({ until }, outsider);
    const byAgent = await snooze({ until }, agent);
    const past = await snooze({ until: '2020-01-01T00:00:00Z' }, lead);
    const tooFar = await snooze({ until: new Date(Date.now() + 40 * 86_400_000).toISOString() }, lead);
    const notATime = await snooze({ until: 'tomorrow' }, lead);
    const missing = await snooze({ note: 'x' }, lead);
    const snoozed = await snooze({ until, note: 'known: load test tonight' }, lead);
    const again = await snooze({ until }, lead);
    // Hours later on the engine's clock: the ladder would have climbed, the metric still breaches.
    p.at(Math.floor((Date.parse(until) - START) / 60_000) - 1);
    const tick = await runEscalations(p.ports, p.id, (planOf, open) => onTick(planOf, open, p.now()));
    const stillHolds = await p.metric(40);
    const unresolved = await api.deps.escalations.unresolvedEscalations(p.id);
    const status = await api.call<{ escalations: Escalation[] }>('GET', p.path('/status'));
    p.at(Math.floor((Date.parse(until) - START) / 60_000) + 1);
    const [woken] = await runEscalations(p.ports, p.id, (planOf, open) => onTick(planOf, open, p.now()));

    // Assess
    expect(byOutsider.status).toBe(403);
    expect(byAgent.status).toBe(403);
    expect(past).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/^until: .* is not in the future/) } },
    });
    expect(tooFar).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('more than 30 days ahead') } },
    });
    expect(notATime).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('body.until:') } },
    });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: { message: 'body.until: required field is missing' } },
    });
    expect(snoozed).toMatchObject({
      status: 200,
      body: {
        changed: true,
        escalation: { status: 'open', level: 1, snoozedUntil: until, snoozedBy: 'person:lead', dueAt: until },
      },
    });
    expect(again).toMatchObject({ status: 200, body: { changed: false } });
    expect(tick).toEqual([]);
    expect(stillHolds.map((change) => change.kinds)).toEqual([['updated']]);
    expect(unresolved.map((escalation) => [escalation.id, escalation.level])).toEqual([
      [opened.escalation.id, 1],
    ]);
    expect(status.body.escalations[0]).toMatchObject({ snoozedUntil: until, status: 'open' });
    expect(woken?.kinds).toEqual(['snooze-ended']);
    expect(woken?.escalation).toMatchObject({
      status: 'open',
      level: 1,
      dueAt: new Date(Date.parse(until) + 2 * 3_600_000).toISOString(),
    });
    expect(woken?.escalation).not.toHaveProperty('snoozedUntil');
    const posts = (await p.posts()).map((post) => post.id.split(':').at(-1));
    expect(posts.filter((kind) => kind !== 'opened')).toEqual(
      expect.arrayContaining(['snoozed', 'snooze-ended']),
    );
    expect(posts).not.toContain('escalated');
    const events = await api.call<{ events: { type: string; note: string }[] }>(
      'GET',
      p.path('/events?type=escalation.snoozed'),
    );
    expect(events.body.events).toEqual([expect.objectContaining({ note: 'known: load test tonight' })]);
  });

  it('resolves a snoozed escalation whose condition clears, ending the snooze', async () => {
    // Prepare
    const p = await project();
    const [opened] = await p.metric(42);
    if (!opened) throw new Error('no opening');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await api.call('POST', p.path(`/escalations/${encodeURIComponent(opened.escalation.id)}/snooze`), {
      body: { until },
    });

    // Act
    p.at(5);
    const [cleared] = await p.metric(500);

    // Assess
    expect(cleared?.escalation).toMatchObject({ status: 'resolved', resolution: 'condition-cleared' });
    expect(cleared?.escalation).not.toHaveProperty('snoozedUntil');
  });

  it('lists the unresolved escalations in the status, without their history', async () => {
    // Prepare
    const p = await project();
    const security = await openSecurity(p);
    p.at(1);
    const [tps] = await p.metric(5);
    p.at(2);
    const resolved = await openSecurity(p, 'cve-2');
    await api.call('POST', p.path(`/escalations/${encodeURIComponent(resolved.id)}/resolve`), { body: {} });

    // Act
    const status = await api.call<{ escalations: Record<string, unknown>[] }>('GET', p.path('/status'));

    // Assess
    expect(status.status).toBe(200);
    expect(status.body.escalations.map((escalation) => [escalation.id, escalation.status])).toEqual([
      [security.id, 'open'],
      [tps?.escalation.id, 'open'],
    ]);
    expect(status.body.escalations[0]).toMatchObject({ rule: 'security', targets: ['lead'], level: 1 });
    expect(status.body.escalations[0]).not.toHaveProperty('history');
  });

  it('pages through the escalations newest first, of every status or of one', async () => {
    // Prepare
    const p = await project();
    const opened: Escalation[] = [];
    for (let i = 0; i < 5; i++) {
      p.at(i);
      opened.push(await openSecurity(p, `cve-${i}`));
    }
    for (const escalation of [opened[1], opened[3]])
      await api.call('POST', p.path(`/escalations/${encodeURIComponent(escalation?.id ?? '')}/resolve`), {
        body: {},
      });
    const agent = await api.token('agent', p.id, 'alpha');
    const all = async (query: string) => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const response: { status: number; body: { escalations: Escalation[]; cursor: string | null } } =
          await api.call('GET', p.path(`/escalations?${query}${cursor ? `&cursor=${cursor}` : ''}`), {
            token: agent,
          });
        expect(response.status).toBe(200);
        pages.push(response.body.escalations.map((escalation) => escalation.subject));
        cursor = response.body.cursor;
      } while (cursor);
      return pages;
    };

    // Act
    const everything = await all('limit=2');
    const resolved = await all('status=resolved&limit=1');
    const open = await all('status=open&limit=2');
    const badCursor = await api.call('GET', p.path('/escalations?cursor=bm9wZQ'));
    const badStatus = await api.call('GET', p.path('/escalations?status=closed'));

    // Assess
    expect(everything.flat()).toEqual(['cve-4', 'cve-3', 'cve-2', 'cve-1', 'cve-0']);
    expect(everything[0]).toEqual(['cve-4', 'cve-3']);
    expect(resolved.flat()).toEqual(['cve-3', 'cve-1']);
    expect(resolved[0]).toEqual(['cve-3']);
    expect(open).toEqual([['cve-4', 'cve-2'], ['cve-0']]);
    expect(badCursor).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(badStatus.status).toBe(400);
  });
});
