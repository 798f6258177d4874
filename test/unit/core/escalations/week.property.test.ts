import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Actor, MetricPoint } from '../../../../functions/core/coordination/model.js';
import { ConflictError, ForbiddenError } from '../../../../functions/core/errors.js';
import {
  acknowledge,
  CLEARING_EVENTS,
  confirmReassignment,
  type Escalation,
  type EscalationChange,
  escalationRules,
  onEvent,
  onMetrics,
  onTick,
  resolve,
} from '../../../../functions/core/escalations/index.js';
import { holds, type Plan, parseCondition } from '../../../../functions/core/plan/index.js';
import { validPlan } from '../../../fixtures/plans.js';
import { MemoryEscalations, MINUTE, PLAN_YAML, T0 } from './support.js';

/**
 * The support plan plus a second condition rule whose last level names `owner` (nobody, for a
 * condition), a third over another metric, and a second rule on `task.blocked`.
 */
const PLAN: Plan = validPlan(
  PLAN_YAML.replace(
    'integrations:',
    `  - id: slip
    when: "schedule.slip_days > 2"
    notify: [pm]
    sla: 30m
    levels:
      - notify: [sponsor, pm]
        sla: 45m
      - notify: [owner]
        sla: 20m
  - id: builds
    when: "build.failure_rate > 0.2"
    notify: [lead]
    sla: 3h
  - id: blocked-audit
    on: task.blocked
    notify: [pm]
    sla: 3h
integrations:`,
  ),
);

const WEEK = 7 * 24 * 60 * MINUTE;
const OPEN_TASKS = new Map([
  ['alpha', ['task-1']],
  ['beta', ['task-2']],
]);

const ACTORS: Actor[] = [
  { kind: 'admin' },
  { kind: 'system' },
  { kind: 'agent', id: 'alpha' },
  ...['lead', 'cto', 'sponsor', 'pm', 'b1', 'b2'].map((id): Actor => ({ kind: 'person', id })),
];

const SUBJECTS: Record<string, (string | undefined)[]> = {
  'agent.down': ['alpha', 'beta', undefined],
  'agent.up': ['alpha', 'beta', undefined],
  'task.blocked': ['task-1', 'task-2', undefined],
  'task.unblocked': ['task-1', 'task-2', undefined],
  'security.critical': ['alert-1', 'alert-2', undefined],
  'deploy.failed': ['api', 'web', undefined],
  'deploy.fixed': ['api', 'web', undefined],
  'member.unavailable': ['b1', 'pm'],
  'sync.failed': ['jira'],
};

const VALUES: Record<string, number[]> = {
  tps: [900_000, 1_499_999, 1_500_000, 2_100_000],
  'schedule.slip_days': [0, 2, 2.5, 6],
  'build.failure_rate': [0.05, 0.2, 0.21, 0.6],
};

type Step = { readonly advance: number } & (
  | { readonly kind: 'ingest'; readonly metric: string; readonly pick: number }
  | { readonly kind: 'event'; readonly type: string; readonly pick: number }
  | { readonly kind: 'tick' }
  | { readonly kind: 'ack' | 'resolve' | 'confirm'; readonly pick: number; readonly actor: number }
);

const pick = fc.nat({ max: 1000 });
const step: fc.Arbitrary<Step> = fc
  .tuple(
    fc.integer({ min: 1, max: 150 }),
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('ingest' as const),
          metric: fc.constantFrom(...Object.keys(VALUES)),
          pick,
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('event' as const),
          type: fc.constantFrom(...Object.keys(SUBJECTS)),
          pick,
        }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constantFrom('ack' as const, 'resolve' as const, 'confirm' as const),
          pick,
          actor: fc.nat({ max: ACTORS.length - 1 }),
        }),
      },
    ),
  )
  .map(([minutes, action]) => ({ advance: minutes * MINUTE, ...action }));

const choose = <T>(items: readonly T[], index: number): T => items[index % items.length] as T;

/** Who may handle an escalation, worked out from the plan independently of the engine. */
function allowedPeople(plan: Plan, escalation: Escalation): Set<string> {
  const rule = escalationRules(plan).find((candidate) => candidate.id === escalation.rule);
  const agent = plan.agents.find((candidate) => candidate.id === escalation.agent);
  const levels = rule ? [rule.notify, ...rule.levels.map((level) => level.notify)] : [];
  const people = levels.slice(0, escalation.level).flatMap((notify) =>
    notify.flatMap((target) => {
      if (target === 'owner') return agent ? [agent.owner] : [];
      if (target === 'backup') return agent?.backup ? [agent.backup] : [];
      return [target];
    }),
  );
  return new Set(people);
}

/** Drives a week of steps through the engine, checking the invariants after each one. */
function runWeek(steps: readonly Step[]): void {
  const store = new MemoryEscalations();
  const latest = new Map<string, MetricPoint>();
  /** Event rules' dedup keys that must have an unresolved escalation: fired and not yet ended. */
  const expectedEvents = new Set<string>();
  const proposals = new Map<string, number>();
  const rules = escalationRules(PLAN);
  const conditionRules = rules.flatMap((rule) =>
    rule.when === undefined ? [] : [{ rule, condition: parseCondition(rule.when) }],
  );
  let now = T0;

  const apply = (changes: readonly (EscalationChange | null)[]) => {
    for (const change of store.apply(changes)) {
      if (change.kinds.includes('reassignment-proposed')) {
        const id = change.escalation.id;
        proposals.set(id, (proposals.get(id) ?? 0) + 1);
      }
    }
  };

  const checkAlways = (label: string) => {
    const unresolved = store.unresolved();
    const keys = unresolved.map((escalation) => escalation.dedupKey);
    expect(new Set(keys).size, `${label}: two unresolved escalations share a dedup key`).toBe(keys.length);
    const eventKeys = unresolved.filter((escalation) => escalation.kind === 'event').map((e) => e.dedupKey);
    expect(new Set(eventKeys), `${label}: event escalations`).toEqual(expectedEvents);
    for (const count of proposals.values()) expect(count).toBe(1);
  };

  const checkConditions = (label: string) => {
    const unresolvedKeys = new Set(store.unresolved().map((escalation) => escalation.dedupKey));
    for (const { rule, condition } of conditionRules) {
      const value = latest.get(condition.metric)?.value;
      if (value === undefined) continue;
      expect(unresolvedKeys.has(`${rule.id}:${condition.metric}`), `${label}: ${rule.id} at ${value}`).toBe(
        holds(condition, value),
      );
    }
  };

  const checkNotOverdue = (label: string) => {
    for (const escalation of store.unresolved())
      expect(Date.parse(escalation.dueAt), `${label}: ${escalation.id} overdue`).toBeGreaterThan(now);
  };

  for (let i = 0; now < T0 + WEEK; i++) {
    const current = choose(steps, i);
    now += current.advance;
    const date = new Date(now);
    const label = `step ${i} (${current.kind}) at ${date.toISOString()}`;
    switch (current.kind) {
      case 'ingest': {
        const value = choose(VALUES[current.metric] ?? [], current.pick);
        latest.set(current.metric, { name: current.metric, value, at: date.toISOString() });
        apply(onMetrics(PLAN, store.unresolved(), latest, date));
        checkConditions(label);
        break;
      }
      case 'event': {
        const subject = choose(SUBJECTS[current.type] ?? [], current.pick);
        for (const rule of rules) {
          if (rule.on === undefined) continue;
          if (rule.resolvedBy !== current.type && CLEARING_EVENTS[rule.on] !== current.type) continue;
          for (const key of [...expectedEvents])
            if (subject === undefined ? key.startsWith(`${rule.id}:`) : key === `${rule.id}:${subject}`)
              expectedEvents.delete(key);
        }
        for (const rule of rules)
          if (rule.on === current.type) expectedEvents.add(`${rule.id}:${subject ?? 'project'}`);
        const event = { type: current.type, at: date.toISOString(), ...(subject ? { subject } : {}) };
        apply(onEvent(PLAN, store.unresolved(), event, date));
        break;
      }
      case 'tick':
        // The monitor: conditions over the latest points, then the SLA ladder.
        apply(onMetrics(PLAN, store.unresolved(), latest, date));
        apply(onTick(PLAN, store.unresolved(), date, { openTasks: OPEN_TASKS }));
        checkConditions(label);
        checkNotOverdue(label);
        break;
      default: {
        const candidates = current.kind === 'confirm' ? store.all() : store.unresolved();
        if (candidates.length === 0) break;
        const escalation = choose(candidates, current.pick);
        const actor = choose(ACTORS, current.actor);
        const allowed =
          current.kind === 'confirm'
            ? actor.kind === 'admin' ||
              (actor.kind === 'person' &&
                PLAN.agents.find((a) => a.id === escalation.agent)?.owner === actor.id)
            : actor.kind === 'admin' ||
              (actor.kind === 'person' && allowedPeople(PLAN, escalation).has(actor.id));
        const act = () =>
          current.kind === 'ack'
            ? acknowledge(PLAN, escalation, actor, date)
            : current.kind === 'resolve'
              ? resolve(PLAN, escalation, actor, date)
              : confirmReassignment(PLAN, escalation, actor, date);
        if (!allowed) {
          expect(act, `${label}: ${JSON.stringify(actor)} on ${escalation.id}`).toThrow(ForbiddenError);
          break;
        }
        let change: EscalationChange | null;
        try {
          change = act();
        } catch (error) {
          expect(error, label).toBeInstanceOf(ConflictError);
          break;
        }
        apply([change]);
        if (current.kind === 'resolve' && change && escalation.kind === 'event')
          expectedEvents.delete(escalation.dedupKey);
      }
    }
    checkAlways(label);
  }

  // A last tick of the SLA monitor: after it, nothing is overdue.
  const end = new Date(now);
  apply(onTick(PLAN, store.unresolved(), end, { openTasks: OPEN_TASKS }));
  checkNotOverdue('final tick');
}

describe('the escalation engine over a week of random events', () => {
  it('never misses an escalation, never opens one twice, and leaves none overdue after a tick', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 300 }), (steps) => {
        runWeek(steps);
      }),
      { numRuns: 60 },
    );
  });
});
