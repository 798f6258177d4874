import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  type GateRef,
  type GateStartResult,
  type GateWorkflow,
  StaleTaskTokenError,
  type StaleTaskTokenReason,
} from '../../core/gates/workflow.js';
import { gateExecutionName } from './execution-name.js';

// The SDK module loads on the first request, not with the function: the bundles leave @aws-sdk to the
// runtime, so a function that never sends this pays nothing for it at cold start (bench/bundles.bench.ts).
const sfn = () => import('@aws-sdk/client-sfn');

/** The part of the SFN client {@link SfnGateWorkflow} uses. */
export type SfnGateClient = Pick<SFNClient, 'send'>;

/** Options of {@link SfnGateWorkflow}. */
export interface SfnGateWorkflowOptions {
  /**
   * The time written into each execution's input as `requestedAt`.
   *
   * @default () => new Date()
   */
  readonly now?: () => Date;
}

/**
 * {@link GateWorkflow} on AWS Step Functions: one `StartExecution` of the phase-gate state machine per
 * attempt, named with {@link gateExecutionName}, and `SendTaskSuccess` for decisions.
 *
 * A second start of a running execution with the same name and the same input would succeed without
 * saying so (Step Functions treats it as a retry of the first), so each input carries the time of its
 * request: a duplicate start always ends in `ExecutionAlreadyExists`, reported as `already-started`.
 * An SDK retry of one request resends the same input and is still accepted as the same start.
 */
export class SfnGateWorkflow implements GateWorkflow {
  private readonly now: () => Date;

  constructor(
    private readonly client: SfnGateClient,
    private readonly stateMachineArn: string,
    options: SfnGateWorkflowOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async start(ref: GateRef): Promise<GateStartResult> {
    const { project, phase, gate, attempt } = ref;
    const { StartExecutionCommand } = await sfn();
    const command = new StartExecutionCommand({
      stateMachineArn: this.stateMachineArn,
      name: gateExecutionName(project, phase, attempt),
      input: JSON.stringify({ project, phase, gate, attempt, requestedAt: this.now().toISOString() }),
    });
    try {
      await this.client.send(command);
      return 'started';
    } catch (error) {
      if (errorName(error) === 'ExecutionAlreadyExists') return 'already-started';
      throw error;
    }
  }

  async complete(taskToken: string, output: unknown): Promise<void> {
    const { SendTaskSuccessCommand } = await sfn();
    const command = new SendTaskSuccessCommand({ taskToken, output: serializeOutput(output) });
    try {
      await this.client.send(command);
    } catch (error) {
      const reason = staleReason(error);
      if (reason) throw new StaleTaskTokenError(reason, { cause: error });
      throw error;
    }
  }
}

/** The task's output as Step Functions takes it: a JSON text. */
export function serializeOutput(output: unknown): string {
  const json = JSON.stringify(output);
  if (json === undefined) throw new TypeError(`a task's output must be JSON, got ${typeof output}`);
  return json;
}

const STALE_REASONS: ReadonlyMap<string, StaleTaskTokenReason> = new Map([
  ['TaskDoesNotExist', 'does-not-exist'],
  ['TaskTimedOut', 'timed-out'],
  ['InvalidToken', 'invalid'],
]);

function staleReason(error: unknown): StaleTaskTokenReason | undefined {
  const name = errorName(error);
  return name === undefined ? undefined : STALE_REASONS.get(name);
}

// By name rather than instanceof: the SDK's exception classes are only the same objects when the handler and
// the client load the same copy of @aws-sdk/client-sfn.
function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
