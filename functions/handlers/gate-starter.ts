import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DomainEventEnvelope } from '../core/domain-events.js';
import { startGate } from '../core/gates/service.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';

/**
 * The target of the EventBridge rule on "Phase Tasks Completed": starts the phase's gate workflow.
 * EventBridge cannot name a Step Functions execution, and the name (phase + attempt) is what makes a
 * duplicate start harmless, so this function starts it.
 */
export const makeGateStarterHandler = (deps: HandlerDependencies) =>
  middy(async (envelope: DomainEventEnvelope) => {
    const event = envelope.detail;
    if (event.type !== 'phase.tasks_completed' || !event.detail.gate) return { started: false };
    const { result, state } = await startGate(deps, {
      project: event.project,
      gate: event.detail.gate,
      // EventBridge and the publisher deliver at least once: the same event starts one attempt.
      trigger: event.id,
    });
    deps.logger.info('gate start', {
      project: event.project,
      gate: event.detail.gate,
      attempt: state.attempt,
      result,
    });
    return { started: result === 'started', attempt: state.attempt };
  }).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeGateStarterHandler);
