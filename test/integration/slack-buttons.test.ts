import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ESCALATION_ACTION_IDS,
  escalationButtonValue,
  GATE_ACTION_IDS,
  gateButtonValue,
} from '../../functions/adapters/slack/notice-messages.js';
import { signSlackRequest } from '../../functions/adapters/slack/verify-request.js';
import { recordEvent } from '../../functions/core/coordination/commands.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { until } from '../support/wait.js';

const SECRET = 'slack-signing-secret-for-buttons';

const PLAN = `version: 1
project: { id: buttons, timezone: UTC, start: 2026-01-05 }
people:
  - { id: lead, name: Tech Lead, slack: U0LEAD0001 }
  - { id: dev, name: Developer, slack: U0DEV00001 }
agents:
  - { id: alpha, owner: dev }
phases:
  - id: build
    gate: build-gate
    tasks: [{ id: api, agent: alpha, estimate: 1d }]
gates:
  - id: build-gate
    criteria: [{ go: "coverage.unit >= 80" }]
    approvers: [lead]
escalations:
  - { id: security, on: security.critical, notify: [lead] }
integrations:
  slack: { channel: "#proj" }
`;

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    timing: { waitTimeOverrides: { '*': 10 }, retryIntervalOverrides: { '*': 5 } },
    deps: (ports) => ({ ...ports, secrets: async () => ({ CONVOY_SLACK_SIGNING_SECRET: SECRET }) }),
  });
  await api.apply(PLAN);
});

afterAll(async () => {
  await api.close();
});

/** A click as Slack sends it: a signed form post with the block_actions payload. */
async function click(user: string, actionId: string, value: string) {
  const body = new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: user },
      actions: [{ action_id: actionId, value }],
    }),
  }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(`${api.url}/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(SECRET, timestamp, body),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as { outcome?: string } };
}

async function gateStatus(): Promise<string> {
  await api.workflows.drain();
  const { body } = await api.call<{ gates: { status: string }[] }>('GET', '/v1/plans/buttons/gates');
  return body.gates[0]?.status ?? 'none';
}

describe('Slack buttons', () => {
  it('decides a waiting gate as the approver who clicked, and ignores a click by someone else', async () => {
    // Prepare: no coverage yet, so the gate is NO-GO once the task is done.
    await api.call('POST', '/v1/plans/buttons/tasks/api/transitions', { body: { to: 'in_progress' } });
    await api.call('POST', '/v1/plans/buttons/tasks/api/transitions', { body: { to: 'done' } });
    await until(async () => (await gateStatus()) === 'awaiting-decision');

    // Act
    const byDev = await click(
      'U0DEV00001',
      GATE_ACTION_IDS.advance,
      gateButtonValue('buttons', 'build-gate', 1),
    );
    const stillWaiting = await gateStatus();
    const byLead = await click(
      'U0LEAD0001',
      GATE_ACTION_IDS.advance,
      gateButtonValue('buttons', 'build-gate', 1),
    );
    await until(async () => (await gateStatus()) === 'passed');

    // Assess
    expect(byDev.status).toBe(200);
    expect(byDev.body.outcome).toContain('may not');
    expect(stillWaiting).toBe('awaiting-decision');
    expect(byLead.body.outcome).toBe('decided');
    expect(await gateStatus()).toBe('passed');
  });

  it('acknowledges an escalation as the target who clicked', async () => {
    // Prepare
    await recordEvent(api.deps, {
      project: 'buttons',
      type: 'security.critical',
      subject: 'CVE-1',
      actor: { kind: 'admin' },
    });
    const [open] = await api.deps.escalations.unresolvedEscalations('buttons');
    const value = escalationButtonValue('buttons', open?.id as string);

    // Act
    const unknown = await click('U0NOBODY01', ESCALATION_ACTION_IDS.ack, value);
    const byLead = await click('U0LEAD0001', ESCALATION_ACTION_IDS.ack, value);

    // Assess
    expect(unknown.body.outcome).toContain('not a person of buttons');
    expect(byLead.body.outcome).toBe('ack done');
    const [acked] = await api.deps.escalations.unresolvedEscalations('buttons');
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'person:lead' });
  });
});
