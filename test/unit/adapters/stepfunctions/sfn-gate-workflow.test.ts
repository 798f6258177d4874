import {
  ExecutionAlreadyExists,
  ExecutionLimitExceeded,
  InvalidToken,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  type SfnGateClient,
  SfnGateWorkflow,
} from '../../../../functions/adapters/stepfunctions/sfn-gate-workflow.js';
import { StaleTaskTokenError } from '../../../../functions/core/gates/workflow.js';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:PhaseGate';
const REF = { project: 'sprint-20', phase: 'phase-1', gate: 'phase-1-gate', attempt: 2 };
const NOW = new Date('2026-01-14T09:30:00.000Z');
const metadata = { $metadata: {} };

/**
 * A client whose `send` records each command and answers with `answer`: the failures Step Functions
 * answers with (a name already used, a spent token) cannot be produced by any local part.
 */
function fakeClient(answer: (command: unknown) => unknown = () => ({})) {
  const sent: unknown[] = [];
  const client = {
    async send(command: unknown) {
      sent.push(command);
      const result = answer(command);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { client: client as unknown as SfnGateClient, sent };
}

describe('SfnGateWorkflow', () => {
  it('starts an execution named after project, phase and attempt, with the gate and the request time', async () => {
    // Prepare
    const { client, sent } = fakeClient();
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN, { now: () => NOW });

    // Act
    const result = await workflow.start(REF);

    // Assess
    expect(result).toBe('started');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(StartExecutionCommand);
    const { input } = sent[0] as StartExecutionCommand;
    expect(input.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(input.name).toBe('sprint-20--phase-1--2');
    expect(JSON.parse(input.input ?? '')).toEqual({ ...REF, requestedAt: NOW.toISOString() });
  });

  it('reports already-started when Step Functions answers ExecutionAlreadyExists', async () => {
    // Prepare
    const { client } = fakeClient(() => new ExecutionAlreadyExists({ message: 'exists', ...metadata }));
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN);

    // Act
    const result = await workflow.start(REF);

    // Assess
    expect(result).toBe('already-started');
  });

  it('passes on any other error of StartExecution', async () => {
    // Prepare
    const failure = new ExecutionLimitExceeded({ message: 'too many', ...metadata });
    const { client } = fakeClient(() => failure);
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN);

    // Act
    const result = await workflow.start(REF).catch((error: unknown) => error);

    // Assess
    expect(result).toBe(failure);
  });

  it('completes the task with the decision as JSON', async () => {
    // Prepare
    const { client, sent } = fakeClient();
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN);
    const decision = { decision: 'advance', by: 'lead-1', note: 'accepted' };

    // Act
    await workflow.complete('token-1', decision);

    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(SendTaskSuccessCommand);
    const { input } = sent[0] as SendTaskSuccessCommand;
    expect(input.taskToken).toBe('token-1');
    expect(JSON.parse(input.output ?? '')).toEqual(decision);
  });

  it.each([
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'gone', ...metadata }), 'does-not-exist'],
    ['TaskTimedOut', new TaskTimedOut({ message: 'late', ...metadata }), 'timed-out'],
    ['InvalidToken', new InvalidToken({ message: 'bad', ...metadata }), 'invalid'],
  ] as const)('reports a stale token when SendTaskSuccess answers %s', async (_name, failure, reason) => {
    // Prepare
    const { client } = fakeClient(() => failure);
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN);

    // Act
    const result = await workflow
      .complete('token-1', { decision: 'hold', by: 'lead-1' })
      .catch((e: unknown) => e);

    // Assess
    expect(result).toBeInstanceOf(StaleTaskTokenError);
    expect((result as StaleTaskTokenError).reason).toBe(reason);
    expect((result as StaleTaskTokenError).cause).toBe(failure);
  });

  it('passes on any other error of SendTaskSuccess', async () => {
    // Prepare
    const failure = new Error('socket hang up');
    const { client } = fakeClient(() => failure);
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN);

    // Act
    const result = await workflow
      .complete('token-1', { decision: 'hold', by: 'lead-1' })
      .catch((e: unknown) => e);

    // Assess
    expect(result).toBe(failure);
  });

  it('refuses an output that is not JSON without calling Step Functions', async () => {
    // Prepare
    const { client, sent } = fakeClient();
    const workflow = new SfnGateWorkflow(client, STATE_MACHINE_ARN);

    // Act
    const result = await workflow.complete('token-1', undefined).catch((e: unknown) => e);

    // Assess
    expect(result).toBeInstanceOf(TypeError);
    expect(sent).toHaveLength(0);
  });
});
