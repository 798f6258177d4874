import { DETAIL_TYPES } from '../core/domain-events.js';
import { startGate } from '../core/gates/service.js';
import type { Dependencies } from '../handlers/dependencies.js';
import { gateStepRunner } from '../handlers/gate-step.js';
import { InProcessEventBus } from './event-bus.js';
import { type LocalClock, LocalGateWorkflow, type LocalGateWorkflowOptions } from './state-machine-runner.js';

export interface LocalWorkflows {
  /** `base` with the in-process gate workflow and event bus. */
  readonly deps: Dependencies;
  readonly bus: InProcessEventBus;
  readonly gates: LocalGateWorkflow;
  /** Waits for the bus's handlers in flight (tests), without stopping anything. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What Step Functions and EventBridge do deployed, in this process: the phase-gate ASL run by
 * aws-local-stepfunctions with the real gate steps, and an event bus whose rule on "Phase Tasks
 * Completed" starts the gate, as the deployed rule and gate-starter function do.
 */
export async function startLocalWorkflows(
  base: Dependencies,
  options: { log: (line: string) => void; clock?: LocalClock } & Omit<
    LocalGateWorkflowOptions,
    'step' | 'clock' | 'log'
  >,
): Promise<LocalWorkflows> {
  const { log, clock, ...timing } = options;
  const bus = new InProcessEventBus({ log });
  let deps: Dependencies = base;
  const gates = new LocalGateWorkflow({
    ...timing,
    step: (event) => gateStepRunner(deps)(event),
    ...(clock ? { clock } : {}),
    log,
  });
  await gates.ready();
  deps = { ...base, workflow: gates, events: bus };
  bus.subscribe(
    { detailType: DETAIL_TYPES['phase.tasks_completed'] },
    async (envelope) => {
      const event = envelope.detail;
      if (event.type !== 'phase.tasks_completed' || !event.detail.gate) return;
      const { result, state } = await startGate(deps, { project: event.project, gate: event.detail.gate });
      log(`gate ${event.project}/${event.detail.gate}: attempt ${state.attempt} ${result}`);
    },
    'gate-starter',
  );
  return {
    deps,
    bus,
    gates,
    drain: () => bus.drain(),
    async stop() {
      await gates.stop();
      await bus.stop();
    },
  };
}
