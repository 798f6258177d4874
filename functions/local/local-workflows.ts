import type { MemoryEventStream } from '../adapters/memory/event-stream.js';
import { DETAIL_TYPES } from '../core/domain-events.js';
import { startGate } from '../core/gates/service.js';
import { followNow } from '../core/integrations/publisher.js';
import type { Dependencies } from '../handlers/dependencies.js';
import { gateStepRunner } from '../handlers/gate-step.js';
import { InProcessEventBus } from './event-bus.js';
import { type LocalClock, LocalGateWorkflow, type LocalGateWorkflowOptions } from './state-machine-runner.js';
import { MemoryStreamPublisher, StreamPublisher, type StreamPublisherOptions } from './stream-publisher.js';

export interface LocalWorkflows {
  /** `base` with the in-process gate workflow and event bus. */
  readonly deps: Dependencies;
  readonly bus: InProcessEventBus;
  readonly gates: LocalGateWorkflow;
  /** Reads the table's stream and delivers its domain events to the bus, when a table was given. */
  readonly publisher?: StreamPublisher | MemoryStreamPublisher;
  /**
   * Delivers every domain event written so far and waits for the bus's handlers in flight (tests),
   * again until nothing new was delivered, without stopping anything.
   */
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
  options: {
    log: (line: string) => void;
    clock?: LocalClock;
    /**
     * The table whose stream carries the domain events the use cases write (DynamoDB Local): a
     * publisher reads it and delivers them to the bus, as the deployed publisher function does.
     */
    stream?:
      | (Pick<StreamPublisherOptions, 'client' | 'documentClient' | 'tableName'> & { pollMs?: number })
      /** The in-memory stores' events (convoy simulate): delivered on each drain, never in the background. */
      | { memory: MemoryEventStream };
  } & Omit<LocalGateWorkflowOptions, 'step' | 'clock' | 'log'>,
): Promise<LocalWorkflows> {
  const { log, clock, stream, ...timing } = options;
  const bus = new InProcessEventBus({ log });
  let deps: Dependencies = base;
  const gates = new LocalGateWorkflow({
    ...timing,
    step: (event) => gateStepRunner(deps)(event),
    ...(clock ? { clock } : {}),
    log,
  });
  // Not `gates.ready()`: the engine (aws-local-stepfunctions, the Lambda client, ajv, jsonata: about
  // 12 MB resident) loads when the first gate starts, not with every `convoy dev` that runs none.
  // The followers of a change run at once for its answer, and again (idempotently) from the stream.
  deps = { ...base, workflow: gates, events: bus, follow: followNow(() => deps) };
  bus.subscribe(
    { detailType: DETAIL_TYPES['phase.tasks_completed'] },
    async (envelope) => {
      const event = envelope.detail;
      if (event.type !== 'phase.tasks_completed' || !event.detail.gate) return;
      const { result, state } = await startGate(deps, {
        project: event.project,
        gate: event.detail.gate,
        trigger: event.id,
      });
      log(`gate ${event.project}/${event.detail.gate}: attempt ${state.attempt} ${result}`);
    },
    'gate-starter',
  );
  const publisher = !stream
    ? undefined
    : 'memory' in stream
      ? new MemoryStreamPublisher(stream.memory, { ...deps, events: bus }, log)
      : new StreamPublisher({ ...stream, ports: { ...deps, events: bus }, log });
  publisher?.start();
  return {
    deps,
    bus,
    gates,
    ...(publisher ? { publisher } : {}),
    async drain() {
      for (;;) {
        const delivered = (await publisher?.publishOnce()) ?? 0;
        await bus.drain();
        if (delivered === 0) return;
      }
    },
    async stop() {
      await publisher?.stop();
      await gates.stop();
      await bus.stop();
    },
  };
}
