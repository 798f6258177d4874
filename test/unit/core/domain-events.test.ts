import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONVOY_EVENT_SOURCE,
  DETAIL_TYPES,
  DOMAIN_EVENT_TYPES,
  type DomainEvent,
  type DomainEventEnvelope,
  domainEvent,
  domainEventId,
  domainEventPattern,
  escalationEvents,
  eventBridgeTime,
  gateDecidedEvent,
  matchesPattern,
} from '../../../functions/core/domain-events.js';
import type { Escalation } from '../../../functions/core/escalations/model.js';
import { evaluateGate, recordGateDecision } from '../../../functions/core/gates/index.js';
import { formatPlanError, type Plan, parsePlan } from '../../../functions/core/plan/index.js';

const AT = '2026-01-14T14:30:00.000Z';
const NOW = new Date('2026-01-21T14:00:03.512Z');

function loadExample(file: string): Plan {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

const taskChanged = (version: number, task = 'grpc-services') =>
  domainEvent('task.changed', {
    project: 'sprint-20-23',
    task,
    phase: 'sprint-20',
    agent: 'grpc-agent',
    from: 'in_progress',
    to: 'in_review',
    version,
    by: 'agent:grpc-agent',
    at: AT,
  });

const escalation: Escalation = {
  id: 'tps-below-1-5m:20260105T100000000Z:1f3a9c2e',
  project: 'sprint-20-23',
  rule: 'tps-below-1-5m',
  kind: 'condition',
  subject: 'tps',
  dedupKey: 'tps-below-1-5m:tps',
  status: 'open',
  level: 1,
  targets: ['tech-lead', 'cto'],
  openedAt: '2026-01-05T10:00:00.000Z',
  levelSince: '2026-01-05T10:00:00.000Z',
  dueAt: '2026-01-05T12:00:00.000Z',
  occurrences: 1,
  reason: 'tps is 1,320,000, below 1,500,000',
  history: [],
  version: 1,
};

describe('domainEvent', () => {
  it('copies project and time from the detail and derives the id from what the event is about', () => {
    // Act
    const event = taskChanged(3);

    // Assess
    expect(event).toMatchObject({
      id: 'task.changed/sprint-20-23/grpc-services/v3',
      type: 'task.changed',
      project: 'sprint-20-23',
      at: AT,
    });
    expect(event.detail.task).toBe('grpc-services');
  });

  it('gives the same id to the same event built twice, and different ids to different changes', () => {
    // Act
    const ids = [taskChanged(3).id, taskChanged(3).id, taskChanged(4).id, taskChanged(3, 'grpc-gateway').id];

    // Assess
    expect(ids[0]).toBe(ids[1]);
    expect(new Set(ids).size).toBe(3);
  });

  it('escapes / and % inside id parts, so that different parts never give the same id', () => {
    // Act
    const slash = domainEventId('agent.up', { project: 'p', agent: 'a/b', downSince: 'c', at: AT });
    const split = domainEventId('agent.up', { project: 'p', agent: 'a', downSince: 'b/c', at: AT });
    const percent = domainEventId('agent.up', { project: 'p', agent: 'a%2Fb', downSince: 'c', at: AT });

    // Assess
    expect(slash).toBe('agent.up/p/a%2Fb/c');
    expect(new Set([slash, split, percent]).size).toBe(3);
  });

  it('has a detail type for every event type, each different', () => {
    // Assess
    expect(Object.keys(DETAIL_TYPES)).toEqual([...DOMAIN_EVENT_TYPES]);
    expect(new Set(Object.values(DETAIL_TYPES)).size).toBe(DOMAIN_EVENT_TYPES.length);
  });
});

describe('gateDecidedEvent', () => {
  const plan = loadExample('examples/sprint-20-23.yaml');
  const metrics = new Map([
    ['tps', { name: 'tps', value: 1_800_000, at: '2026-01-21T13:00:00.000Z' }],
    ['coverage.unit', { name: 'coverage.unit', value: 84.2, at: '2026-01-21T13:00:00.000Z' }],
  ]);
  const evaluation = evaluateGate(plan, 'sprint-20', { metrics, tasks: new Map() }, NOW);

  it('carries the verdict and each criterion with its value and conditions', () => {
    // Prepare
    const decision = recordGateDecision({ plan, evaluation, attempt: 1, now: NOW });

    // Act
    const event = gateDecidedEvent('sprint-20-23', decision);

    // Assess
    expect(event.id).toBe('gate.decided/sprint-20-23/sprint-20/1');
    expect(event.detail).toMatchObject({
      gate: 'sprint-20',
      phase: 'sprint-20',
      attempt: 1,
      decision: 'NO-GO',
    });
    expect(event.detail.criteria[0]).toEqual({
      metric: 'tps',
      value: 1_800_000,
      go: 'tps >= 2_000_000',
      caution: 'tps >= 1_500_000',
      goHolds: false,
      cautionHolds: true,
    });
    expect(event.detail.criteria[1]).toMatchObject({ metric: 'grpc.api_compatibility', value: null });
    expect(event.detail.criteria[1]).not.toHaveProperty('caution');
    expect(event.detail.tasksNotDone.length).toBeGreaterThan(0);
    expect(event.detail).not.toHaveProperty('override');
  });

  it('is a different event when an approver overrides the same attempt', () => {
    // Prepare
    const evaluated = recordGateDecision({ plan, evaluation, attempt: 2, now: NOW });
    const overridden = recordGateDecision({
      plan,
      evaluation,
      attempt: 2,
      now: NOW,
      override: 'advance',
      actor: { kind: 'person', id: 'tech-lead' },
      note: 'TPS run was on the old cluster',
    });

    // Act
    const events = [
      gateDecidedEvent('sprint-20-23', evaluated),
      gateDecidedEvent('sprint-20-23', overridden),
    ];

    // Assess
    expect(events.map((event) => event.id)).toEqual([
      'gate.decided/sprint-20-23/sprint-20/2',
      'gate.decided/sprint-20-23/sprint-20/2/advance',
    ]);
    expect(events[1]?.detail).toMatchObject({
      override: 'advance',
      decidedBy: 'person:tech-lead',
      note: 'TPS run was on the old cluster',
    });
  });
});

describe('escalationEvents', () => {
  it('makes an event of an opening, at the time it opened', () => {
    // Act
    const events = escalationEvents({ kinds: ['opened'], escalation });

    // Assess
    expect(events).toEqual([
      {
        id: `escalation.opened/sprint-20-23/${escalation.id}`,
        type: 'escalation.opened',
        project: 'sprint-20-23',
        at: escalation.openedAt,
        detail: {
          project: 'sprint-20-23',
          escalation: {
            id: escalation.id,
            rule: 'tps-below-1-5m',
            subject: 'tps',
            level: 1,
            status: 'open',
            targets: ['tech-lead', 'cto'],
            reason: escalation.reason,
          },
          at: escalation.openedAt,
        },
      },
    ]);
  });

  it('makes one event per kind that is an event, and none of updates, reminders and reassignments', () => {
    // Prepare
    const climbed: Escalation = {
      ...escalation,
      level: 2,
      levelSince: '2026-01-05T12:00:00.000Z',
      targets: ['cto'],
      agent: 'deployment-agent',
    };

    // Act
    const events = escalationEvents({
      kinds: ['updated', 'escalated', 'renotified', 'reassignment-proposed'],
      escalation: climbed,
    });

    // Assess
    expect(events.map((event) => [event.type, event.id, event.at])).toEqual([
      [
        'escalation.escalated',
        `escalation.escalated/sprint-20-23/${escalation.id}/level-2`,
        '2026-01-05T12:00:00.000Z',
      ],
    ]);
    expect(events[0]?.detail).toMatchObject({ escalation: { agent: 'deployment-agent', level: 2 } });
  });

  it('says who acknowledged or resolved it, and how it was resolved', () => {
    // Prepare
    const acknowledged: Escalation = {
      ...escalation,
      status: 'acknowledged',
      acknowledgedBy: 'person:tech-lead',
      acknowledgedAt: '2026-01-05T10:20:00.000Z',
    };
    const resolved: Escalation = {
      ...acknowledged,
      status: 'resolved',
      resolvedBy: 'person:cto',
      resolvedAt: '2026-01-05T11:00:00.000Z',
      resolution: 'person',
    };

    // Act
    const [ack] = escalationEvents({ kinds: ['acknowledged'], escalation: acknowledged });
    const [done] = escalationEvents({ kinds: ['resolved'], escalation: resolved });

    // Assess
    expect(ack).toMatchObject({
      id: `escalation.acknowledged/sprint-20-23/${escalation.id}/level-1`,
      at: '2026-01-05T10:20:00.000Z',
      detail: { by: 'person:tech-lead', escalation: { status: 'acknowledged' } },
    });
    expect(done).toMatchObject({
      id: `escalation.resolved/sprint-20-23/${escalation.id}`,
      at: '2026-01-05T11:00:00.000Z',
      detail: { by: 'person:cto', resolution: 'person', escalation: { status: 'resolved' } },
    });
  });

  it('leaves `by` out when Convoy resolved it itself', () => {
    // Prepare
    const cleared: Escalation = {
      ...escalation,
      status: 'resolved',
      resolvedAt: '2026-01-05T11:00:00.000Z',
      resolution: 'condition-cleared',
    };

    // Act
    const [event] = escalationEvents({ kinds: ['resolved'], escalation: cleared });

    // Assess
    expect(event?.detail).not.toHaveProperty('by');
    expect(event?.detail).toMatchObject({ resolution: 'condition-cleared' });
  });
});

describe('domainEventPattern', () => {
  it('always matches the convoy source, and only the fields a rule names', () => {
    // Assess
    expect(domainEventPattern()).toEqual({ source: ['convoy'] });
    expect(domainEventPattern({ detailType: 'Phase Tasks Completed' })).toEqual({
      source: ['convoy'],
      'detail-type': ['Phase Tasks Completed'],
    });
    expect(domainEventPattern({ type: ['agent.down', 'agent.up'], project: 'sprint-20-23' })).toEqual({
      source: ['convoy'],
      detail: { type: ['agent.down', 'agent.up'], project: ['sprint-20-23'] },
    });
  });
});

describe('matchesPattern', () => {
  const envelope = {
    source: 'convoy',
    'detail-type': 'Task Changed',
    resources: ['arn:a', 'arn:b'],
    detail: { project: 'p', detail: { blocked: true, version: 3, note: null } },
  };

  it('matches when every field of the pattern has one of its values', () => {
    // Assess
    expect(matchesPattern({ source: ['convoy'] }, envelope)).toBe(true);
    expect(matchesPattern({ 'detail-type': ['Agent Up', 'Task Changed'] }, envelope)).toBe(true);
    expect(matchesPattern({ detail: { detail: { blocked: [true], version: [3] } } }, envelope)).toBe(true);
    expect(matchesPattern({ detail: { detail: { note: [null] } } }, envelope)).toBe(true);
    expect(matchesPattern({}, envelope)).toBe(true);
  });

  it('does not match a different value, a missing field, or a value of another type', () => {
    // Assess
    expect(matchesPattern({ source: ['aws.events'] }, envelope)).toBe(false);
    expect(matchesPattern({ detail: { gate: ['g'] } }, envelope)).toBe(false);
    expect(matchesPattern({ detail: { detail: { version: ['3'] } } }, envelope)).toBe(false);
    expect(matchesPattern({ detail: { project: { nested: ['p'] } } }, envelope)).toBe(false);
  });

  it('matches an array in the event when any of its elements matches, as EventBridge does', () => {
    // Assess
    expect(matchesPattern({ resources: ['arn:b'] }, envelope)).toBe(true);
    expect(matchesPattern({ resources: ['arn:c'] }, envelope)).toBe(false);
  });
});

describe('eventBridgeTime', () => {
  it('writes the time to the second, as EventBridge does', () => {
    expect(eventBridgeTime('2026-01-20T21:15:42.318Z')).toBe('2026-01-20T21:15:42Z');
  });
});

/** The ```json blocks of docs/events.md: event envelopes and rule patterns. */
function documentedJson(): unknown[] {
  const markdown = readFileSync('docs/events.md', 'utf8');
  return [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1] ?? ''));
}

describe('docs/events.md', () => {
  const blocks = documentedJson();
  const envelopes = blocks.filter(
    (block): block is DomainEventEnvelope =>
      typeof block === 'object' && block !== null && 'version' in block,
  );
  const patterns = blocks.filter((block) => !envelopes.includes(block as DomainEventEnvelope));

  it('shows an example of every event type but the escalations it describes together', () => {
    // Assess
    const documented = new Set(envelopes.map((envelope) => envelope.detail.type));
    const undocumented = DOMAIN_EVENT_TYPES.filter((type) => !documented.has(type));
    expect(undocumented).toEqual(['escalation.opened', 'escalation.acknowledged']);
  });

  it.each(envelopes.map((envelope) => [envelope.detail.type, envelope] as const))(
    'shows %s as Convoy publishes it: source, detail type, id, project and times',
    (_type, envelope) => {
      // Prepare
      const event = envelope.detail as DomainEvent;

      // Act
      const rebuilt = domainEvent(event.type, event.detail as never);

      // Assess
      expect(envelope.source).toBe(CONVOY_EVENT_SOURCE);
      expect(envelope['detail-type']).toBe(DETAIL_TYPES[event.type]);
      expect(envelope.time).toBe(eventBridgeTime(event.at));
      expect(envelope.resources).toEqual([]);
      expect(rebuilt).toEqual(event);
    },
  );

  it('shows rule patterns that each match one of its examples', () => {
    // Assess
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(envelopes.some((envelope) => matchesPattern(pattern, envelope))).toBe(true);
    }
  });
});
