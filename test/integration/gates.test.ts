import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionTask } from '../../functions/core/coordination/commands.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { convoy } from '../support/cli.js';

const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people:
  - { id: lead, name: Tech Lead, slack: U0LEAD0001 }
  - { id: dev, name: Developer }
agents:
  - { id: alpha, owner: dev }
phases:
  - id: build
    gate: build-gate
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
      - { id: docs, agent: alpha, estimate: 1d }
  - id: deploy
    dependsOn: [build]
    tasks:
      - { id: ship, agent: alpha, estimate: 1d }
gates:
  - id: build-gate
    criteria:
      - { go: "coverage.unit >= 80", caution: "coverage.unit >= 70" }
    cautionWindow: 1h
    maxCautions: 1
    approvers: [lead]
integrations:
  slack: { channel: "#proj", escalations: "#esc" }
`;

let api: TestApi;
let counter = 0;

beforeAll(async () => {
  // Caution windows and retries take milliseconds here; the ASL file is the real one.
  api = await startTestApi({
    timing: { waitTimeOverrides: { '*': 20 }, retryIntervalOverrides: { '*': 5 } },
  });
});

afterAll(async () => {
  await api.close();
});

async function project(coverage: number) {
  const id = `g-${++counter}`;
  await api.apply(plan(id));
  await api.call('POST', `/v1/plans/${id}/metrics`, { body: { name: 'coverage.unit', value: coverage } });
  return id;
}

async function finishBuild(id: string) {
  for (const task of ['api', 'docs']) {
    await api.call('POST', `/v1/plans/${id}/tasks/${task}/transitions`, { body: { to: 'in_progress' } });
    await api.call('POST', `/v1/plans/${id}/tasks/${task}/transitions`, { body: { to: 'done' } });
  }
}

type Gate = {
  gate: string;
  status: string;
  attempt: number;
  latest: {
    decision: string;
    override?: string;
    decidedBy?: string;
    evaluation: { criteria: { metric: string; value: number | null }[] };
  } | null;
};

/** Polls the gates route until the gate reaches `status` (the workflow runs asynchronously, as on AWS). */
async function gateReaches(id: string, status: string): Promise<Gate> {
  for (let i = 0; i < 200; i++) {
    await api.workflows.drain();
    const { body } = await api.call<{ gates: Gate[] }>('GET', `/v1/plans/${id}/gates`);
    const gate = body.gates[0] as Gate;
    if (gate.status === status) return gate;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gate of ${id} never reached ${status}`);
}

const phaseStatus = async (id: string) => {
  const { body } = await api.call<{ phases: { id: string; status: string }[] }>(
    'GET',
    `/v1/plans/${id}/status`,
  );
  return Object.fromEntries(body.phases.map((phase) => [phase.id, phase.status]));
};

describe('phase gates', () => {
  it('passes the phase on GO when its last task is done, activating the next, with the evidence recorded', async () => {
    // Prepare
    const id = await project(85);

    // Act
    await finishBuild(id);
    const gate = await gateReaches(id, 'passed');

    // Assess
    expect(gate.latest?.decision).toBe('GO');
    expect(gate.latest?.evaluation.criteria).toEqual([
      expect.objectContaining({ metric: 'coverage.unit', value: 85 }),
    ]);
    expect(await phaseStatus(id)).toEqual({ build: 'passed', deploy: 'active' });
    const { body } = await api.call<{ gates: Gate[] }>('GET', `/v1/plans/${id}/status`);
    expect(body.gates[0]).toMatchObject({ gate: 'build-gate', status: 'passed' });
  });

  it('holds a NO-GO phase until an approver decides, escalating to the approvers meanwhile', async () => {
    // Prepare
    const id = await project(50);
    const lead = await api.token('person', id, 'lead');
    const dev = await api.token('person', id, 'dev');
    const agent = await api.token('agent', id, 'alpha');

    // Act
    await finishBuild(id);
    const waiting = await gateReaches(id, 'awaiting-decision');
    const escalations = await api.call<{
      escalations: { rule: string; subject: string; targets: string[] }[];
    }>('GET', `/v1/plans/${id}/escalations?status=open`);
    const byDev = await api.call('POST', `/v1/plans/${id}/gates/build-gate/decision`, {
      token: dev,
      body: { decision: 'advance' },
    });
    const byAgent = await api.call('POST', `/v1/plans/${id}/gates/build-gate/decision`, {
      token: agent,
      body: { decision: 'advance' },
    });
    const byLead = await api.call('POST', `/v1/plans/${id}/gates/build-gate/decision`, {
      token: lead,
      body: { decision: 'advance', note: 'coverage catches up next sprint' },
    });
    const passed = await gateReaches(id, 'passed');

    // Assess
    expect(waiting.latest?.decision).toBe('NO-GO');
    expect(await phaseStatus(id)).toEqual({ build: 'passed', deploy: 'active' });
    expect(escalations.body.escalations).toEqual([
      expect.objectContaining({ rule: 'gate-decision', subject: 'build-gate', targets: ['lead'] }),
    ]);
    expect(byDev.status).toBe(403);
    expect(byAgent.status).toBe(403);
    expect(byLead.status).toBe(200);
    expect(passed.latest).toMatchObject({ decision: 'NO-GO', override: 'advance', decidedBy: 'person:lead' });
    const after = await api.call<{ escalations: unknown[] }>(
      'GET',
      `/v1/plans/${id}/escalations?status=open`,
    );
    expect(after.body.escalations).toEqual([]);
  });

  it('shows in convoy status and convoy gates what a gate waits for, takes the decision there, and names it when repeated', async () => {
    // Prepare
    const id = await project(50);
    const lead = await api.token('person', id, 'lead');
    await finishBuild(id);
    await gateReaches(id, 'awaiting-decision');
    const target = ['--url', api.url, '--project', id];

    // Act
    const status = await convoy('status', ...target, '--token', lead);
    const json = await api.call<{
      gates: { gate: string; status: string; waitsFor: string | null }[];
      escalations: { rule: string; level: number; levels: number; reason: string; slaLeftSeconds: number }[];
    }>('GET', `/v1/plans/${id}/status`);
    const gates = await convoy('gates', ...target, '--token', lead);
    const decided = await convoy(
      'gates',
      'decide',
      'build-gate',
      'advance',
      '--note',
      'coverage catches up next sprint',
      ...target,
      '--token',
      lead,
    );
    const repeated = await api.call<{ error: { message: string } }>(
      'POST',
      `/v1/plans/${id}/gates/build-gate/decision`,
      { token: lead, body: { decision: 'hold' } },
    );
    await gateReaches(id, 'passed');
    const after = await convoy('status', ...target, '--token', lead);

    // Assess
    expect(status.code).toBe(0);
    // The phase line says that its gate still waits, though every task is done.
    expect(status.stdout).toMatch(/build\s+active\s+2\/2 done · gate build-gate awaiting-decision/);
    expect(status.stdout).toContain('Gates (1)');
    expect(status.stdout).toMatch(/build-gate\s+awaiting-decision \(phase build\)/);
    expect(status.stdout).toContain('latest: NO-GO · attempt 1 · ');
    expect(status.stdout).toContain(
      'waits for a decision by an approver (lead) or an admin: convoy gates decide build-gate advance|hold',
    );
    expect(status.stdout).toContain('Escalations (1)');
    expect(status.stdout).toMatch(/! .+ · build-gate · level 1 of \d+ · open · \d+[dhms][^\n]* left \(due /);
    expect(status.stdout).toContain('gate build-gate of phase build is NO-GO');
    expect(json.body.gates[0]).toMatchObject({ gate: 'build-gate', status: 'awaiting-decision' });
    expect(json.body.escalations[0]).toMatchObject({ rule: 'gate-decision', level: 1 });
    expect(json.body.escalations[0]?.slaLeftSeconds).toBeGreaterThan(0);
    expect(gates.stdout).toMatch(/^build-gate\s+awaiting-decision\s+phase build\s+attempt 1$/m);
    expect(gates.stdout).toContain('  approvers: lead');
    expect(decided).toMatchObject({ code: 0, stderr: '' });
    expect(decided.stdout).toContain('gate build-gate: advance by person:lead (it was NO-GO)');
    expect(repeated.status).toBe(409);
    expect(repeated.body.error.message).toMatch(
      /^gate build-gate was already decided: advance by person:lead at \w{3} \d{1,2} \w{3}( \d{4})? \d{2}:\d{2} UTC; /,
    );
    expect(after.stdout).toMatch(/build\s+passed\s+2\/2 done\n/);
    expect(after.stdout).toContain('Escalations (0)');
  });

  it('holds the phase when the approver says hold, and evaluates it again on the admin’s request', async () => {
    // Prepare
    const id = await project(50);
    await finishBuild(id);
    await gateReaches(id, 'awaiting-decision');

    // Act
    const hold = await api.call('POST', `/v1/plans/${id}/gates/build-gate/decision`, {
      body: { decision: 'hold' },
    });
    const held = await gateReaches(id, 'held');
    const again = await api.call('POST', `/v1/plans/${id}/gates/build-gate/decision`, {
      body: { decision: 'hold' },
    });
    await api.call('POST', `/v1/plans/${id}/metrics`, { body: { name: 'coverage.unit', value: 90 } });
    const evaluate = await api.call('POST', `/v1/plans/${id}/gates/build-gate/evaluate`);
    const passed = await gateReaches(id, 'passed');

    // Assess
    expect(hold.status).toBe(200);
    expect(held.attempt).toBe(1);
    expect(await phaseStatus(id)).toEqual({ build: 'passed', deploy: 'active' });
    expect(again.status).toBe(409);
    expect(evaluate.status).toBe(202);
    expect(passed).toMatchObject({ attempt: 2, latest: { decision: 'GO' } });
  });

  it('treats CAUTIONs beyond maxCautions as NO-GO', async () => {
    // Prepare: 75 meets CAUTION (>= 70) but not GO; one CAUTION is allowed, the second is NO-GO.
    const id = await project(75);

    // Act
    await finishBuild(id);
    const waiting = await gateReaches(id, 'awaiting-decision');

    // Assess
    expect(waiting.latest?.decision).toBe('CAUTION');
    expect(await phaseStatus(id)).toMatchObject({ build: 'active', deploy: 'pending' });
  });

  it('starts the gate from the event written with the last task, with nothing published when the task moved', async () => {
    // Prepare: the tasks are finished through ports without a bus or followers, as if the process had
    // stopped right after each transaction.
    const id = await project(85);
    const { events: _none, follow: _notFollowed, ...silent } = api.deps;
    for (const task of ['api', 'docs']) {
      await transitionTask(silent, { project: id, task, to: 'in_progress', actor: { kind: 'admin' } });
      await transitionTask(silent, { project: id, task, to: 'done', actor: { kind: 'admin' } });
    }

    // Act: the publisher reads the table's stream.
    await api.workflows.drain();
    const gate = await gateReaches(id, 'passed');

    // Assess
    expect(gate).toMatchObject({ attempt: 1, latest: { decision: 'GO' } });
  });

  it('lets only the admin start an evaluation, and refuses a gate of no plan', async () => {
    // Prepare
    const id = await project(85);
    const lead = await api.token('person', id, 'lead');

    // Act
    const byLead = await api.call('POST', `/v1/plans/${id}/gates/build-gate/evaluate`, { token: lead });
    const unknown = await api.call('POST', `/v1/plans/${id}/gates/ship-gate/evaluate`);
    const notWaiting = await api.call('POST', `/v1/plans/${id}/gates/build-gate/decision`, {
      body: { decision: 'advance' },
    });

    // Assess
    expect(byLead.status).toBe(403);
    expect(unknown.status).toBe(404);
    expect(notWaiting.status).toBe(409);
  });
});
