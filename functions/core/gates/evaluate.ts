import type { MetricPoint } from '../coordination/model.js';
import { NotFoundError } from '../errors.js';
import { type Condition, holds, parseCondition } from '../plan/lexical.js';
import type { Gate, Phase, Plan, TaskStatus } from '../plan/schema.js';
import { formatBound, formatCondition, formatNumber, shortfall } from './wording.js';

export type GateVerdict = 'GO' | 'CAUTION' | 'NO-GO';

/** One criterion as it was evaluated, with the evidence it used. */
export interface CriterionResult {
  /** The GO condition as written in the plan. */
  readonly go: string;
  /** The CAUTION condition as written in the plan, if the criterion has one. */
  readonly caution?: string;
  /** The metric of the GO condition. */
  readonly metric: string;
  /** Its latest value, or null when it has none yet (which fails both bounds). */
  readonly value: number | null;
  /** When that value was recorded. */
  readonly at: string | null;
  readonly goHolds: boolean;
  /** False when there is no CAUTION bound. */
  readonly cautionHolds: boolean;
  /** Set only when the CAUTION bound is over another metric than the GO bound. */
  readonly cautionMetric?: string;
  readonly cautionValue?: number | null;
  readonly cautionAt?: string | null;
}

/** A gate's decision with everything it was based on: what the store keeps and Slack shows. */
export interface GateEvaluation {
  readonly gate: string;
  /** The phase whose gate this is, or null for a gate no phase uses. */
  readonly phase: string | null;
  readonly decision: GateVerdict;
  readonly criteria: readonly CriterionResult[];
  /** Tasks of the gate's phase that are not done, in plan order. */
  readonly tasksNotDone: readonly string[];
  /** Why: a headline sentence, one sentence per criterion, and one about the tasks. */
  readonly reasons: readonly string[];
  readonly evaluatedAt: string;
}

export interface GateInput {
  /** The latest point of every metric (`ProjectSnapshot.metrics`). */
  readonly metrics: ReadonlyMap<string, MetricPoint>;
  /**
   * Status of the tasks of the gate's phase, by task id: a status or a task state. A task that is
   * missing has never moved, so it counts as `todo`.
   */
  readonly tasks: ReadonlyMap<string, TaskStatus | { readonly status: TaskStatus }>;
}

/** The gate with this id; a NotFoundError names the gates there are. */
export function findGate(plan: Plan, gateId: string): Gate {
  const gate = plan.gates.find((candidate) => candidate.id === gateId);
  if (!gate) {
    const known = plan.gates.map((candidate) => candidate.id);
    throw new NotFoundError(
      `no gate "${gateId}" in plan ${plan.project.id}${known.length > 0 ? ` (gates: ${known.join(', ')})` : ''}`,
    );
  }
  return gate;
}

/** The phase whose `gate` is this gate (the plan allows at most one), if any. */
export function gatePhase(plan: Plan, gateId: string): Phase | undefined {
  return plan.phases.find((phase) => phase.gate === gateId);
}

/**
 * Evaluates a gate as docs/plan-format.md defines it: GO when every `go` holds; otherwise CAUTION when
 * every failing criterion has a `caution` that holds; otherwise NO-GO. A metric with no value fails
 * both of its bounds. A phase gate also needs every task of its phase done: with any task not done
 * the decision is NO-GO whatever the metrics say (a CAUTION is "continue with extended validation"
 * of finished work, and unfinished work is not that), and the reasons say which tasks.
 */
export function evaluateGate(plan: Plan, gateId: string, input: GateInput, now: Date): GateEvaluation {
  const gate = findGate(plan, gateId);
  const phase = gatePhase(plan, gateId);
  const criteria = gate.criteria.map((criterion) => evaluateCriterion(criterion, input.metrics));
  const tasksNotDone = (phase?.tasks ?? [])
    .filter((task) => statusOf(input.tasks.get(task.id)) !== 'done')
    .map((task) => task.id);

  const failing = criteria.filter((criterion) => !criterion.goHolds);
  const metricsVerdict: GateVerdict =
    failing.length === 0 ? 'GO' : failing.every((criterion) => criterion.cautionHolds) ? 'CAUTION' : 'NO-GO';
  const decision: GateVerdict = tasksNotDone.length > 0 ? 'NO-GO' : metricsVerdict;

  const reasons = [
    headline(decision, criteria, failing, phase, tasksNotDone),
    ...gate.criteria.map((criterion, i) => criterionReason(criterion, criteria[i] as CriterionResult)),
  ];
  if (phase) reasons.push(tasksReason(phase, tasksNotDone));
  return {
    gate: gate.id,
    phase: phase?.id ?? null,
    decision,
    criteria,
    tasksNotDone,
    reasons,
    evaluatedAt: now.toISOString(),
  };
}

function statusOf(entry: TaskStatus | { readonly status: TaskStatus } | undefined): TaskStatus {
  if (entry === undefined) return 'todo';
  return typeof entry === 'string' ? entry : entry.status;
}

type Criterion = Gate['criteria'][number];

function evaluateCriterion(criterion: Criterion, metrics: ReadonlyMap<string, MetricPoint>): CriterionResult {
  const go = parseCondition(criterion.go);
  const point = metrics.get(go.metric);
  const base = {
    go: go.text,
    metric: go.metric,
    value: point?.value ?? null,
    at: point?.at ?? null,
    goHolds: holds(go, point?.value),
  };
  if (criterion.caution === undefined) return { ...base, cautionHolds: false };
  const caution = parseCondition(criterion.caution);
  if (caution.metric === go.metric)
    return { ...base, caution: caution.text, cautionHolds: holds(caution, point?.value) };
  const other = metrics.get(caution.metric);
  return {
    ...base,
    caution: caution.text,
    cautionHolds: holds(caution, other?.value),
    cautionMetric: caution.metric,
    cautionValue: other?.value ?? null,
    cautionAt: other?.at ?? null,
  };
}

function headline(
  decision: GateVerdict,
  criteria: readonly CriterionResult[],
  failing: readonly CriterionResult[],
  phase: Phase | undefined,
  tasksNotDone: readonly string[],
): string {
  const failingMetrics = [...new Set(failing.map((criterion) => criterion.metric))].join(', ');
  const of = `${failing.length} of ${criteria.length} ${criteria.length === 1 ? 'criterion' : 'criteria'}`;
  if (decision === 'GO') {
    const tasks = phase ? ` and all ${phase.tasks.length} tasks of phase ${phase.id} are done` : '';
    return `GO: every criterion meets its GO bound${tasks}.`;
  }
  if (decision === 'CAUTION')
    return `CAUTION: ${of} ${failing.length === 1 ? 'misses its' : 'miss their'} GO bound (${failingMetrics}) but ${failing.length === 1 ? 'meets its' : 'meet their'} CAUTION bound.`;
  const parts: string[] = [];
  if (tasksNotDone.length > 0)
    parts.push(
      `${tasksNotDone.length} ${tasksNotDone.length === 1 ? 'task' : 'tasks'} of phase ${phase?.id} ${tasksNotDone.length === 1 ? 'is' : 'are'} not done`,
    );
  const hopeless = failing.filter((criterion) => !criterion.cautionHolds);
  if (hopeless.length > 0) {
    const metrics = [...new Set(hopeless.map((criterion) => criterion.metric))].join(', ');
    parts.push(
      `${hopeless.length} of ${criteria.length} ${criteria.length === 1 ? 'criterion fails' : 'criteria fail'} with no CAUTION bound that holds (${metrics})`,
    );
  } else if (failing.length > 0) {
    parts.push(`${of} only meet${failing.length === 1 ? 's' : ''} CAUTION (${failingMetrics})`);
  }
  return `NO-GO: ${parts.join('; ')}.`;
}

function criterionReason(criterion: Criterion, result: CriterionResult): string {
  const go = parseCondition(criterion.go);
  const caution = criterion.caution === undefined ? undefined : parseCondition(criterion.caution);
  if (result.value === null) {
    const bounds = `GO needs ${formatCondition(go)}${caution ? `, CAUTION ${cautionText(caution, go)}` : ''}`;
    return `${go.metric} has no value yet, and missing evidence never passes (${bounds})`;
  }
  const value = `${go.metric} ${formatNumber(result.value)}`;
  if (result.goHolds) return `${value} meets GO ${formatBound(go)}`;
  const miss = `${value} ${shortfall(go)} the GO bound ${formatNumber(go.value)}`;
  if (!caution) return `${miss}, and there is no CAUTION bound`;
  if (caution.metric !== go.metric) {
    const other =
      result.cautionValue === null || result.cautionValue === undefined
        ? `${caution.metric} has no value yet`
        : `${caution.metric} is ${formatNumber(result.cautionValue)}`;
    return result.cautionHolds
      ? `${miss} but meets CAUTION ${formatCondition(caution)} (${other})`
      : `${miss} and misses CAUTION ${formatCondition(caution)} too (${other})`;
  }
  return result.cautionHolds
    ? `${miss} but meets CAUTION ${formatBound(caution)}`
    : `${miss} and misses CAUTION ${formatBound(caution)} too`;
}

function cautionText(caution: Condition, go: Condition): string {
  return caution.metric === go.metric ? formatBound(caution) : formatCondition(caution);
}

function tasksReason(phase: Phase, tasksNotDone: readonly string[]): string {
  if (tasksNotDone.length === 0) return `all ${phase.tasks.length} tasks of phase ${phase.id} are done`;
  return `phase ${phase.id} still has ${tasksNotDone.length} of ${phase.tasks.length} tasks not done (${tasksNotDone.join(', ')}), and a phase gate needs all of them done`;
}
