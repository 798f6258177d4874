import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../../functions/core/coordination/model.js';
import {
  type EscalationEvent,
  onEvent,
  onMetrics,
  onTick,
} from '../../../../functions/core/escalations/index.js';
import { formatPlanError, type Plan, parsePlan } from '../../../../functions/core/plan/index.js';
import { at, HOUR, MemoryEscalations, MINUTE } from './support.js';

function loadExample(file: string): Plan {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

/** examples/sprint-20-23.yaml: seed 000's six automatic escalation triggers. */
const plan = loadExample('examples/sprint-20-23.yaml');

/** Metrics where none of the six triggers holds. */
const HEALTHY: Record<string, number> = {
  'coverage.integration': 72,
  tps: 1_900_000,
  'build.failure_rate': 0.05,
  'schedule.slip_days': 1,
};

function metrics(values: Record<string, number>, offset: number): Map<string, MetricPoint> {
  return new Map(
    Object.entries(values).map(([name, value]) => [name, { name, value, at: at(offset).toISOString() }]),
  );
}

type Trigger =
  | { readonly rule: string; readonly metric: string; readonly value: number; readonly targets: string[] }
  | { readonly rule: string; readonly event: EscalationEvent; readonly targets: string[] };

const TRIGGERS: Trigger[] = [
  // 1. Test coverage < 70% (on critical path) → QA Lead + Tech Lead
  { rule: 'coverage-below-70', metric: 'coverage.integration', value: 64, targets: ['qa-lead', 'tech-lead'] },
  // 2. TPS benchmark < 1.5M (target: 2M) → Tech Lead + CTO
  { rule: 'tps-below-1-5m', metric: 'tps', value: 1_200_000, targets: ['tech-lead', 'cto'] },
  // 3. Build pipeline > 20% failure rate → DevOps Lead
  { rule: 'build-failure-rate', metric: 'build.failure_rate', value: 0.25, targets: ['devops-lead'] },
  // 4. Critical security issue discovered → CISO + CTO
  {
    rule: 'critical-security-issue',
    event: {
      type: 'security.critical',
      subject: 'https://github.com/example-org/dlt-platform/security/dependabot/7',
      at: at(0).toISOString(),
      note: 'example-org/dlt-platform: critical advisory in grpc-js',
    },
    targets: ['ciso', 'cto'],
  },
  // 5. Schedule at risk (>2 days slip) → PM + Exec Sponsor
  { rule: 'schedule-at-risk', metric: 'schedule.slip_days', value: 2.5, targets: ['pm', 'exec-sponsor'] },
  // 6. Team member unavailable → PM (reassignment)
  {
    rule: 'member-unavailable',
    event: { type: 'member.unavailable', subject: 'backend-2', at: at(0).toISOString(), note: 'out sick' },
    targets: ['pm'],
  },
];

describe("seed 000's six automatic escalation triggers", () => {
  it('models exactly these six rules, all with the 2h SLA', () => {
    expect(plan.escalations.map((rule) => [rule.id, rule.sla])).toEqual(
      TRIGGERS.map((trigger) => [trigger.rule, '2h']),
    );
  });

  it('opens nothing while every metric is healthy', () => {
    expect(onMetrics(plan, [], metrics(HEALTHY, 0), at(0))).toEqual([]);
  });

  for (const trigger of TRIGGERS) {
    it(`opens exactly one escalation for ${trigger.rule}, however often it fires`, () => {
      // Prepare
      const store = new MemoryEscalations();
      store.apply(onMetrics(plan, [], metrics(HEALTHY, 0), at(0)));
      const fire = (offset: number) =>
        'metric' in trigger
          ? onMetrics(
              plan,
              store.unresolved(),
              metrics({ ...HEALTHY, [trigger.metric]: trigger.value + offset / HOUR / 1000 }, offset),
              at(offset),
            )
          : onEvent(plan, store.unresolved(), { ...trigger.event, at: at(offset).toISOString() }, at(offset));

      // Act: the trigger fires four times over an hour, with the SLA monitor ticking in between.
      for (const offset of [0, 15 * MINUTE, 30 * MINUTE, HOUR]) {
        store.apply(fire(offset));
        store.apply(onTick(plan, store.unresolved(), at(offset + MINUTE)));
      }

      // Assess
      const all = store.all();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        rule: trigger.rule,
        status: 'open',
        level: 1,
        targets: trigger.targets,
        openedAt: at(0).toISOString(),
        dueAt: at(2 * HOUR).toISOString(),
      });
      if ('event' in trigger) expect(all[0]?.occurrences).toBe(4);
    });
  }

  it('opens one escalation per trigger when all six fire at once', () => {
    const store = new MemoryEscalations();
    const tripped = Object.fromEntries(
      TRIGGERS.flatMap((trigger) => ('metric' in trigger ? [[trigger.metric, trigger.value]] : [])),
    );

    store.apply(onMetrics(plan, [], metrics(tripped, 0), at(0)));
    for (const trigger of TRIGGERS)
      if ('event' in trigger) store.apply(onEvent(plan, store.unresolved(), trigger.event, at(0)));
    store.apply(onMetrics(plan, store.unresolved(), metrics(tripped, MINUTE), at(MINUTE)));

    expect(
      store
        .all()
        .map((escalation) => escalation.rule)
        .sort(),
    ).toEqual(TRIGGERS.map((t) => t.rule).sort());
  });

  it('resolves the condition triggers when their metrics recover, and leaves the event triggers to people', () => {
    const store = new MemoryEscalations();
    const tripped = Object.fromEntries(
      TRIGGERS.flatMap((trigger) => ('metric' in trigger ? [[trigger.metric, trigger.value]] : [])),
    );
    store.apply(onMetrics(plan, [], metrics(tripped, 0), at(0)));
    for (const trigger of TRIGGERS)
      if ('event' in trigger) store.apply(onEvent(plan, store.unresolved(), trigger.event, at(0)));

    store.apply(onMetrics(plan, store.unresolved(), metrics(HEALTHY, HOUR), at(HOUR)));

    expect(
      store
        .unresolved()
        .map((escalation) => escalation.rule)
        .sort(),
    ).toEqual(['critical-security-issue', 'member-unavailable']);
  });

  it("escalates a down agent to its owner and, past seed 000's restart window, proposes its backup", () => {
    const store = new MemoryEscalations();
    store.apply(
      onEvent(plan, [], { type: 'agent.down', subject: 'deployment-agent', at: at(0).toISOString() }, at(0)),
    );
    const openTasks = new Map([['deployment-agent', ['deploy-grpc-test-env']]]);

    store.apply(onTick(plan, store.unresolved(), at(15 * MINUTE), { openTasks }));

    const [escalation] = store.unresolved();
    expect(escalation).toMatchObject({ rule: 'agent-down', targets: ['devops-lead'] });
    expect(escalation?.reassignment).toMatchObject({ to: 'tech-lead', tasks: ['deploy-grpc-test-env'] });
  });
});
