import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

/** A two-phase plan: `docs` waits for `api`; phase `ship` waits for phase `build`. */
const plan = (project: string, extra = '') => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }, { id: lead }, { id: outsider }]
agents:
  - { id: alpha, owner: pm, backup: lead }
  - { id: beta, owner: lead }
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: PAY-1 }
      - { id: docs, agent: beta, estimate: 1d, dependsOn: [api] }
  - id: ship
    dependsOn: [build]
    tasks:
      - { id: deploy, agent: alpha, estimate: 1d }
handoff: [Code compiles without errors, All tests pass]
${extra}`;

let api: TestApi;
let counter = 0;

/** A fresh project per test, so tests never see each other's state. */
async function project(extra = '') {
  const id = `p-${++counter}`;
  await api.apply(plan(id, extra));
  return {
    id,
    path: (suffix: string) => `/v1/plans/${id}${suffix}`,
    alpha: await api.token('agent', id, 'alpha'),
    beta: await api.token('agent', id, 'beta'),
  };
}

const move = (p: { path: (s: string) => string }, task: string, to: string, token?: string) =>
  api.call('POST', p.path(`/tasks/${task}/transitions`), { body: { to }, ...(token ? { token } : {}) });

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('GET /health', () => {
  it('answers without a token', async () => {
    const response = await api.call('GET', '/health', { token: null });
    expect(response).toMatchObject({ status: 200, body: { status: 'ok', service: 'convoy' } });
  });
});

describe('authentication and authorization', () => {
  it('answers 401 without a token and with an unknown one', async () => {
    // Prepare
    const p = await project();

    // Act
    const missing = await api.call('GET', p.path('/status'), { token: null });
    const wrong = await api.call('GET', p.path('/status'), { token: 'cvy_not-a-token' });

    // Assess
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      error: { code: 'unauthorized', message: 'missing credentials: send "Authorization: Bearer <token>"' },
    });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it('answers 403 when an agent acts for another agent, and lets an owner act for its agent', async () => {
    // Prepare
    const p = await project();
    const pm = await api.token('person', p.id, 'pm');
    const outsider = await api.token('person', p.id, 'outsider');

    // Act
    const heartbeat = await api.call('POST', p.path('/agents/alpha/heartbeat'), { token: p.beta, body: {} });
    const task = await move(p, 'api', 'in_progress', p.beta);
    const byOutsider = await move(p, 'api', 'in_progress', outsider);
    const byOwner = await move(p, 'api', 'in_progress', pm);

    // Assess
    expect(heartbeat.status).toBe(403);
    expect(heartbeat.body).toMatchObject({
      error: {
        code: 'forbidden',
        message: expect.stringContaining('agent:beta may not send heartbeats of agent alpha'),
      },
    });
    expect(task.status).toBe(403);
    expect(byOutsider.status).toBe(403);
    expect(byOwner).toMatchObject({
      status: 200,
      body: { task: { status: 'in_progress', updatedBy: 'person:pm' } },
    });
  });

  it('keeps admin routes for admins and tokens to their own project', async () => {
    // Prepare
    const p = await project();
    const other = await project();

    // Act
    const putPlan = await api.call('PUT', p.path(''), {
      token: p.alpha,
      raw: plan(p.id),
      headers: { 'content-type': 'application/yaml' },
    });
    const newToken = await api.call('POST', p.path('/agents/alpha/tokens'), { token: p.alpha });
    const crossProject = await api.call('GET', other.path('/status'), { token: p.alpha });

    // Assess
    expect(putPlan).toMatchObject({
      status: 403,
      body: { error: { message: 'this route needs an admin token' } },
    });
    expect(newToken.status).toBe(403);
    expect(crossProject).toMatchObject({
      status: 403,
      body: { error: { message: `this token belongs to project ${p.id}, not ${other.id}` } },
    });
  });

  it('issues agent and person tokens that work once and are never shown again', async () => {
    // Prepare
    const p = await project();

    // Act
    const issued = await api.call<{ token: string }>('POST', p.path('/agents/beta/tokens'));
    const person = await api.call('POST', p.path('/people/pm/tokens'));
    const unknown = await api.call('POST', p.path('/agents/gamma/tokens'));
    const used = await api.call('POST', p.path('/agents/beta/heartbeat'), {
      token: issued.body.token,
      body: { note: 'hello' },
    });
    const events = await api.call<{ events: { type: string; subject: string }[] }>(
      'GET',
      p.path('/events?type=token.created'),
    );

    // Assess
    expect(issued).toMatchObject({ status: 201, body: { role: 'agent', subject: 'beta', project: p.id } });
    expect(issued.body.token).toMatch(/^cvy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(person).toMatchObject({ status: 201, body: { role: 'person', subject: 'pm' } });
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { message: expect.stringContaining('agent gamma is not in the plan') } },
    });
    expect(used.status).toBe(200);
    expect(JSON.stringify(events.body)).not.toContain(issued.body.token);
    expect(events.body.events.map((e) => e.subject).sort()).toEqual(['agent:beta', 'person:pm']);
  });
});

describe('task lifecycle', () => {
  it('moves a task todo → in_progress → in_review → done and records who did it and why', async () => {
    // Prepare
    const p = await project();

    // Act
    const steps = [];
    for (const to of ['in_progress', 'in_review', 'done']) {
      steps.push(
        await api.call('POST', p.path('/tasks/api/transitions'), {
          token: p.alpha,
          body: { to, note: `now ${to}` },
        }),
      );
    }
    const events = await api.call<{
      events: { type: string; actor: string; note: string; data: { from: string; to: string } }[];
    }>('GET', p.path('/events?type=task.transitioned'));

    // Assess
    expect(steps.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(steps[2]?.body).toMatchObject({
      changed: true,
      task: { id: 'api', status: 'done', version: 3, updatedBy: 'agent:alpha' },
    });
    expect(events.body.events.map((e) => [e.data.from, e.data.to, e.actor, e.note])).toEqual([
      ['in_review', 'done', 'agent:alpha', 'now done'],
      ['in_progress', 'in_review', 'agent:alpha', 'now in_review'],
      ['todo', 'in_progress', 'agent:alpha', 'now in_progress'],
    ]);
  });

  it('answers 409 with the reason when predecessors are not done, the phase is not active or the task is done', async () => {
    // Prepare
    const p = await project();

    // Act
    const waiting = await move(p, 'docs', 'in_progress', p.beta);
    const pendingPhase = await move(p, 'deploy', 'in_progress', p.alpha);
    const skipping = await move(p, 'api', 'done', p.alpha);
    await move(p, 'api', 'in_progress', p.alpha);
    await move(p, 'api', 'done', p.alpha);
    const reopenByAgent = await move(p, 'api', 'in_progress', p.alpha);
    const reopenByAdmin = await move(p, 'api', 'in_progress');

    // Assess
    expect(waiting).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', message: 'task docs waits for api (todo) to be done' } },
    });
    expect(pendingPhase.body).toMatchObject({
      error: { message: 'phase ship of task deploy is pending, not active (it waits for build)' },
    });
    expect(skipping.body).toMatchObject({
      error: { message: 'task api cannot go from todo to done (from todo it can go to in_progress)' },
    });
    expect(reopenByAgent).toMatchObject({
      status: 409,
      body: { error: { message: 'task api is done; only an admin can reopen it' } },
    });
    expect(reopenByAdmin).toMatchObject({
      status: 200,
      body: { task: { status: 'in_progress', updatedBy: 'admin' } },
    });
  });

  it('treats a repeated transition as done once (a retried request changes nothing)', async () => {
    // Prepare
    const p = await project();
    await move(p, 'api', 'in_progress', p.alpha);

    // Act
    const again = await move(p, 'api', 'in_progress', p.alpha);
    const events = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=task.transitioned'));

    // Assess
    expect(again).toMatchObject({
      status: 200,
      body: { changed: false, task: { status: 'in_progress', version: 1 } },
    });
    expect(events.body.events).toHaveLength(1);
  });

  it('passes a phase when its last task is done and activates the phase that waits for it', async () => {
    // Prepare
    const p = await project();
    for (const [task, token] of [
      ['api', p.alpha],
      ['docs', p.beta],
    ] as const) {
      await move(p, task, 'in_progress', token);
      if (task === 'api') await move(p, task, 'done', token);
    }

    // Act
    const last = await move(p, 'docs', 'done', p.beta);
    const status = await api.call<{ activePhases: string[]; phases: { id: string; status: string }[] }>(
      'GET',
      p.path('/status'),
    );
    const started = await move(p, 'deploy', 'in_progress', p.alpha);

    // Assess
    expect(last.body).toMatchObject({ phases: { build: 'passed', ship: 'active' } });
    expect(status.body.activePhases).toEqual(['ship']);
    expect(status.body.phases.map((phase) => [phase.id, phase.status])).toEqual([
      ['build', 'passed'],
      ['ship', 'active'],
    ]);
    expect(started.status).toBe(200);
  });

  it('keeps a phase with a gate active until the gate decides, even with every task done', async () => {
    // Prepare
    const p = await project('gates:\n  - { id: build-gate }\n'.replace('gates', 'gates'));
    await api.apply(
      plan(p.id)
        .replace('  - id: build\n', '  - id: build\n    gate: build-gate\n')
        .concat('gates:\n  - { id: build-gate }\n'),
    );
    for (const [task, token] of [
      ['api', p.alpha],
      ['docs', p.beta],
    ] as const) {
      await move(p, task, 'in_progress', token);
      await move(p, task, 'done', token);
    }

    // Act
    const status = await api.call<{ activePhases: string[] }>('GET', p.path('/status'));

    // Assess
    expect(status.body.activePhases).toEqual(['build']);
  });

  it('raises and clears a blocker with its reason, and refuses one on a done task', async () => {
    // Prepare
    const p = await project();

    // Act
    const raised = await api.call('POST', p.path('/tasks/api/blocker'), {
      token: p.alpha,
      body: { reason: 'staging is down' },
    });
    const status = await api.call<{
      agents: { id: string; risk: string; blockers: unknown[] }[];
      tasks: { id: string; blocked: boolean; reason: string }[];
    }>('GET', p.path('/status'));
    const cleared = await api.call('DELETE', p.path('/tasks/api/blocker'), { token: p.alpha });
    const emptyReason = await api.call('POST', p.path('/tasks/api/blocker'), {
      token: p.alpha,
      body: { reason: '  ' },
    });
    await move(p, 'api', 'in_progress', p.alpha);
    await move(p, 'api', 'done', p.alpha);
    const onDone = await api.call('POST', p.path('/tasks/api/blocker'), {
      token: p.alpha,
      body: { reason: 'late' },
    });

    // Assess
    expect(raised).toMatchObject({
      status: 200,
      body: { task: { blocked: true, blockedReason: 'staging is down' } },
    });
    expect(status.body.tasks.find((t) => t.id === 'api')).toMatchObject({
      blocked: true,
      reason: 'staging is down',
    });
    expect(status.body.agents.find((a) => a.id === 'alpha')).toMatchObject({
      risk: 'yellow',
      blockers: [{ task: 'api', reason: 'staging is down' }],
    });
    expect(cleared).toMatchObject({ status: 200, body: { task: { blocked: false } } });
    expect((cleared.body as { task: object }).task).not.toHaveProperty('blockedReason');
    expect(emptyReason.status).toBe(400);
    expect(onDone).toMatchObject({
      status: 409,
      body: { error: { message: 'task api is done; a done task cannot be blocked' } },
    });
  });
  it('lifts the blocker of a task that is finished while blocked, and says so in the trail', async () => {
    // Prepare
    const p = await project();
    await move(p, 'api', 'in_progress', p.alpha);
    await api.call('POST', p.path('/tasks/api/blocker'), {
      token: p.alpha,
      body: { reason: 'waiting for review' },
    });

    // Act
    const done = await move(p, 'api', 'done', p.alpha);
    const events = await api.call<{ events: { data: Record<string, unknown> }[] }>(
      'GET',
      p.path('/events?type=task.transitioned&limit=1'),
    );

    // Assess
    expect(done).toMatchObject({ status: 200, body: { task: { status: 'done', blocked: false } } });
    expect(events.body.events[0]?.data).toMatchObject({ to: 'done', unblocked: 'waiting for review' });
  });

  it('shows in the status who holds a claimed task until when, and the leases in force', async () => {
    // Prepare: alpha claims api and takes an exclusive lease on src/**; beta takes one and gives it back.
    const p = await project();
    const claim = await api.call<{ lease: { id: string; expiresAt: string } }>(
      'POST',
      p.path('/agents/alpha/claim'),
      { token: p.alpha, body: { task: 'api' } },
    );
    const lease = await api.call<{ lease: { id: string } }>('POST', p.path('/leases'), {
      token: p.alpha,
      body: { paths: ['src/**'], mode: 'exclusive', ttl: '30m', task: 'api' },
    });
    const gone = await api.call<{ lease: { id: string } }>('POST', p.path('/leases'), {
      token: p.beta,
      body: { paths: ['docs/**'], mode: 'shared' },
    });
    await api.call('DELETE', p.path(`/leases/${gone.body.lease.id}`), { token: p.beta });

    // Act
    const status = await api.call<{
      tasks: { id: string; holder: string | null; claim: { agent: string; expiresAt: string } | null }[];
      leases: { id: string; holder: string; paths: string[]; mode: string; task: string | null }[];
    }>('GET', p.path('/status'));

    // Assess
    expect(claim.status).toBe(200);
    expect(status.body.tasks.find((task) => task.id === 'api')).toMatchObject({
      holder: 'alpha',
      claim: { agent: 'alpha', expiresAt: claim.body.lease.expiresAt },
    });
    expect(status.body.tasks.find((task) => task.id === 'docs')?.claim).toBeNull();
    expect(status.body.leases).toEqual([
      expect.objectContaining({
        id: lease.body.lease.id,
        holder: 'agent:alpha',
        paths: ['src/**'],
        mode: 'exclusive',
        task: 'api',
      }),
    ]);
    // The claim's lease id fences writes on the task: only its holder gets it, never the status.
    expect(JSON.stringify(status.body)).not.toContain(claim.body.lease.id);
  });
});

describe('heartbeats, handoffs, metrics and events', () => {
  it('shows a heartbeat in the status: current task, reported completion and risk', async () => {
    // Prepare
    const p = await project();

    // Act
    const beat = await api.call('POST', p.path('/agents/alpha/heartbeat'), {
      token: p.alpha,
      body: { task: 'api', completion: 40, risk: 'yellow', note: 'slow CI' },
    });
    const wrongTask = await api.call('POST', p.path('/agents/alpha/heartbeat'), {
      token: p.alpha,
      body: { task: 'docs' },
    });
    const status = await api.call<{ agents: { id: string }[] }>('GET', p.path('/status'));

    // Assess
    expect(beat).toMatchObject({
      status: 200,
      body: { agent: { currentTask: 'api', completion: 40, risk: 'yellow', heartbeats: 1 } },
    });
    expect(wrongTask).toMatchObject({
      status: 400,
      body: { error: { message: 'task docs is assigned to agent beta, not alpha' } },
    });
    expect(status.body.agents.find((a) => a.id === 'alpha')).toMatchObject({
      status: 'active',
      currentTask: 'api',
      reportedCompletion: 40,
      risk: 'yellow',
    });
  });

  it('answers 422 listing every handoff checklist item not confirmed, and records a complete handoff', async () => {
    // Prepare
    const p = await project();
    await move(p, 'api', 'in_progress', p.alpha);

    // Act
    const incomplete = await api.call('POST', p.path('/handoffs'), {
      token: p.alpha,
      body: {
        task: 'api',
        to: ['docs'],
        checklist: { 'Code compiles without errors': true, 'All tests pass': false },
      },
    });
    const unknownItem = await api.call('POST', p.path('/handoffs'), {
      token: p.alpha,
      body: { task: 'api', to: ['docs'], checklist: { 'All test pass': true } },
    });
    const complete = await api.call('POST', p.path('/handoffs'), {
      token: p.alpha,
      body: {
        task: 'api',
        to: ['docs'],
        checklist: { 'Code compiles without errors': true, 'All tests pass': true },
        notes: 'see README',
      },
    });

    // Assess
    expect(incomplete).toMatchObject({
      status: 422,
      body: { error: { code: 'unprocessable', details: [{ item: 'All tests pass', confirmed: false }] } },
    });
    expect((incomplete.body as { error: { message: string } }).error.message).toContain('"All tests pass"');
    expect(unknownItem).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('(did you mean "All tests pass"?)') } },
    });
    expect(complete).toMatchObject({
      status: 201,
      body: { handoff: { task: 'api', to: ['docs'], by: 'agent:alpha', notes: 'see README' } },
    });
  });

  it('stores metrics one at a time or in batches and shows the latest value of each', async () => {
    // Prepare
    const p = await project();

    // Act
    const one = await api.call('POST', p.path('/metrics'), {
      token: p.alpha,
      body: { name: 'tps', value: 1_800_000, at: '2026-01-05T10:00:00Z' },
    });
    const batch = await api.call('POST', p.path('/metrics'), {
      token: p.alpha,
      body: {
        metrics: [
          { name: 'tps', value: 2_100_000, at: '2026-01-06T10:00:00Z' },
          { name: 'coverage.unit', value: 81.5 },
        ],
      },
    });
    const older = await api.call('POST', p.path('/metrics'), {
      token: p.alpha,
      body: { name: 'tps', value: 1, at: '2026-01-04T10:00:00Z' },
    });
    const status = await api.call<{ metrics: Record<string, { value: number }> }>('GET', p.path('/status'));

    // Assess
    expect([one.status, batch.status, older.status]).toEqual([201, 201, 201]);
    expect(status.body.metrics.tps).toEqual({ value: 2_100_000, at: '2026-01-06T10:00:00.000Z' });
    expect(status.body.metrics['coverage.unit']?.value).toBe(81.5);
  });

  it('refuses bad metrics with a message naming the field', async () => {
    // Prepare
    const p = await project();
    const many = Array.from({ length: 101 }, (_, i) => ({ name: 'tps', value: i }));

    // Act
    const tooMany = await api.call('POST', p.path('/metrics'), { body: { metrics: many } });
    const badName = await api.call('POST', p.path('/metrics'), { body: { name: 'Coverage Unit', value: 1 } });
    const future = await api.call('POST', p.path('/metrics'), {
      body: { name: 'tps', value: 1, at: '2099-01-01T00:00:00Z' },
    });

    // Assess
    expect(tooMany.status).toBe(400);
    expect(badName.status).toBe(400);
    expect(future).toMatchObject({
      status: 400,
      body: { error: { message: 'metrics[0].at: 2099-01-01T00:00:00Z is in the future' } },
    });
  });

  it('pages the audit trail newest first, filters by type and time, and refuses a forged cursor', async () => {
    // Prepare
    const p = await project();
    for (let i = 0; i < 5; i++)
      await api.call('POST', p.path('/events'), {
        token: p.alpha,
        body: { type: 'deploy.finished', subject: `build-${i}` },
      });
    await api.call('POST', p.path('/events'), {
      token: p.alpha,
      body: { type: 'deploy.failed', note: 'disk full' },
    });

    // Act
    const first = await api.call<{ events: { subject: string }[]; cursor: string }>(
      'GET',
      p.path('/events?type=deploy.finished&limit=3'),
    );
    const second = await api.call<{ events: { subject: string }[]; cursor: string | null }>(
      'GET',
      p.path(`/events?type=deploy.finished&limit=3&cursor=${first.body.cursor}`),
    );
    const future = await api.call<{ events: unknown[] }>('GET', p.path('/events?since=2099-01-01T00:00:00Z'));
    const forged = await api.call('GET', p.path('/events?cursor=bm90LWEta2V5'));

    // Assess
    expect(first.body.events.map((e) => e.subject)).toEqual(['build-4', 'build-3', 'build-2']);
    expect(second.body.events.map((e) => e.subject)).toEqual(['build-1', 'build-0']);
    expect(future.body.events).toEqual([]);
    expect(forged).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });
});

describe('bad input', () => {
  it.each([
    ['malformed JSON', { raw: '{"to": ' }, 400, 'body: not valid JSON'],
    ['an unknown status', { body: { to: 'doing' } }, 400, 'body.to'],
    [
      'an unknown field',
      { body: { to: 'in_progress', nite: 'x' } },
      400,
      'body.nite: unknown field (did you mean "note"?)',
    ],
  ])('answers %s with 400 naming the problem', async (_what, request, status, message) => {
    // Prepare
    const p = await project();

    // Act
    const response = await api.call('POST', p.path('/tasks/api/transitions'), {
      ...request,
      headers: { 'content-type': 'application/json' },
    });

    // Assess
    expect(response.status).toBe(status);
    expect((response.body as { error: { message: string } }).error.message).toContain(message);
  });

  it('answers 404 for an unknown project, task and agent, with a suggestion', async () => {
    // Prepare
    const p = await project();

    // Act
    const noProject = await api.call('GET', '/v1/plans/nope/status');
    const noTask = await move(p, 'apii', 'in_progress');
    const noAgent = await api.call('POST', p.path('/agents/gama/heartbeat'), { body: {} });
    const noRoute = await api.call('GET', p.path('/nothing'));

    // Assess
    expect(noProject).toMatchObject({
      status: 404,
      body: { error: { message: 'project nope has no plan; apply one with PUT /v1/plans/nope' } },
    });
    expect(noTask).toMatchObject({
      status: 404,
      body: { error: { message: `task apii is not in the plan of project ${p.id} (did you mean "api"?)` } },
    });
    expect(noAgent.status).toBe(404);
    expect(noRoute.status).toBe(404);
  });

  it('answers 413 for a body over 256 KB and changes nothing', async () => {
    // Prepare
    const p = await project();

    // Act
    const response = await api.call('POST', p.path('/events'), {
      body: { type: 'x.y', note: 'x'.repeat(300 * 1024) },
    });
    const events = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=x.y'));

    // Assess
    expect(response).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(events.body.events).toEqual([]);
  });
});

describe('PUT /v1/plans/{project}', () => {
  it('creates a project from YAML (201), then re-applies a changed plan keeping progress (200)', async () => {
    // Prepare
    const id = `put-${++counter}`;
    const created = await api.call('PUT', `/v1/plans/${id}`, {
      raw: plan(id),
      headers: { 'content-type': 'application/yaml' },
    });
    await api.call('POST', `/v1/plans/${id}/tasks/api/transitions`, { body: { to: 'in_progress' } });
    await api.call('POST', `/v1/plans/${id}/tasks/api/transitions`, { body: { to: 'done' } });
    const changed = plan(id)
      .replace(
        '      - { id: docs, agent: beta, estimate: 1d, dependsOn: [api] }\n',
        '      - { id: docs, agent: beta, estimate: 2d, dependsOn: [api] }\n      - { id: tests, agent: beta, estimate: 1d }\n',
      )
      .replace(
        '      - { id: deploy, agent: alpha, estimate: 1d }\n',
        '      - { id: release, agent: alpha, estimate: 1d }\n',
      );

    // Act
    const updated = await api.call('PUT', `/v1/plans/${id}`, {
      raw: changed,
      headers: { 'content-type': 'application/yaml' },
    });
    const again = await api.call('PUT', `/v1/plans/${id}`, {
      raw: changed,
      headers: { 'content-type': 'application/yaml' },
    });
    const status = await api.call<{ planVersion: number; tasks: { id: string; status: string }[] }>(
      'GET',
      `/v1/plans/${id}/status`,
    );

    // Assess
    expect(created).toMatchObject({ status: 201, body: { version: 1, created: true } });
    expect(updated).toMatchObject({
      status: 200,
      body: {
        version: 2,
        changed: true,
        changes: { tasksAdded: ['tests', 'release'], tasksRemoved: ['deploy'], tasksChanged: ['docs'] },
      },
    });
    expect(again).toMatchObject({ status: 200, body: { version: 2, changed: false } });
    expect(status.body.planVersion).toBe(2);
    expect(status.body.tasks.map((t) => [t.id, t.status])).toEqual([
      ['api', 'done'],
      ['docs', 'todo'],
      ['tests', 'todo'],
      ['release', 'todo'],
    ]);
  });

  it('answers 400 with every plan error located by line and column, and keeps the stored plan', async () => {
    // Prepare
    const p = await project();
    const broken = plan(p.id)
      .replace('dependsOn: [api]', 'dependsOn: [apii]')
      .replace('estimate: 1d, jira', 'estimate: 1x, jira');

    // Act
    const response = await api.call<{
      error: { message: string; details: { line: number; path: string }[] };
    }>('PUT', p.path(''), {
      raw: broken,
      headers: { 'content-type': 'application/yaml' },
    });
    const json = await api.call('PUT', p.path(''), {
      raw: JSON.stringify({ version: 1, project: { id: 'other' } }),
    });
    const status = await api.call<{ planVersion: number }>('GET', p.path('/status'));

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d) => [d.line, d.path])).toEqual([
      [10, 'phases[0].tasks[0].estimate'],
      [11, 'phases[0].tasks[1].dependsOn[0]'],
    ]);
    expect(response.body.error.message).toContain('plan.yaml:11:');
    expect(json.status).toBe(400);
    expect(status.body.planVersion).toBe(1);
  });

  it('refuses a plan whose project id differs from the URL', async () => {
    // Act
    const response = await api.call('PUT', '/v1/plans/somewhere-else', {
      raw: plan('here'),
      headers: { 'content-type': 'application/yaml' },
    });

    // Assess
    expect(response).toMatchObject({
      status: 400,
      body: {
        error: {
          message: 'the plan\'s project.id is "here" but it is being applied to project "somewhere-else"',
        },
      },
    });
  });
});

describe('concurrency', () => {
  it('loses none of 50 concurrent heartbeats of one agent', async () => {
    // Prepare
    const p = await project();

    // Act
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.call('POST', p.path('/agents/alpha/heartbeat'), { token: p.alpha, body: { completion: i } }),
      ),
    );
    const last = await api.call<{ agent: { heartbeats: number; version: number } }>(
      'POST',
      p.path('/agents/alpha/heartbeat'),
      { token: p.alpha, body: {} },
    );

    // Assess
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(last.body.agent).toMatchObject({ heartbeats: 51, version: 51 });
  });

  it('applies 50 concurrent identical transitions of one task once, and loses none of 50 concurrent blocker updates', async () => {
    // Prepare
    const p = await project();

    // Act
    const moves = await Promise.all(Array.from({ length: 50 }, () => move(p, 'api', 'in_progress', p.alpha)));
    const reasons = Array.from({ length: 50 }, (_, i) => `reason ${i}`);
    const blocks = await Promise.all(
      reasons.map((reason) =>
        api.call('POST', p.path('/tasks/docs/blocker'), { token: p.beta, body: { reason } }),
      ),
    );
    const transitions = await api.call<{ events: unknown[] }>(
      'GET',
      p.path('/events?type=task.transitioned'),
    );
    const blocked = await api.call<{ events: { note: string }[] }>(
      'GET',
      p.path('/events?type=task.blocked&limit=100'),
    );
    const status = await api.call<{ tasks: { id: string; reason: string }[] }>('GET', p.path('/status'));

    // Assess: one transition; every blocker update either applied and recorded once, or refused
    // with 409 concurrent_update (nothing changed, the client retries); never a 5xx.
    expect(moves.filter((r) => r.status === 200 && (r.body as { changed: boolean }).changed)).toHaveLength(1);
    expect(transitions.body.events).toHaveLength(1);
    const applied = reasons.filter((_, i) => blocks[i]?.status === 200);
    const refused = blocks.filter((r) => r.status !== 200);
    for (const response of refused)
      expect(response).toMatchObject({ status: 409, body: { error: { code: 'concurrent_update' } } });
    expect(applied.length).toBeGreaterThan(0);
    expect(blocked.body.events.map((e) => e.note).sort()).toEqual([...applied].sort());
    expect(status.body.tasks.find((t) => t.id === 'docs')?.reason).toBe(blocked.body.events[0]?.note);
  });

  it('keeps all of 50 concurrent events and metric batches', async () => {
    // Prepare
    const p = await project();

    // Act
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.call('POST', p.path('/events'), {
          token: p.alpha,
          body: { type: 'load.test', subject: `e${i}` },
        }),
      ),
    );
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.call('POST', p.path('/metrics'), {
          token: p.alpha,
          body: { name: 'queue.depth', value: i, at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() },
        }),
      ),
    );
    const events = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=load.test&limit=200'));
    const status = await api.call<{ metrics: Record<string, { value: number }> }>('GET', p.path('/status'));

    // Assess
    expect(events.body.events).toHaveLength(50);
    expect(status.body.metrics['queue.depth']?.value).toBe(49);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response to a retry with the same key and body, with one effect', async () => {
    // Prepare
    const p = await project();
    const send = () =>
      api.call('POST', p.path('/events'), {
        token: p.alpha,
        body: { type: 'deploy.finished' },
        headers: { 'idempotency-key': 'deploy-7' },
      });

    // Act
    const first = await send();
    const retry = await send();
    const events = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=deploy.finished'));

    // Assess
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(events.body.events).toHaveLength(1);
  });

  it('refuses the same key with a different body, and keeps keys of different callers apart', async () => {
    // Prepare
    const p = await project();
    const headers = { 'idempotency-key': 'k-1' };
    await api.call('POST', p.path('/metrics'), { token: p.alpha, body: { name: 'tps', value: 1 }, headers });

    // Act
    const reused = await api.call('POST', p.path('/metrics'), {
      token: p.alpha,
      body: { name: 'tps', value: 2 },
      headers,
    });
    const otherCaller = await api.call('POST', p.path('/metrics'), {
      token: p.beta,
      body: { name: 'tps', value: 2 },
      headers,
    });

    // Assess
    expect(reused).toMatchObject({
      status: 422,
      body: { error: { message: expect.stringContaining('already used with a different request body') } },
    });
    expect(otherCaller.status).toBe(201);
    expect(otherCaller.headers.get('idempotent-replayed')).toBeNull();
  });

  it('has 20 concurrent deliveries of one keyed request take effect once', async () => {
    // Prepare
    const p = await project();

    // Act
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.call('POST', p.path('/events'), {
          token: p.alpha,
          body: { type: 'hook.received' },
          headers: { 'idempotency-key': 'delivery-1' },
        }),
      ),
    );
    const events = await api.call<{ events: unknown[] }>('GET', p.path('/events?type=hook.received'));

    // Assess
    expect(events.body.events).toHaveLength(1);
    for (const response of responses) {
      expect([201, 409]).toContain(response.status);
      if (response.status === 409)
        expect(response.body).toMatchObject({ error: { code: 'request_in_progress' } });
    }
    expect(responses.filter((r) => r.status === 201 && !r.headers.get('idempotent-replayed'))).toHaveLength(
      1,
    );
  });

  it('refuses a malformed key', async () => {
    const p = await project();
    const response = await api.call('POST', p.path('/events'), {
      token: p.alpha,
      body: { type: 'x.y' },
      headers: { 'idempotency-key': 'has space' },
    });
    expect(response).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('Idempotency-Key must be') } },
    });
  });
});

describe('handoffs', () => {
  const confirmed = { 'Code compiles without errors': true, 'All tests pass': true };
  const handoff = (p: { path: (s: string) => string }, body: Record<string, unknown>, token?: string) =>
    api.call<Record<string, unknown>>('POST', p.path('/handoffs'), {
      body: { task: 'api', to: ['docs'], checklist: confirmed, ...body },
      ...(token ? { token } : {}),
    });

  it('hands off only a task in progress or in review, only to tasks that depend on it', async () => {
    // Prepare
    const p = await project();

    // Act
    const notStarted = await handoff(p, {}, p.alpha);
    await move(p, 'api', 'in_progress', p.alpha);
    const unrelated = await handoff(p, { to: ['docs', 'api'] }, p.alpha);
    const nowhere = await handoff(p, { to: [] }, p.alpha);
    const nextPhase = await handoff(p, { to: ['deploy'] }, p.alpha);
    await move(p, 'api', 'in_review', p.alpha);
    const inReview = await handoff(p, { notes: 'ready for docs' }, p.alpha);
    await move(p, 'api', 'done', p.alpha);
    const done = await handoff(p, { notes: 'after the fact' }, p.alpha);

    // Assess
    expect(notStarted).toMatchObject({
      status: 409,
      body: {
        error: {
          message:
            'task api is todo; only a task in in_progress or in_review can be handed off (start it first)',
        },
      },
    });
    expect(unrelated).toMatchObject({
      status: 422,
      body: { error: { details: [{ field: 'to[1]', task: 'api' }] } },
    });
    expect((unrelated.body as { error: { message: string } }).error.message).toBe(
      'to[1]: task api does not depend on api; a task is handed off only to tasks that depend on it (tasks that depend on api: docs), or by an admin with "override": true',
    );
    expect(nowhere).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/^to: /) } },
    });
    // deploy is in phase ship, which waits for phase build: it depends on api through its phase.
    expect(nextPhase.status).toBe(201);
    expect(inReview.status).toBe(201);
    expect(done.status).toBe(409);
  });

  it('lets an admin override the rules, and nobody else', async () => {
    // Prepare
    const p = await project();

    // Act
    const byAgent = await handoff(p, { override: true }, p.alpha);
    const byAdmin = await handoff(p, { to: ['deploy'], override: true });
    const events = await api.call<{ events: { data: Record<string, unknown> }[] }>(
      'GET',
      p.path('/events?type=task.handed_off'),
    );

    // Assess
    expect(byAgent).toMatchObject({
      status: 403,
      body: { error: { message: expect.stringContaining('agent:alpha may not override the handoff rules') } },
    });
    expect(byAdmin).toMatchObject({
      status: 201,
      body: { created: true, handoff: { task: 'api', by: 'admin' } },
    });
    expect(events.body.events.map((event) => event.data)).toEqual([
      expect.objectContaining({ to: ['deploy'], override: true }),
    ]);
  });

  it('records a retried handoff once, sequential or concurrent, and a different one anew', async () => {
    // Prepare
    const p = await project();
    await move(p, 'api', 'in_progress', p.alpha);
    const body = { notes: 'see README' };

    // Act
    const first = await handoff(p, body, p.alpha);
    const retry = await handoff(
      p,
      { ...body, checklist: { 'All tests pass': true, 'Code compiles without errors': true } },
      p.alpha,
    );
    const concurrent = await Promise.all([1, 2, 3].map(() => handoff(p, { notes: 'at once' }, p.alpha)));
    const other = await handoff(p, { notes: 'a second, different handoff' }, p.alpha);
    const events = await api.call<{ events: { note: string }[] }>(
      'GET',
      p.path('/events?type=task.handed_off'),
    );

    // Assess
    expect(first).toMatchObject({ status: 201, body: { created: true } });
    // The same content in another key order is the same handoff: 200, the first one, nothing new.
    expect(retry).toMatchObject({ status: 200, body: { created: false, handoff: first.body.handoff } });
    expect(concurrent.map((response) => response.status).sort()).toEqual([200, 200, 201]);
    const ids = new Set(concurrent.map((response) => (response.body.handoff as { id: string }).id));
    expect(ids.size).toBe(1);
    expect(other).toMatchObject({ status: 201, body: { created: true } });
    expect(events.body.events.map((event) => event.note).sort()).toEqual([
      'a second, different handoff',
      'at once',
      'see README',
    ]);
  });

  it('suggests the checklist item meant when one is nearly right', async () => {
    // Prepare
    const p = await project();
    await move(p, 'api', 'in_progress', p.alpha);

    // Act
    const cutShort = await handoff(
      p,
      { checklist: { 'Code compiles': true, 'All tests pass': true } },
      p.alpha,
    );
    const otherCase = await handoff(p, { checklist: { 'all tests pass.': true } }, p.alpha);
    const unrelated = await handoff(p, { checklist: { 'Deployed to production': true } }, p.alpha);

    // Assess
    expect(cutShort).toMatchObject({
      status: 400,
      body: {
        error: {
          message: expect.stringContaining('"Code compiles" (did you mean "Code compiles without errors"?)'),
          details: [{ field: 'checklist.Code compiles', suggestion: 'Code compiles without errors' }],
        },
      },
    });
    expect((otherCase.body as { error: { message: string } }).error.message).toContain(
      '(did you mean "All tests pass"?)',
    );
    expect((unrelated.body as { error: { message: string } }).error.message).not.toContain('did you mean');
    expect((unrelated.body as { error: { message: string } }).error.message).toContain(
      'its items are "Code compiles without errors", "All tests pass"',
    );
  });

  it('lists the checklist, and for a task whether and to which tasks it can be handed off', async () => {
    // Prepare
    const p = await project();

    // Act
    const checklist = await api.call('GET', p.path('/handoff-checklist'), { token: p.beta });
    const before = await api.call('GET', p.path('/handoff-checklist?task=api'), { token: p.alpha });
    await move(p, 'api', 'in_progress', p.alpha);
    const after = await api.call('GET', p.path('/handoff-checklist?task=api'), { token: p.alpha });
    const unknownTask = await api.call('GET', p.path('/handoff-checklist?task=apj'));
    const badQuery = await api.call('GET', p.path('/handoff-checklist?tsk=api'));

    // Assess
    expect(checklist).toMatchObject({
      status: 200,
      body: {
        items: ['Code compiles without errors', 'All tests pass'],
        template: { 'Code compiles without errors': true, 'All tests pass': true },
      },
    });
    expect(before.body.task).toEqual({
      id: 'api',
      status: 'todo',
      canHandOff: false,
      reason: 'task api is todo; only a task in in_progress or in_review can be handed off',
      to: ['docs', 'deploy'],
    });
    expect(after.body.task).toMatchObject({ status: 'in_progress', canHandOff: true, reason: null });
    expect(unknownTask).toMatchObject({
      status: 404,
      body: { error: { message: expect.stringContaining('(did you mean "api"?)') } },
    });
    expect(badQuery).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('query.tsk: unknown field') } },
    });
  });
});
