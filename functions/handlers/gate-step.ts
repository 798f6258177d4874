import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { GatePorts } from '../core/gates/service.js';
import { gateSteps } from '../core/gates/steps.js';
import type { GateStepEvent, GateStepHandler } from '../core/gates/workflow.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';

/** The gate steps over `ports`: what the deployed function runs, and what `convoy dev` runs in process. */
export function gateStepRunner(ports: GatePorts): GateStepHandler {
  const steps = gateSteps(ports);
  return async function runGateStep(event: GateStepEvent): Promise<unknown> {
    if (!Object.hasOwn(steps, event.step)) throw new Error(`unknown gate step ${String(event.step)}`);
    const step = steps[event.step] as (event: GateStepEvent) => Promise<unknown>;
    return step(event);
  };
}

/** The `gate-step` function: every Task state of the phase-gate state machine invokes it. */
export function makeGateStepHandler(deps: HandlerDependencies) {
  const run = gateStepRunner(deps);
  return middy(async (event: GateStepEvent) => {
    deps.logger.info('gate step', {
      step: event.step,
      project: event.project,
      gate: event.gate,
      attempt: event.attempt,
    });
    return run(event);
  }).use(injectLambdaContext(deps.logger));
}

export const handler = fromEnvironment(makeGateStepHandler);
