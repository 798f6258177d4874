import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, ValidationError } from '../../../../functions/core/errors.js';
import {
  acknowledge,
  nextDueAt,
  onEvent,
  onMetrics,
  onTick,
  resolve,
  snooze,
} from '../../../../functions/core/escalations/index.js';
import { at, HOUR, MemoryEscalations, MINUTE, PLAN, point } from './support.js';

const LEAD = { kind: 'person', id: 'lead' } as const;

/** tps-low opened at T0 (level 1: lead and cto, 2h SLA), then snoozed by lead until T0 + 5h. */
function snoozedTpsLow() {
  const table = new MemoryEscalations();
  table.apply(onMetrics(PLAN, [], point('tps', 1_000_000), at(0)));
  const [opened] = table.unresolved();
  if (!opened) throw new Error('tps-low did not open');
  const [change] = table.apply([
    snooze(PLAN, opened, LEAD, at(10 * MINUTE), at(5 * HOUR), 'load test tonight'),
  ]);
  return {
    table,
    change,
    snoozed: table.unresolved()[0] as NonNullable<ReturnType<typeof table.unresolved>[0]>,
  };
}

describe('snooze', () => {
  it('keeps the escalation unresolved and quiet until the snooze ends, and says so once', () => {
    // Act
    const { change, snoozed } = snoozedTpsLow();

    // Assess
    expect(change?.kinds).toEqual(['snoozed']);
    expect(snoozed).toMatchObject({
      status: 'open',
      level: 1,
      snoozedUntil: at(5 * HOUR).toISOString(),
      snoozedBy: 'person:lead',
      dueAt: at(5 * HOUR).toISOString(),
    });
    expect(change?.notices[0]?.text).toBe(
      `Escalation tps-low snoozed by Tech Lead until ${at(5 * HOUR).toISOString()} (load test tonight): no reminders or level changes before then, unless it is resolved meanwhile.`,
    );
    expect(change?.notices[0]?.targets).toEqual([]);
  });

  it('neither climbs, reminds nor opens another escalation for the same subject while snoozed', () => {
    // Prepare
    const { table } = snoozedTpsLow();

    // Act
    const tick = onTick(PLAN, table.unresolved(), at(5 * HOUR - MINUTE));
    const metric = table.apply(
      onMetrics(PLAN, table.unresolved(), point('tps', 900_000, 4 * HOUR), at(4 * HOUR)),
    );

    // Assess
    expect(tick).toEqual([]);
    expect(metric.map((c) => c.kinds)).toEqual([['updated']]);
    expect(metric[0]?.notices).toEqual([]);
    expect(table.unresolved()).toHaveLength(1);
    expect(nextDueAt(PLAN, table.unresolved())).toBe(at(5 * HOUR).toISOString());
  });

  it('is open again at its level when the snooze ends, with a fresh SLA, and reaches its people', () => {
    // Prepare
    const { table } = snoozedTpsLow();

    // Act
    const [woken] = table.apply(onTick(PLAN, table.unresolved(), at(5 * HOUR + MINUTE)));
    const next = onTick(PLAN, table.unresolved(), at(6 * HOUR));

    // Assess
    expect(woken?.kinds).toEqual(['snooze-ended']);
    expect(woken?.escalation).toMatchObject({ status: 'open', level: 1, dueAt: at(7 * HOUR).toISOString() });
    expect(woken?.escalation).not.toHaveProperty('snoozedUntil');
    expect(woken?.notices[0]?.targets).toEqual(['lead', 'cto']);
    expect(woken?.notices[0]?.text).toContain('is still unresolved after its snooze (by person:lead) ended');
    expect(next).toEqual([]);
  });

  it('ends with the escalation when its condition clears or a person acknowledges it', () => {
    // Prepare
    const { table, snoozed } = snoozedTpsLow();

    // Act
    const acknowledged = acknowledge(PLAN, snoozed, LEAD, at(HOUR));
    const [cleared] = onMetrics(PLAN, table.unresolved(), point('tps', 2_000_000, HOUR), at(HOUR));

    // Assess
    expect(acknowledged?.escalation).not.toHaveProperty('snoozedUntil');
    expect(acknowledged?.escalation).toMatchObject({
      status: 'acknowledged',
      dueAt: at(3 * HOUR).toISOString(),
    });
    expect(cleared?.escalation).toMatchObject({ status: 'resolved', resolution: 'condition-cleared' });
    expect(cleared?.escalation).not.toHaveProperty('snoozedUntil');
  });

  it('changes nothing when snoozed again until the same time, and moves the end otherwise', () => {
    // Prepare
    const { snoozed } = snoozedTpsLow();

    // Act
    const same = snooze(PLAN, snoozed, LEAD, at(HOUR), at(5 * HOUR));
    const longer = snooze(PLAN, snoozed, { kind: 'admin' }, at(HOUR), at(8 * HOUR));

    // Assess
    expect(same).toBeNull();
    expect(longer?.escalation).toMatchObject({
      snoozedUntil: at(8 * HOUR).toISOString(),
      snoozedBy: 'admin',
    });
  });

  it('refuses a time not ahead, one more than 30 days ahead, a resolved escalation and someone it did not reach', () => {
    // Prepare
    const { snoozed } = snoozedTpsLow();
    const resolved = resolve(PLAN, snoozed, LEAD, at(HOUR))?.escalation;
    if (!resolved) throw new Error('not resolved');

    // Act
    const attempt = (run: () => unknown) => {
      try {
        run();
        return undefined;
      } catch (error) {
        return error;
      }
    };

    // Assess
    expect(attempt(() => snooze(PLAN, snoozed, LEAD, at(HOUR), at(HOUR)))).toBeInstanceOf(ValidationError);
    expect(attempt(() => snooze(PLAN, snoozed, LEAD, at(HOUR), at(HOUR + 31 * 24 * HOUR)))).toMatchObject({
      message: expect.stringMatching(/^until: .* is more than 30 days ahead/),
    });
    expect(attempt(() => snooze(PLAN, resolved, LEAD, at(HOUR), at(2 * HOUR)))).toBeInstanceOf(ConflictError);
    expect(
      attempt(() => snooze(PLAN, snoozed, { kind: 'person', id: 'pm' }, at(HOUR), at(2 * HOUR))),
    ).toBeInstanceOf(ForbiddenError);
  });

  it('holds back the reassignment proposal for a down agent until the snooze ends', () => {
    // Prepare
    const table = new MemoryEscalations();
    table.apply(onEvent(PLAN, [], { type: 'agent.down', subject: 'alpha', at: at(0).toISOString() }, at(0)));
    const [down] = table.unresolved();
    if (!down) throw new Error('agent-down did not open');
    table.apply([snooze(PLAN, down, { kind: 'admin' }, at(MINUTE), at(2 * HOUR))]);
    const openTasks = new Map([['alpha', ['task-1']]]);

    // Act
    const during = onTick(PLAN, table.unresolved(), at(HOUR), { openTasks });
    table.apply(onTick(PLAN, table.unresolved(), at(2 * HOUR), { openTasks }));
    const after = onTick(PLAN, table.unresolved(), at(2 * HOUR + MINUTE), { openTasks });

    // Assess
    expect(during).toEqual([]);
    expect(after.flatMap((change) => change.kinds)).toContain('reassignment-proposed');
  });
});
