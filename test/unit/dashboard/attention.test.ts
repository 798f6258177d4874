import { describe, expect, it } from 'vitest';
import { attentionItems, STALE_AFTER_MS } from '../../../dashboard/src/logic/attention.js';
import type { AuditEvent, StatusView } from '../../../dashboard/src/types.js';
import { agent, HOUR, iso, NOW, status, task } from './fixtures.js';

type Gate = StatusView['gates'][number];
type Escalation = StatusView['escalations'][number];

const gate = (overrides: Partial<Gate> & { gate: string }): Gate =>
  ({
    phase: 'build',
    approvers: ['lead'],
    status: 'not-evaluated',
    attempt: 0,
    latest: null,
    updatedAt: null,
    waitsFor: null,
    ...overrides,
  }) as Gate;

const escalation = (overrides: Partial<Escalation> & { id: string }): Escalation =>
  ({
    project: 'demo',
    rule: 'agent-down',
    name: 'Agent down',
    kind: 'event',
    subject: 'alpha',
    dedupKey: `agent-down:alpha`,
    status: 'open',
    level: 1,
    levels: 3,
    targets: ['lead'],
    openedAt: iso(-HOUR),
    levelSince: iso(-HOUR),
    dueAt: iso(HOUR),
    slaLeftSeconds: 3600,
    reason: 'alpha stopped sending heartbeats',
    ...overrides,
  }) as Escalation;

describe('what needs attention', () => {
  it('is empty for a healthy project', () => {
    const healthy = status({
      agents: [agent({ id: 'alpha' })],
      tasks: [
        task({ id: 'a', status: 'in_progress' }),
        task({ id: 'b', status: 'done', updatedAt: iso(-90 * HOUR) }),
      ],
      gates: [gate({ gate: 'g1', status: 'passed' })],
    });
    expect(attentionItems(healthy, NOW)).toEqual([]);
  });

  it('lists a gate awaiting a decision, an open escalation, a down agent and a blocked task, each linking to its view', () => {
    const items = attentionItems(
      status({
        agents: [agent({ id: 'alpha', status: 'down', lastHeartbeat: iso(-2 * HOUR), currentTask: 'a' })],
        tasks: [task({ id: 'a', blocked: true, reason: 'waiting for the schema review' })],
        gates: [
          gate({ gate: 'g1', status: 'awaiting-decision', waitsFor: 'a decision by an approver (lead)' }),
        ],
        escalations: [escalation({ id: 'agent-down:20260302:ab12' })],
      }),
      NOW,
    );
    const byKind = Object.fromEntries(items.map((item) => [item.kind, item]));
    expect(byKind.gate).toMatchObject({ severity: 'critical', href: '/gates#gate-g1' });
    expect(byKind.gate?.detail).toContain('approvers: lead');
    expect(byKind.escalation).toMatchObject({
      severity: 'critical',
      href: `/escalations#escalation-${encodeURIComponent('agent-down:20260302:ab12')}`,
    });
    expect(byKind.escalation?.title).toContain('level 1 of 3');
    expect(byKind.escalation?.detail).toContain('SLA left 1h');
    expect(byKind['agent-down']).toMatchObject({ severity: 'critical', href: '/agents#agent-alpha' });
    expect(byKind['agent-down']?.detail).toBe('last heartbeat 2h ago; was on a');
    expect(byKind.blocked).toMatchObject({ severity: 'warning', href: '/board#task-a' });
    expect(byKind.blocked?.detail).toContain('waiting for the schema review');
  });

  it('puts the most urgent first: critical before warnings before notices, overdue escalations first', () => {
    const items = attentionItems(
      status({
        tasks: [
          task({ id: 'stale', status: 'in_review', updatedAt: iso(-STALE_AFTER_MS - HOUR) }),
          task({ id: 'blocked', blocked: true, reason: 'x' }),
        ],
        escalations: [
          escalation({ id: 'later', slaLeftSeconds: 600, dueAt: iso(600_000) }),
          escalation({ id: 'overdue', slaLeftSeconds: -120, dueAt: iso(-120_000) }),
        ],
      }),
      NOW,
    );
    expect(items.map((item) => item.key)).toEqual([
      'escalation:overdue',
      'escalation:later',
      'blocked:blocked',
      'stale:stale',
    ]);
    expect(items[0]?.detail).toContain('SLA 2m overdue');
    expect(items[3]?.title).toBe('Task stale has not moved for 1d 1h');
  });

  it('shows a claim past its expiry and recent resource conflicts, not old ones', () => {
    const conflicts: AuditEvent[] = [
      {
        id: 'e1',
        type: 'resource.conflict',
        at: iso(-HOUR),
        actor: 'agent:beta',
        subject: 'db',
        note: 'beta wanted db',
      },
      { id: 'e2', type: 'resource.conflict', at: iso(-48 * HOUR), actor: 'agent:beta', subject: 'db' },
    ];
    const items = attentionItems(
      status({
        tasks: [
          task({
            id: 'a',
            status: 'in_progress',
            claim: { agent: 'beta', at: iso(-2 * HOUR), expiresAt: iso(-5 * 60_000) },
          }),
          // The plan gives `b` to beta: its claim never lapses (heartbeats do not renew it).
          task({
            id: 'b',
            agent: 'beta',
            status: 'in_progress',
            claim: { agent: 'beta', at: iso(-2 * HOUR), expiresAt: iso(-HOUR) },
          }),
        ],
      }),
      NOW,
      conflicts,
    );
    expect(items.map((item) => item.key)).toEqual(['claim-expired:a', 'resource-conflict:e1']);
    expect(items[0]?.title).toBe('The claim of beta on a expired');
    expect(items[1]?.detail).toContain('beta wanted db');
  });

  it('keeps a snoozed escalation as a notice saying until when', () => {
    const [item] = attentionItems(
      status({ escalations: [escalation({ id: 's', snoozedUntil: iso(3 * HOUR) })] }),
      NOW,
    );
    expect(item?.severity).toBe('notice');
    expect(item?.detail).toContain(`snoozed until ${iso(3 * HOUR)}`);
  });
});
