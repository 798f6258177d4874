import middy from '@middy/core';
import type { GateStepEvent, GateStepName, GateSteps } from '../adapters/stepfunctions/gate-workflow.js';

function notWired(step: GateStepName) {
  return async function notWiredStep(): Promise<never> {
    throw new Error(`gate step ${step} is not wired yet`);
  };
}

const STEPS: GateSteps = {
  evaluate: notWired('evaluate'),
  caution: notWired('caution'),
  'request-decision': notWired('request-decision'),
  advance: notWired('advance'),
  hold: notWired('hold'),
  'escalate-failure': notWired('escalate-failure'),
};

/** Runs one step of the phase-gate workflow (statemachines/phase-gate.asl.json); `convoy dev` calls it in process. */
export async function runGateStep(event: GateStepEvent): Promise<unknown> {
  if (!Object.hasOwn(STEPS, event.step)) throw new Error(`unknown gate step ${String(event.step)}`);
  const step = STEPS[event.step] as (event: GateStepEvent) => Promise<unknown>;
  return step(event);
}

/** The `gate-step` function: every Task state of the phase-gate state machine invokes it. */
export const handler = middy(runGateStep);
