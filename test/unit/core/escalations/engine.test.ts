import { describe, expect, it } from 'vitest';
import {
  acknowledge,
  confirmReassignment,
  escalationRules,
  nextDueAt,
  onEvent,
  onMetrics,
  onTick,
  resolve,
} from '../../../../functions/core/escalations/index.js';
import type { Plan } from '../../../../functions/core/plan/index.js';
import { at, HOUR, MemoryEscalations, MINUTE, PLAN, point } from './support.js';

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

describe('onMetrics', () => {
  it('opens a condition escalation at level 1 with its targets, SLA and a post for the escalations channel', () => {
    // Act
    const change = only(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));

    // Assess
    expect(change.kinds).toEqual(['opened']);
    expect(change.expectedVersion).toBe(0);
    expect(change.escalation).toMatchObject({
      project: 'demo',
      rule: 'tps-low',
      kind: 'condition',
      subject: 'tps',
      dedupKey: 'tps-low:tps',
      status: 'open',
      level: 1,
      targets: ['lead', 'cto'],
      openedAt: at(0).toISOString(),
      levelSince: at(0).toISOString(),
      dueAt: at(2 * HOUR).toISOString(),
      lastValue: 1_200_000,
      occurrences: 1,
      reason: 'tps is 1,200,000 (tps < 1,500,000)',
      version: 1,
    });
    expect(change.escalation.id).toMatch(/^tps-low:20260105T100000000Z:[0-9a-f]{8}$/);
    expect(change.notices).toEqual([
      {
        key: `escalation:${change.escalation.id}:v1:opened`,
        channel: '#escalations',
        text: `Escalation tps-low (level 1 of 3): tps is 1,200,000 (tps < 1,500,000). Tech Lead and CTO: please resolve within 2h (due ${at(2 * HOUR).toISOString()}).`,
        targets: ['lead', 'cto'],
        mentions: ['U0LEAD', 'U0CTO'],
      },
    ]);
  });

  it('opens nothing while the condition does not hold or its metric has no value', () => {
    expect(onMetrics(PLAN, [], point('tps', 1_500_000), at(0))).toEqual([]);
    expect(onMetrics(PLAN, [], point('coverage.unit', 10), at(0))).toEqual([]);
  });

  it('decides nothing on a value older than the one its escalation last saw (an event delivered again late)', () => {
    // Prepare: opened at 1.2M, then a newer 1.1M updated it.
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));
    store.apply(onMetrics(PLAN, store.unresolved(), point('tps', 1_100_000, 10 * MINUTE), at(10 * MINUTE)));

    // Act: the first value again (redelivered), and an old value that would clear it.
    const redelivered = onMetrics(PLAN, store.unresolved(), point('tps', 1_200_000), at(11 * MINUTE));
    const stale = onMetrics(PLAN, store.unresolved(), point('tps', 1_900_000, 5 * MINUTE), at(11 * MINUTE));
    const newer = onMetrics(PLAN, store.unresolved(), point('tps', 1_900_000, 11 * MINUTE), at(11 * MINUTE));

    // Assess
    expect(redelivered).toEqual([]);
    expect(stale).toEqual([]);
    expect(only(newer).kinds).toEqual(['resolved']);
  });

  it('counts a value stamped ahead of the clock as seen now, so the next correct one still clears it', () => {
    // Prepare: a sender whose clock runs 4 minutes fast opens the escalation.
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000, 4 * MINUTE), at(0)));

    // Act: a correctly stamped value a minute later clears the condition.
    const cleared = onMetrics(PLAN, store.unresolved(), point('tps', 1_900_000, MINUTE), at(MINUTE));

    // Assess
    expect(only(store.all()).lastValueAt).toBe(at(0).toISOString());
    expect(only(cleared).kinds).toEqual(['resolved']);
  });

  it('updates the open escalation instead of opening a second one while the condition holds (dedup)', () => {
    // Prepare
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));

    // Act
    const same = onMetrics(PLAN, store.unresolved(), point('tps', 1_200_000, 5 * MINUTE), at(5 * MINUTE));
    const lower = onMetrics(PLAN, store.unresolved(), point('tps', 1_100_000, 10 * MINUTE), at(10 * MINUTE));
    store.apply(lower);

    // Assess
    expect(same).toEqual([]);
    const change = only(lower);
    expect(change.kinds).toEqual(['updated']);
    expect(change.notices).toEqual([]);
    expect(only(store.all())).toMatchObject({
      lastValue: 1_100_000,
      lastValueAt: at(10 * MINUTE).toISOString(),
      version: 2,
    });
  });

  it('resolves the escalation itself when the condition stops holding, acknowledged or not', () => {
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));
    store.apply([acknowledge(PLAN, only(store.unresolved()), { kind: 'person', id: 'cto' }, at(MINUTE))]);

    const change = only(onMetrics(PLAN, store.unresolved(), point('tps', 1_600_000, HOUR), at(HOUR)));
    store.apply([change]);

    expect(change.kinds).toEqual(['resolved']);
    expect(change.escalation).toMatchObject({
      status: 'resolved',
      resolution: 'condition-cleared',
      resolvedAt: at(HOUR).toISOString(),
      lastValue: 1_600_000,
    });
    expect(change.escalation.resolvedBy).toBeUndefined();
    expect(change.notices[0]?.text).toBe(
      'Escalation tps-low resolved (condition cleared: tps is 1,600,000); it was opened for: tps is 1,200,000 (tps < 1,500,000).',
    );
    expect(store.unresolved()).toEqual([]);
  });

  it('opens a new escalation when the condition holds again after it was resolved', () => {
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));
    store.apply(onMetrics(PLAN, store.unresolved(), point('tps', 1_700_000), at(HOUR)));

    const again = only(onMetrics(PLAN, store.unresolved(), point('tps', 1_400_000), at(2 * HOUR)));
    store.apply([again]);

    expect(again.kinds).toEqual(['opened']);
    expect(store.all()).toHaveLength(2);
  });

  it('keeps an escalation open when the metric is missing from the points it is given', () => {
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));

    expect(onMetrics(PLAN, store.unresolved(), new Map(), at(HOUR))).toEqual([]);
  });
});

describe('onTick: the ladder', () => {
  function openTpsEscalation() {
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));
    return store;
  }

  it('climbs level 1 → 2 → 3 as each SLA lapses, then reminds at the last level once per SLA', () => {
    // Prepare
    const store = openTpsEscalation();
    const tick = (offset: number) => store.apply(onTick(PLAN, store.unresolved(), at(offset)));

    // Act + Assess
    expect(tick(2 * HOUR - 1)).toEqual([]);

    const second = only(tick(2 * HOUR));
    expect(second.kinds).toEqual(['escalated']);
    expect(second.escalation).toMatchObject({
      level: 2,
      targets: ['sponsor'],
      levelSince: at(2 * HOUR).toISOString(),
      dueAt: at(6 * HOUR).toISOString(),
      status: 'open',
    });
    expect(second.notices[0]).toMatchObject({ targets: ['sponsor'], mentions: [] });
    expect(second.notices[0]?.text).toMatch(/^Escalation tps-low moved from level 1 to level 2 of 3/);

    expect(tick(6 * HOUR - 1)).toEqual([]);
    const third = only(tick(6 * HOUR));
    expect(third.escalation).toMatchObject({ level: 3, targets: ['pm'], dueAt: at(7 * HOUR).toISOString() });
    expect(third.notices[0]?.mentions).toEqual(['U0PM']);

    const reminder = only(tick(7 * HOUR));
    expect(reminder.kinds).toEqual(['renotified']);
    expect(reminder.escalation).toMatchObject({ level: 3, dueAt: at(8 * HOUR).toISOString() });
    expect(reminder.notices[0]?.text).toContain('still unresolved at its last level (3 of 3)');
    expect(tick(7 * HOUR + 30 * MINUTE)).toEqual([]);
    expect(only(tick(8 * HOUR)).kinds).toEqual(['renotified']);
  });

  it('climbs every lapsed level on a late tick, with one post naming everyone reached', () => {
    const store = openTpsEscalation();

    const change = only(store.apply(onTick(PLAN, store.unresolved(), at(6 * HOUR + 30 * MINUTE))));

    expect(change.kinds).toEqual(['escalated']);
    expect(change.escalation).toMatchObject({
      level: 3,
      levelSince: at(6 * HOUR).toISOString(),
      dueAt: at(7 * HOUR).toISOString(),
    });
    expect(change.notices[0]?.targets).toEqual(['sponsor', 'pm']);
    expect(change.escalation.history.map((entry) => entry.what)).toEqual([
      'opened at level 1: lead, cto',
      'level 2: sponsor',
      'level 3: pm',
    ]);
  });

  it('skips reminders a late tick missed at the last level instead of posting each', () => {
    const store = openTpsEscalation();
    store.apply(onTick(PLAN, store.unresolved(), at(6 * HOUR)));

    const change = only(store.apply(onTick(PLAN, store.unresolved(), at(9 * HOUR + 30 * MINUTE))));

    expect(change.kinds).toEqual(['renotified']);
    expect(change.notices).toHaveLength(1);
    expect(change.escalation.dueAt).toBe(at(10 * HOUR).toISOString());
  });

  it('holds an acknowledged escalation for one SLA of its level from the acknowledgement, then climbs and reopens it', () => {
    const store = openTpsEscalation();
    const ack = acknowledge(PLAN, only(store.unresolved()), { kind: 'person', id: 'lead' }, at(HOUR));
    store.apply([ack]);
    expect(ack?.escalation).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'person:lead',
      acknowledgedAt: at(HOUR).toISOString(),
      dueAt: at(3 * HOUR).toISOString(),
    });
    expect(ack?.notices[0]?.text).toBe(
      `Escalation tps-low acknowledged by Tech Lead; it moves to level 2 at ${at(3 * HOUR).toISOString()} unless resolved.`,
    );

    expect(store.apply(onTick(PLAN, store.unresolved(), at(2 * HOUR)))).toEqual([]);
    const climbed = only(store.apply(onTick(PLAN, store.unresolved(), at(3 * HOUR))));

    expect(climbed.kinds).toEqual(['escalated']);
    expect(climbed.escalation).toMatchObject({
      status: 'open',
      level: 2,
      levelSince: at(3 * HOUR).toISOString(),
    });
    expect(climbed.escalation.acknowledgedBy).toBeUndefined();
    expect('acknowledgedAt' in climbed.escalation).toBe(false);
  });

  it('says when the next wake-up is due', () => {
    const store = openTpsEscalation();
    expect(nextDueAt(PLAN, store.unresolved())).toBe(at(2 * HOUR).toISOString());
    expect(nextDueAt(PLAN, [])).toBeUndefined();
  });
});

describe('onEvent', () => {
  it('opens an event escalation for the subject, with owner and backup resolved through its agent', () => {
    const store = new MemoryEscalations();

    const change = only(
      store.apply(
        onEvent(
          PLAN,
          [],
          { type: 'task.blocked', subject: 'task-1', at: at(0).toISOString(), note: 'no DB' },
          at(0),
        ),
      ),
    );
    const climbed = only(store.apply(onTick(PLAN, store.unresolved(), at(HOUR))));

    expect(change.escalation).toMatchObject({
      rule: 'blocked',
      kind: 'event',
      subject: 'task-1',
      dedupKey: 'blocked:task-1',
      agent: 'alpha',
      targets: ['b1'],
      reason: 'task.blocked for task-1: no DB',
    });
    expect(climbed.escalation.targets).toEqual(['b2', 'lead']);
  });

  it('drops backup for an agent without one', () => {
    const store = new MemoryEscalations();
    store.apply(
      onEvent(PLAN, [], { type: 'task.blocked', subject: 'task-2', at: at(0).toISOString() }, at(0)),
    );

    const climbed = only(store.apply(onTick(PLAN, store.unresolved(), at(HOUR))));

    expect(climbed.escalation).toMatchObject({ agent: 'beta', targets: ['lead'] });
  });

  it('takes the subject of a built-in event from its data when it has no subject', () => {
    const change = only(
      onEvent(PLAN, [], { type: 'task.blocked', at: at(0).toISOString(), data: { task: 'task-2' } }, at(0)),
    );

    expect(change.escalation.subject).toBe('task-2');
  });

  it('counts a repeat of the event while its escalation is unresolved instead of opening a second one (dedup)', () => {
    const store = new MemoryEscalations();
    const blocked = { type: 'task.blocked', subject: 'task-1', at: at(0).toISOString() };
    store.apply(onEvent(PLAN, [], blocked, at(0)));

    const again = only(store.apply(onEvent(PLAN, store.unresolved(), blocked, at(MINUTE))));
    const other = only(
      store.apply(onEvent(PLAN, store.unresolved(), { ...blocked, subject: 'task-2' }, at(2 * MINUTE))),
    );

    expect(again.kinds).toEqual(['updated']);
    expect(again.notices).toEqual([]);
    expect(again.escalation.occurrences).toBe(2);
    expect(other.kinds).toEqual(['opened']);
    expect(
      store
        .unresolved()
        .map((escalation) => escalation.dedupKey)
        .sort(),
    ).toEqual(['blocked:task-1', 'blocked:task-2']);
  });

  it('resolves an escalation with its resolvedBy event for the same subject only', () => {
    const store = new MemoryEscalations();
    store.apply(onEvent(PLAN, [], { type: 'deploy.failed', subject: 'api', at: at(0).toISOString() }, at(0)));
    store.apply(
      onEvent(
        PLAN,
        store.unresolved(),
        { type: 'deploy.failed', subject: 'web', at: at(0).toISOString() },
        at(0),
      ),
    );

    const fixed = only(
      store.apply(
        onEvent(
          PLAN,
          store.unresolved(),
          { type: 'deploy.fixed', subject: 'api', at: at(HOUR).toISOString() },
          at(HOUR),
        ),
      ),
    );

    expect(fixed.kinds).toEqual(['resolved']);
    expect(fixed.escalation).toMatchObject({
      subject: 'api',
      status: 'resolved',
      resolution: 'resolved-by-event',
    });
    expect(store.unresolved().map((escalation) => escalation.subject)).toEqual(['web']);
  });

  it('resolves every subject of the rule with a resolving event that names none', () => {
    const store = new MemoryEscalations();
    store.apply(onEvent(PLAN, [], { type: 'deploy.failed', subject: 'api', at: at(0).toISOString() }, at(0)));
    store.apply(
      onEvent(
        PLAN,
        store.unresolved(),
        { type: 'deploy.failed', subject: 'web', at: at(0).toISOString() },
        at(0),
      ),
    );

    const changes = store.apply(
      onEvent(PLAN, store.unresolved(), { type: 'deploy.fixed', at: at(HOUR).toISOString() }, at(HOUR)),
    );

    expect(changes).toHaveLength(2);
    expect(store.unresolved()).toEqual([]);
  });

  it('resolves a task.blocked escalation when the task is unblocked', () => {
    const store = new MemoryEscalations();
    store.apply(
      onEvent(PLAN, [], { type: 'task.blocked', subject: 'task-1', at: at(0).toISOString() }, at(0)),
    );

    const change = only(
      store.apply(
        onEvent(
          PLAN,
          store.unresolved(),
          { type: 'task.unblocked', subject: 'task-1', at: at(0).toISOString() },
          at(MINUTE),
        ),
      ),
    );

    expect(change.escalation.resolution).toBe('resolved-by-event');
  });

  it('opens a project-wide escalation for an event without a subject, and flags a rule that asks for a JIRA issue', () => {
    const plan: Plan = {
      ...PLAN,
      escalations: PLAN.escalations.map((rule) =>
        rule.id === 'security' ? { ...rule, jira: { project: 'SEC', type: 'Incident' } } : rule,
      ),
    };

    const change = only(
      onEvent(plan, [], { type: 'security.critical', at: at(0).toISOString(), note: 'CVE-1' }, at(0)),
    );

    expect(change.escalation).toMatchObject({ subject: 'project', dedupKey: 'security:project' });
    expect(change.escalation.agent).toBeUndefined();
    expect(change.notices[0]?.jiraIssue).toEqual({ project: 'SEC', type: 'Incident' });
  });

  it('ignores an event no rule listens to', () => {
    expect(onEvent(PLAN, [], { type: 'sync.failed', subject: 'x', at: at(0).toISOString() }, at(0))).toEqual(
      [],
    );
  });
});

describe('agent.down and the restart window', () => {
  it('adds a built-in agent-down rule for the owner when the plan has none', () => {
    const rule = escalationRules(PLAN).find((candidate) => candidate.on === 'agent.down');

    expect(rule).toMatchObject({ id: 'agent-down', notify: ['owner'], sla: '2h', resolvedBy: 'agent.up' });
  });

  it("proposes once, after the agent's restartSla, to reassign its open tasks to the backup; the owner confirms", () => {
    // Prepare
    const store = new MemoryEscalations();
    const opened = only(
      store.apply(
        onEvent(PLAN, [], { type: 'agent.down', subject: 'alpha', at: at(0).toISOString() }, at(0)),
      ),
    );
    const openTasks = new Map([['alpha', ['task-1']]]);

    // Act
    const early = onTick(PLAN, store.unresolved(), at(30 * MINUTE - 1), { openTasks });
    const proposed = only(store.apply(onTick(PLAN, store.unresolved(), at(30 * MINUTE), { openTasks })));
    const later = onTick(PLAN, store.unresolved(), at(45 * MINUTE), { openTasks });

    // Assess
    expect(opened.escalation).toMatchObject({ rule: 'agent-down', agent: 'alpha', targets: ['b1'] });
    expect(early).toEqual([]);
    expect(proposed.kinds).toEqual(['reassignment-proposed']);
    expect(proposed.escalation.reassignment).toEqual({
      agent: 'alpha',
      to: 'b2',
      tasks: ['task-1'],
      proposedAt: at(30 * MINUTE).toISOString(),
    });
    expect(proposed.notices[0]).toMatchObject({
      targets: ['b1', 'b2'],
      text: 'Agent Alpha is not back within its restart window (30m): Convoy proposes reassigning its open tasks (task-1) to Backend Two. Backend One (its owner) or an admin confirms.',
    });
    expect(later).toEqual([]);

    expect(() =>
      confirmReassignment(PLAN, only(store.unresolved()), { kind: 'person', id: 'b2' }, at(HOUR)),
    ).toThrow(
      "person:b2 may not confirm the reassignment of agent alpha's tasks; only its owner (b1) or an admin may",
    );
    const confirmed = confirmReassignment(
      PLAN,
      only(store.unresolved()),
      { kind: 'person', id: 'b1' },
      at(HOUR),
    );
    store.apply([confirmed]);
    expect(confirmed?.kinds).toEqual(['reassignment-confirmed']);
    expect(confirmed?.escalation.reassignment).toMatchObject({
      confirmedBy: 'person:b1',
      confirmedAt: at(HOUR).toISOString(),
    });
    expect(confirmed?.notices[0]?.text).toBe(
      "Backend One confirmed reassigning Agent Alpha's open tasks (task-1) to Backend Two.",
    );
    expect(confirmReassignment(PLAN, only(store.unresolved()), { kind: 'admin' }, at(HOUR))).toBeNull();
  });

  it('proposes the owner after the rule SLA for an agent with no restartSla and no backup', () => {
    const store = new MemoryEscalations();
    store.apply(onEvent(PLAN, [], { type: 'agent.down', subject: 'beta', at: at(0).toISOString() }, at(0)));

    const changes = store.apply(onTick(PLAN, store.unresolved(), at(2 * HOUR)));

    const change = only(changes);
    expect(change.kinds).toEqual(['renotified', 'reassignment-proposed']);
    expect(change.escalation.reassignment).toMatchObject({ agent: 'beta', to: 'b2', tasks: [] });
    expect(change.notices).toHaveLength(2);
  });

  it('resolves the agent.down escalation when the agent is back up, and the proposal lapses', () => {
    const store = new MemoryEscalations();
    store.apply(onEvent(PLAN, [], { type: 'agent.down', subject: 'alpha', at: at(0).toISOString() }, at(0)));
    store.apply(onTick(PLAN, store.unresolved(), at(30 * MINUTE)));

    const back = only(
      store.apply(
        onEvent(
          PLAN,
          store.unresolved(),
          { type: 'agent.up', subject: 'alpha', at: at(40 * MINUTE).toISOString() },
          at(40 * MINUTE),
        ),
      ),
    );

    expect(back.escalation).toMatchObject({ status: 'resolved', resolution: 'resolved-by-event' });
    expect(() => confirmReassignment(PLAN, back.escalation, { kind: 'admin' }, at(HOUR))).toThrow(/lapsed/);
  });

  it('refuses to confirm where nothing was proposed', () => {
    const opened = only(
      onEvent(PLAN, [], { type: 'agent.down', subject: 'alpha', at: at(0).toISOString() }, at(0)),
    );

    expect(() => confirmReassignment(PLAN, opened.escalation, { kind: 'admin' }, at(MINUTE))).toThrow(
      /has no reassignment proposal/,
    );
  });
});

describe('resolve', () => {
  it('resolves on a person’s word with a note, and a second resolve changes nothing', () => {
    const opened = only(
      onEvent(PLAN, [], { type: 'security.critical', subject: 'alert-7', at: at(0).toISOString() }, at(0)),
    );

    const change = resolve(PLAN, opened.escalation, { kind: 'person', id: 'cto' }, at(HOUR), 'patched');

    expect(change?.escalation).toMatchObject({
      status: 'resolved',
      resolution: 'person',
      resolvedBy: 'person:cto',
      resolvedAt: at(HOUR).toISOString(),
      note: 'patched',
      version: 2,
    });
    expect(change?.notices[0]?.text).toBe(
      'Escalation security resolved (resolved by CTO: patched); it was opened for: security.critical for alert-7.',
    );
    expect(resolve(PLAN, change?.escalation ?? opened.escalation, { kind: 'admin' }, at(HOUR))).toBeNull();
  });

  it('lets a condition that still holds open a new escalation at its next evaluation', () => {
    const store = new MemoryEscalations();
    store.apply(onMetrics(PLAN, [], point('tps', 1_200_000), at(0)));
    store.apply([resolve(PLAN, only(store.unresolved()), { kind: 'admin' }, at(MINUTE))]);

    const reopened = only(onMetrics(PLAN, store.unresolved(), point('tps', 1_200_000), at(2 * MINUTE)));

    expect(reopened.kinds).toEqual(['opened']);
  });
});
