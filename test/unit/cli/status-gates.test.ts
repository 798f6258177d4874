import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseUntil } from '../../../functions/cli/commands/escalations.js';
import { renderGates } from '../../../functions/cli/commands/gates.js';
import { renderStatus } from '../../../functions/cli/commands/status.js';
import type { StatusView } from '../../../functions/core/coordination/status.js';
import { convoy } from '../../support/cli.js';

const plain = (_style: unknown, text: string) => text;

/** A status a phase with every task done whose gate waits, an agent down with its tasks reassigned. */
function status(): StatusView {
  const decision = {
    gate: 'g1',
    phase: 'build',
    attempt: 2,
    decision: 'NO-GO' as const,
    evaluation: {
      gate: 'g1',
      phase: 'build',
      decision: 'NO-GO' as const,
      criteria: [],
      tasksNotDone: [],
      reasons: ['NO-GO: coverage.unit is 50 (needs >= 80)'],
      evaluatedAt: '2026-12-07T13:55:00.000Z',
    },
    at: '2026-12-07T13:55:00.000Z',
  };
  return {
    project: 'demo',
    name: 'Demo',
    planVersion: 2,
    timezone: 'America/New_York',
    generatedAt: '2026-12-07T14:00:00.000Z',
    activePhases: ['build'],
    phases: [
      {
        id: 'build',
        name: 'Build',
        status: 'active',
        gate: 'g1',
        total: 2,
        tasks: { todo: 0, in_progress: 0, in_review: 0, done: 2, blocked: 0 },
      },
    ],
    agents: [
      {
        id: 'alpha',
        name: 'Alpha',
        kind: 'ai',
        status: 'down',
        currentTask: null,
        lastHeartbeat: '2026-12-07T12:00:00.000Z',
        downSince: '2026-12-07T12:30:00.000Z',
        completion: 100,
        reportedCompletion: null,
        risk: 'red',
        blockers: [],
        reassigned: [{ task: 'docs', to: 'lead' }],
      },
    ],
    tasks: [
      {
        id: 'docs',
        title: 'Docs',
        phase: 'build',
        status: 'in_progress',
        agent: 'alpha',
        holder: 'lead',
        reassignment: {
          task: 'docs',
          from: 'alpha',
          to: 'lead',
          at: '2026-12-07T13:00:00.000Z',
          by: 'person:pm',
        },
        claim: null,
        jira: null,
        blocked: true,
        reason: 'waiting for the API review',
        updatedAt: '2026-12-07T13:00:00.000Z',
      },
      {
        id: 'refunds-schema',
        title: 'Refunds table',
        phase: 'build',
        status: 'in_progress',
        agent: null,
        holder: 'coder-a',
        reassignment: null,
        claim: { agent: 'coder-a', at: '2026-12-07T13:40:00.000Z', expiresAt: '2026-12-07T14:20:00.000Z' },
        jira: null,
        blocked: false,
        reason: null,
        updatedAt: '2026-12-07T13:40:00.000Z',
      },
    ],
    metrics: { 'coverage.unit': { value: 50, at: '2026-12-07T13:50:00.000Z' } },
    leases: [
      {
        id: 'L3f9a0c27d1e84b56',
        holder: 'agent:coder-a',
        resource: 'db-migrations',
        paths: ['db/migrations/**', 'src/db/schema.ts'],
        mode: 'shared',
        task: 'refunds-schema',
        acquiredAt: '2026-12-07T13:40:00.000Z',
        expiresAt: '2026-12-07T14:20:00.000Z',
      },
      {
        id: 'L8d41b2e07c5a9f13',
        holder: 'person:lead',
        resource: null,
        paths: ['openapi/**/*.yaml'],
        mode: 'exclusive',
        task: null,
        acquiredAt: '2026-12-07T13:00:00.000Z',
        expiresAt: '2026-12-07T15:00:00.000Z',
      },
    ],
    escalations: [
      {
        id: 'gate-decision:20261207T135500000Z:aa',
        project: 'demo',
        rule: 'gate-decision',
        name: 'Gate decision',
        kind: 'event',
        subject: 'g1',
        dedupKey: 'gate-decision:g1',
        status: 'open',
        level: 1,
        levels: 2,
        targets: ['lead'],
        openedAt: '2026-12-07T13:55:00.000Z',
        levelSince: '2026-12-07T13:55:00.000Z',
        dueAt: '2026-12-07T15:20:00.000Z',
        occurrences: 1,
        reason: 'gate g1 of phase build is NO-GO; an approver decides: advance or hold',
        version: 1,
        slaLeftSeconds: 80 * 60,
      },
      {
        id: 'tps-low:20261207T100000000Z:bb',
        project: 'demo',
        rule: 'tps-low',
        name: 'TPS low',
        kind: 'condition',
        subject: 'tps',
        dedupKey: 'tps-low:tps',
        status: 'acknowledged',
        level: 2,
        levels: 2,
        targets: ['cto'],
        openedAt: '2026-12-07T10:00:00.000Z',
        levelSince: '2026-12-07T12:00:00.000Z',
        dueAt: '2026-12-07T13:30:00.000Z',
        occurrences: 3,
        reason: 'tps is 42 (tps < 100) since 2026-12-07T10:00:00.000Z',
        version: 4,
        slaLeftSeconds: -30 * 60,
      },
      {
        id: 'security:20261207T110000000Z:cc',
        project: 'demo',
        rule: 'security',
        name: 'security',
        kind: 'event',
        subject: 'cve-1',
        dedupKey: 'security:cve-1',
        status: 'open',
        level: 1,
        levels: 1,
        targets: ['lead'],
        openedAt: '2026-12-07T11:00:00.000Z',
        levelSince: '2026-12-07T11:00:00.000Z',
        dueAt: '2026-12-08T14:00:00.000Z',
        snoozedUntil: '2026-12-08T14:00:00.000Z',
        snoozedBy: 'person:lead',
        occurrences: 1,
        reason: 'security.critical for cve-1',
        version: 2,
        slaLeftSeconds: 86_400,
      },
    ],
    gates: [
      {
        gate: 'g1',
        phase: 'build',
        approvers: ['lead'],
        status: 'awaiting-decision',
        attempt: 2,
        latest: decision,
        updatedAt: '2026-12-07T13:55:00.000Z',
        waitsFor: 'a decision by an approver (lead) or an admin: convoy gates decide g1 advance|hold',
      },
    ],
  };
}

describe('renderGates', () => {
  it('shows the year of a decision from another year than now', () => {
    const text = renderGates(status().gates, 'America/New_York', plain, new Date('2027-02-01T00:00:00Z'));
    expect(text).toContain('  latest: NO-GO · Mon 7 Dec 2026 08:55 EST\n');
  });
});

describe('renderStatus', () => {
  it('shows each gate with its latest decision and what it waits for, on its phase line too', () => {
    const text = renderStatus(status(), plain);
    expect(text).toContain('  build  active   2/2 done · gate g1 awaiting-decision\n');
    expect(text).toContain(
      [
        'Gates (1)',
        '  g1  awaiting-decision (phase build)',
        '      latest: NO-GO · attempt 2 · Mon 7 Dec 08:55 EST · NO-GO: coverage.unit is 50 (needs >= 80)',
        '      waits for a decision by an approver (lead) or an admin: convoy gates decide g1 advance|hold',
      ].join('\n'),
    );
  });

  it('lists every open escalation with its level, SLA left or overdue, snooze and reason', () => {
    const text = renderStatus(status(), plain);
    expect(text).toContain(
      [
        'Escalations (3)',
        '  ! Gate decision · g1 · level 1 of 2 · open · 1h 20m left (due Mon 7 Dec 10:20 EST)',
        '    gate g1 of phase build is NO-GO; an approver decides: advance or hold',
        '    gate-decision:20261207T135500000Z:aa',
        '  ! TPS low · tps · level 2 of 2 · acknowledged · overdue by 30m (due Mon 7 Dec 08:30 EST)',
        '    tps is 42 (tps < 100) since Mon 7 Dec 05:00 EST',
      ].join('\n'),
    );
    expect(text).toContain(
      '  ! security · cve-1 · level 1 of 1 · open · snoozed until Tue 8 Dec 09:00 EST\n',
    );
  });

  it('lists a reassigned task under its holder, and says how many the down agent gave up', () => {
    const text = renderStatus(status(), plain);
    expect(text).toContain('  ! docs (lead): waiting for the API review');
    expect(text).toContain(
      'Reassigned (1)\n  docs → lead (from alpha; confirmed by person:pm, Mon 7 Dec 08:00 EST) · in_progress',
    );
    expect(text).toMatch(/ {2}alpha {2}down .* red {2}1 reassigned\n/);
  });

  it('shows who holds each claimed task and until when, and every active lease', () => {
    const text = renderStatus(status(), plain);
    expect(text).toContain(
      'Claimed (1)\n  refunds-schema  coder-a · in_progress · since Mon 7 Dec 08:40 EST · lease until Mon 7 Dec 09:20 EST\n',
    );
    expect(text).toContain(
      [
        'Leases (2)',
        '  agent:coder-a · shared · resource db-migrations (db/migrations/**, src/db/schema.ts) · task refunds-schema · until Mon 7 Dec 09:20 EST',
        '    L3f9a0c27d1e84b56',
        '  person:lead · exclusive · paths openapi/**/*.yaml · until Mon 7 Dec 10:00 EST',
        '    L8d41b2e07c5a9f13',
      ].join('\n'),
    );
  });

  it('says when a claim’s lease ran out and the task is about to go back', () => {
    const view = status();
    const late = { ...view, generatedAt: '2026-12-07T14:21:00.000Z' };
    const text = renderStatus(late, plain);
    expect(text).toContain(
      '  refunds-schema  coder-a · in_progress · since Mon 7 Dec 08:40 EST · lease expired Mon 7 Dec 09:20 EST, about to be released\n',
    );
  });

  it('gives no lease expiry for a claim on a task the plan assigns to its holder: it never lapses', () => {
    const view = status();
    const late = {
      ...view,
      generatedAt: '2026-12-07T14:21:00.000Z',
      tasks: view.tasks.map((task) => (task.id === 'refunds-schema' ? { ...task, agent: 'coder-a' } : task)),
    };
    const text = renderStatus(late, plain);
    expect(text).toContain(
      '  refunds-schema  coder-a · in_progress · since Mon 7 Dec 08:40 EST · assigned by the plan\n',
    );
  });

  it('shows no claims or leases from a server that sends none', () => {
    const { leases: _leases, ...older } = status();
    const text = renderStatus(
      {
        ...older,
        tasks: older.tasks.map(({ claim: _claim, ...task }) => task),
      } as unknown as StatusView,
      plain,
    );
    expect(text).not.toContain('Claimed');
    expect(text).not.toContain('Leases');
    expect(text).toContain('Blocked (1)');
  });
});

let server: Server;
let url: string;
let seen: { method: string; url: string; body: string }[];
let replies: { status: number; body: unknown }[];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', body });
      const reply = replies.shift() ?? { status: 500, body: { error: { message: 'no reply queued' } } };
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  replies = [];
});

const target = () => ['--url', url, '--project', 'demo', '--token', 'cvy_person'];

describe('convoy status', () => {
  it('prints the gates and escalations the API returns', async () => {
    replies.push({ status: 200, body: status() });
    const result = await convoy('status', ...target());
    expect(result.code).toBe(0);
    expect(seen.map((request) => request.url)).toEqual(['/v1/plans/demo/status']);
    expect(result.stdout).toContain('Gates (1)');
    expect(result.stdout).toContain('Escalations (3)\n  ! Gate decision · g1');
    expect(result.stdout).toContain('Claimed (1)\n  refunds-schema  coder-a · in_progress');
    expect(result.stdout).toContain('Leases (2)\n  agent:coder-a · shared · resource db-migrations');
  });
});

describe('convoy gates', () => {
  it('lists the gates with their latest decision, reasons, what they wait for and approvers', async () => {
    replies.push({ status: 200, body: { gates: status().gates, timezone: 'America/New_York' } });
    const result = await convoy('gates', ...target());
    expect(result.code).toBe(0);
    expect(seen.map((request) => [request.method, request.url])).toEqual([['GET', '/v1/plans/demo/gates']]);
    // The year shows once the real clock has left 2026.
    expect(result.stdout.replace(' 2026 08:55', ' 08:55')).toBe(
      [
        'g1  awaiting-decision  phase build  attempt 2',
        '  latest: NO-GO · Mon 7 Dec 08:55 EST',
        '    NO-GO: coverage.unit is 50 (needs >= 80)',
        '  waits for a decision by an approver (lead) or an admin: convoy gates decide g1 advance|hold',
        '  approvers: lead',
        '',
      ].join('\n'),
    );
  });

  it('decides a gate with a note and says what happens next', async () => {
    const gate = status().gates[0];
    replies.push({
      status: 200,
      body: { decision: { ...gate?.latest, override: 'hold', decidedBy: 'person:lead', note: 'not yet' } },
    });
    const result = await convoy('gates', 'decide', 'g1', 'hold', '--note', 'not yet', ...target());
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/plans/demo/gates/g1/decision',
        body: '{"decision":"hold","note":"not yet"}',
      },
    ]);
    expect(result.stdout).toBe(
      '✓ gate g1: hold by person:lead (it was NO-GO); the phase workflow carries it out\n',
    );
  });

  it('prints the API’s refusal of a repeated decision and exits 1', async () => {
    const message =
      'gate g1 was already decided: advance by person:lead at Mon 7 Dec 09:00 EST; the phase passed';
    replies.push({ status: 409, body: { error: { code: 'conflict', message } } });
    const result = await convoy('gates', 'decide', 'g1', 'advance', ...target());
    expect(result).toMatchObject({ code: 1, stderr: `error: 409 ${message}\n` });
  });

  it.each([
    [['decide', 'g1'], 'name the gate and the decision: convoy gates decide GATE advance|hold'],
    [['decide', 'g1', 'go'], 'the decision is advance or hold, got go'],
    [['open'], 'unknown action open; expected list, decide or evaluate'],
    [['list', '--note', 'x'], '--note goes with decide'],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await convoy('gates', ...args, ...target());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${message}`);
    expect(seen).toEqual([]);
  });
});

describe('convoy escalations snooze', () => {
  it('snoozes for a duration from now or until a time, with a note', async () => {
    const escalation = { ...status().escalations[2], snoozedUntil: '2026-12-08T14:00:00.000Z' };
    replies.push({ status: 200, body: { changed: true, escalation } });
    const before = Date.now();
    const result = await convoy(
      'escalations',
      'snooze',
      'e-1',
      '--until',
      '2h',
      '--note',
      'tonight',
      ...target(),
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(seen[0]?.body ?? '{}');
    expect(seen[0]?.url).toBe('/v1/plans/demo/escalations/e-1/snooze');
    expect(body.note).toBe('tonight');
    expect(Date.parse(body.until) - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
    expect(Date.parse(body.until) - before).toBeLessThan(2 * 3_600_000 + 60_000);
    expect(result.stdout).toContain('✓ snoozed security:20261207T110000000Z:cc');
    expect(result.stdout).toContain('snoozed until 2026-12-08T14:00:00.000Z');
  });

  it.each([
    [['snooze', 'e-1'], 'say until when: convoy escalations snooze ID --until 2h (or an ISO time)'],
    [['snooze', 'e-1', '--until', 'soon'], '--until must be a time with its offset'],
    [['ack', 'e-1', '--until', '2h'], '--until goes with snooze'],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await convoy('escalations', ...args, ...target());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${message}`);
    expect(seen).toEqual([]);
  });
});

describe('parseUntil', () => {
  const now = new Date('2026-12-07T14:00:00.000Z');
  it.each([
    ['30m', '2026-12-07T14:30:00.000Z'],
    ['1h30m', '2026-12-07T15:30:00.000Z'],
    ['2d', '2026-12-09T14:00:00.000Z'],
    ['2026-12-08T09:00:00-05:00', '2026-12-08T14:00:00.000Z'],
    ['2026-12-08T14:00Z', '2026-12-08T14:00:00.000Z'],
  ])('reads %j', (text, expected) => {
    expect(parseUntil(text, now)).toBe(expected);
  });

  it.each(['0h', '2026-12-08', '2026-12-08T09:00', 'tomorrow', '2 h'])('refuses %j', (text) => {
    expect(() => parseUntil(text, now)).toThrow(/--until must be/);
  });
});
