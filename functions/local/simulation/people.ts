import type { Actor } from '../../core/coordination/model.js';
import { ConflictError } from '../../core/errors.js';
import { acknowledgeEscalation } from '../../core/escalations/service.js';
import type { CriterionResult, GateEvaluation } from '../../core/gates/evaluate.js';
import { decideGate, startGate } from '../../core/gates/service.js';
import { type Plan, parseCondition } from '../../core/plan/index.js';
import type { Dependencies } from '../../handlers/dependencies.js';
import { COMPUTED_METRICS } from './metrics.js';

/** What the people of a simulation did, for the output. */
export interface PeopleLog {
  decision(entry: {
    gate: string;
    by: string;
    decision: 'advance' | 'hold';
    verdict: string;
    why: string;
  }): void;
  reevaluation(entry: { gate: string; by: string }): void;
  acknowledgement(entry: { by: string; rule: string; subject: string }): void;
}

/**
 * What a sensible approver decides on a gate that waits for a person (a NO-GO, or CAUTIONs run
 * out): hold while the phase has work not done (it would stay undone); otherwise advance when every
 * failing criterion is within its CAUTION bound, has improved since this approver's last review of
 * the gate, or is one holding cannot mend (a computed metric such as `schedule.slip_days`: a late
 * phase gets later by being held); hold otherwise, and look again at the next evaluation.
 */
export function judgeGate(
  evaluation: GateEvaluation,
  previous: ReadonlyMap<string, number | null> | undefined,
): { decision: 'advance' | 'hold'; why: string } {
  if (evaluation.tasksNotDone.length > 0)
    return {
      decision: 'hold',
      why: `${evaluation.tasksNotDone.length} task${evaluation.tasksNotDone.length === 1 ? '' : 's'} of the phase not done`,
    };
  const failing = evaluation.criteria.filter((criterion) => !criterion.goHolds);
  if (failing.length === 0) return { decision: 'advance', why: 'tasks done and every criterion holds' };
  const accepted: string[] = [];
  const stuck: string[] = [];
  for (const criterion of failing) {
    const before = previous?.get(criterion.metric);
    if (criterion.cautionHolds) accepted.push(`${criterion.metric} within its CAUTION bound`);
    else if (COMPUTED_METRICS.has(criterion.metric))
      accepted.push(`${criterion.metric} not mended by waiting`);
    else if (improved(criterion, before))
      accepted.push(`${criterion.metric} improved (${before} → ${criterion.value})`);
    else
      stuck.push(
        before === undefined
          ? `${criterion.metric} off target (${criterion.value ?? 'no value'})`
          : `${criterion.metric} no better than at the last review (${before ?? 'no value'} → ${criterion.value ?? 'no value'})`,
      );
  }
  if (stuck.length === 0) return { decision: 'advance', why: `tasks done; ${accepted.join('; ')}` };
  return { decision: 'hold', why: stuck.join('; ') };
}

/** Whether a failing criterion's value is closer to its GO bound than `before`. */
function improved(criterion: CriterionResult, before: number | null | undefined): boolean {
  if (criterion.value === null || before === undefined || before === null) return false;
  const { op, value: bound } = parseCondition(criterion.go);
  if (op === '>=' || op === '>') return criterion.value > before;
  if (op === '<=' || op === '<') return criterion.value < before;
  return Math.abs(criterion.value - bound) < Math.abs(before - bound);
}

/**
 * The people of the plan: approvers decide the gates that wait for them ({@link judgeGate}); when
 * the plan has no gate-review schedule, an approver asks for a held gate to be evaluated again the
 * next working day, as an admin would (`POST …/gates/{gate}/evaluate`); the target of an open
 * escalation acknowledges it half of the time.
 */
export class SimulatedPeople {
  /** Per gate, the metric values its approver saw at the last decision. */
  private readonly reviewed = new Map<string, Map<string, number | null>>();
  private readonly hasGateReview: boolean;

  constructor(
    private readonly plan: Plan,
    private readonly ports: Dependencies,
    private readonly random: () => number,
    private readonly log: PeopleLog,
    /** Lets the gate workflows finish what a decision set off. */
    private readonly settle: () => Promise<void>,
  ) {
    this.hasGateReview = plan.schedules.some((schedule) => schedule.job === 'gate-review');
  }

  private get project() {
    return this.plan.project.id;
  }

  /** Decides every gate waiting for a person. `waiting`: whether any gate workflow is under way. */
  async decideGates(waiting: boolean): Promise<void> {
    if (!waiting) return;
    for (const gate of await this.ports.gates.listGates(this.project)) {
      if (gate.status !== 'awaiting-decision' || !gate.pendingToken || !gate.latest) continue;
      const approver = this.plan.gates.find((candidate) => candidate.id === gate.gate)?.approvers[0];
      if (!approver) continue;
      const evaluation = gate.latest.evaluation;
      const { decision, why } = judgeGate(evaluation, this.reviewed.get(gate.gate));
      this.reviewed.set(
        gate.gate,
        new Map(evaluation.criteria.map((criterion) => [criterion.metric, criterion.value])),
      );
      await decideGate(this.ports, {
        project: this.project,
        gate: gate.gate,
        decision,
        note: why,
        actor: { kind: 'person', id: approver },
      });
      this.log.decision({ gate: gate.gate, by: approver, decision, verdict: evaluation.decision, why });
      // The workflow goes on by itself (advance or hold): let it finish first, so what follows sees
      // the same state on every run.
      await this.settle();
    }
  }

  /** Without a gate review, held gates are evaluated again once a working day, on an approver's request. */
  async reevaluateHeldGates(): Promise<void> {
    if (this.hasGateReview) return;
    for (const gate of await this.ports.gates.listGates(this.project)) {
      if (gate.status !== 'held') continue;
      const approver = this.plan.gates.find((candidate) => candidate.id === gate.gate)?.approvers[0];
      if (!approver) continue;
      await startGate(this.ports, { project: this.project, gate: gate.gate });
      this.log.reevaluation({ gate: gate.gate, by: approver });
      await this.settle();
    }
  }

  /** The target of an open escalation acknowledges it, half of the time. */
  async acknowledgeEscalations(): Promise<void> {
    for (const escalation of await this.ports.escalations.unresolvedEscalations(this.project)) {
      const target = escalation.targets[0];
      if (escalation.status !== 'open' || !target || this.random() >= 0.5) continue;
      const actor: Actor = { kind: 'person', id: target };
      try {
        await acknowledgeEscalation(this.ports, { project: this.project, id: escalation.id, actor });
        this.log.acknowledgement({ by: target, rule: escalation.rule, subject: escalation.subject });
      } catch (error) {
        // The engine resolved it meanwhile (a gate decided, a condition cleared): nothing to acknowledge.
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  }
}
