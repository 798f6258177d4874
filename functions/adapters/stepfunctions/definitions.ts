/** The folder, at the repository root, holding every ASL definition. */
export const STATE_MACHINES_DIR = 'statemachines';

/** The phase-gate workflow's definition, in {@link STATE_MACHINES_DIR}. */
export const PHASE_GATE_DEFINITION_FILE = 'phase-gate.asl.json';

/** The definition substitution (`${GateStepFunctionArn}`) replaced by the gate-step function's ARN. */
export const GATE_STEP_FUNCTION_ARN_SUBSTITUTION = 'GateStepFunctionArn';
