/** Quality gates: evaluation as docs/plan-format.md defines it, and the decisions the phase workflow needs. */

export {
  assertMayDecide,
  cautionsInARow,
  cautionWindowMillis,
  decisionStep,
  type GateDecision,
  type GateOverride,
  type GateStep,
  mayDecide,
  nextGateStep,
  recordGateDecision,
} from './decision.js';
export {
  type CriterionResult,
  evaluateGate,
  findGate,
  type GateEvaluation,
  type GateInput,
  type GateVerdict,
  gatePhase,
} from './evaluate.js';
export { formatBound, formatCondition, formatNumber, shortfall } from './wording.js';
