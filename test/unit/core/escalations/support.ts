import type { MetricPoint } from '../../../../functions/core/coordination/model.js';
import type { Escalation, EscalationChange } from '../../../../functions/core/escalations/index.js';
import { validPlan } from '../../../fixtures/plans.js';

/**
 * A plan with a three-level condition ladder, owner/backup targets, a `resolvedBy` rule and an
 * agent with a restart window (alpha) beside one without a restart window or backup (beta).
 */
export const PLAN_YAML = `version: 1
project:
  id: demo
  timezone: UTC
  start: 2026-01-05
people:
  - id: lead
    name: Tech Lead
    slack: U0LEAD
  - id: cto
    name: CTO
    slack: U0CTO
  - id: sponsor
    name: Exec Sponsor
  - id: pm
    name: Project Manager
    slack: U0PM
  - id: b1
    name: Backend One
  - id: b2
    name: Backend Two
agents:
  - id: alpha
    name: Agent Alpha
    owner: b1
    backup: b2
    heartbeat: 15m
    restartSla: 30m
  - id: beta
    owner: b2
phases:
  - id: phase-1
    tasks:
      - id: task-1
        agent: alpha
        estimate: 1d
      - id: task-2
        agent: beta
        estimate: 1d
escalations:
  - id: tps-low
    when: "tps < 1_500_000"
    notify: [lead, cto]
    sla: 2h
    levels:
      - notify: [sponsor]
        sla: 4h
      - notify: [pm]
        sla: 1h
  - id: blocked
    on: task.blocked
    notify: [owner]
    sla: 1h
    levels:
      - notify: [backup, lead]
        sla: 1h
  - id: security
    on: security.critical
    notify: [cto]
    sla: 30m
  - id: deploy
    on: deploy.failed
    resolvedBy: deploy.fixed
    notify: [lead]
integrations:
  slack:
    channel: "#demo"
    escalations: "#escalations"
`;

export const PLAN = validPlan(PLAN_YAML);

export const T0 = Date.parse('2026-01-05T10:00:00.000Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** The fake clock: `at(2 * HOUR)` is two hours after T0. */
export const at = (offset: number) => new Date(T0 + offset);

export function point(name: string, value: number, offset = 0): Map<string, MetricPoint> {
  return new Map([[name, { name, value, at: at(offset).toISOString() }]]);
}

/**
 * The escalations table as the caller keeps it: each change is a conditional write on the version,
 * and an opening also on the dedup key (no unresolved escalation with the same key may exist).
 */
export class MemoryEscalations {
  readonly items = new Map<string, Escalation>();

  unresolved(): Escalation[] {
    return [...this.items.values()].filter((escalation) => escalation.status !== 'resolved');
  }

  all(): Escalation[] {
    return [...this.items.values()];
  }

  apply(changes: readonly (EscalationChange | null)[]): EscalationChange[] {
    const applied: EscalationChange[] = [];
    for (const change of changes) {
      if (!change) continue;
      const { escalation, expectedVersion } = change;
      const stored = this.items.get(escalation.id);
      if (expectedVersion === 0) {
        if (stored) throw new Error(`conditional put failed: ${escalation.id} exists`);
        const twin = this.unresolved().find((other) => other.dedupKey === escalation.dedupKey);
        if (twin) throw new Error(`conditional put failed: ${escalation.dedupKey} is open as ${twin.id}`);
      } else if (stored?.version !== expectedVersion) {
        throw new Error(
          `conditional write failed: ${escalation.id} is v${stored?.version}, not v${expectedVersion}`,
        );
      }
      if (escalation.version !== expectedVersion + 1) throw new Error(`version of ${escalation.id} skips`);
      this.items.set(escalation.id, escalation);
      applied.push(change);
    }
    return applied;
  }
}
