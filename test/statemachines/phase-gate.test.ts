import { afterEach, describe, expect, it, vi } from 'vitest';
import { gateExecutionName } from '../../functions/adapters/stepfunctions/execution-name.js';
import type { GateVerdict } from '../../functions/core/gates/evaluate.js';
import {
  type GateApproval,
  type GateRef,
  type GateStepEvent,
  type GateStepName,
  type GateStepVerdict,
  StaleTaskTokenError,
} from '../../functions/core/gates/workflow.js';
import {
  type ExecutionEvent,
  LocalGateWorkflow,
  type LocalGateWorkflowOptions,
  type LocalTimingOverrides,
} from '../../functions/local/state-machine-runner.js';

const REF: GateRef = { project: 'sprint-20', phase: 'phase-1', gate: 'phase-1-gate', attempt: 1 };
const NAME = gateExecutionName(REF.project, REF.phase, REF.attempt);

/** Waits, retries and backoff take no time; tests that need a real duration override this. */
const INSTANT: LocalTimingOverrides = { waitTimeOverrides: { '*': 0 }, retryIntervalOverrides: { '*': 0 } };

type RequestDecisionEvent = Extract<GateStepEvent, { step: 'request-decision' }>;

class MetricsUnavailableError extends Error {
  override name = 'MetricsUnavailableError';
}

/**
 * In-test gate steps: `evaluate` answers with the scripted decisions in turn (the last one repeats),
 * a step can be made to fail a number of times, and every call is recorded.
 */
class ScriptedSteps {
  readonly calls: GateStepEvent[] = [];
  private readonly decisions: GateVerdict[];
  private readonly failures = new Map<GateStepName, number>();
  private readonly requests: RequestDecisionEvent[] = [];
  private readonly requestWaiters: ((event: RequestDecisionEvent) => void)[] = [];

  constructor(
    decisions: readonly GateVerdict[],
    private readonly limits: Omit<GateStepVerdict, 'decision'> = {
      cautionWindowSeconds: 3600,
      maxCautions: 2,
    },
  ) {
    this.decisions = [...decisions];
  }

  /** `step` throws `times` times (Infinity: always) before it succeeds. */
  failing(step: GateStepName, times: number): this {
    this.failures.set(step, times);
    return this;
  }

  readonly run = async (event: GateStepEvent): Promise<unknown> => {
    this.calls.push(event);
    const failuresLeft = this.failures.get(event.step) ?? 0;
    if (failuresLeft > 0) {
      this.failures.set(event.step, failuresLeft - 1);
      throw new MetricsUnavailableError(`${event.step} failed`);
    }
    if (event.step === 'evaluate') {
      const decision = (
        this.decisions.length > 1 ? this.decisions.shift() : this.decisions[0]
      ) as GateVerdict;
      return { decision, ...this.limits, metrics: { tps: 1_500_000 } };
    }
    if (event.step === 'request-decision') {
      const waiter = this.requestWaiters.shift();
      if (waiter) waiter(event);
      else this.requests.push(event);
    }
    return { recorded: event.step };
  };

  /** The next request for a decision, once the workflow has made it. */
  nextDecisionRequest(): Promise<RequestDecisionEvent> {
    const request = this.requests.shift();
    if (request) return Promise.resolve(request);
    return new Promise((resolve) => this.requestWaiters.push(resolve));
  }

  steps(): GateStepName[] {
    return this.calls.map((call) => call.step);
  }

  callsOf<Step extends GateStepName>(step: Step): Extract<GateStepEvent, { step: Step }>[] {
    return this.calls.filter((call): call is Extract<GateStepEvent, { step: Step }> => call.step === step);
  }
}

const rejection = (error: unknown) => error;

const entered = (events: readonly ExecutionEvent[], state: string) =>
  events.filter((event) => event.type === 'StateEntered' && event.state.name === state).length;

const retried = (events: readonly ExecutionEvent[], state: string) =>
  events.filter((event) => event.type === 'StateRetried' && event.state.name === state).length;

describe('phase-gate state machine (statemachines/phase-gate.asl.json)', () => {
  let workflow: LocalGateWorkflow | undefined;

  function run(
    script: ScriptedSteps,
    timing: Omit<LocalGateWorkflowOptions, 'step'> = INSTANT,
  ): LocalGateWorkflow {
    workflow = new LocalGateWorkflow({ step: script.run, ...timing });
    return workflow;
  }

  afterEach(async () => {
    await workflow?.stop();
    workflow = undefined;
  });

  it('advances the phase when the gate is GO', async () => {
    // Prepare
    const script = new ScriptedSteps(['GO']);
    const gate = run(script);

    // Act
    const started = await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(started).toBe('started');
    expect(execution).toMatchObject({ name: NAME, status: 'SUCCEEDED' });
    expect(script.steps()).toEqual(['evaluate', 'advance']);
    expect(script.callsOf('evaluate')[0]).toEqual({ step: 'evaluate', execution: NAME, ...REF, cautions: 0 });
    expect(script.callsOf('advance')[0]).toEqual({
      step: 'advance',
      execution: NAME,
      ...REF,
      cautions: 0,
      evaluation: { decision: 'GO', cautionWindowSeconds: 3600, maxCautions: 2 },
      approval: null,
    });
    expect(execution.output).toEqual({
      ...REF,
      counters: { cautions: 0, reminders: 0 },
      evaluation: { decision: 'GO', cautionWindowSeconds: 3600, maxCautions: 2 },
      approval: null,
      status: 'passed',
    });
  });

  it('notifies, waits the caution window the evaluation gave, and evaluates again when the gate is CAUTION', async () => {
    // Prepare
    const script = new ScriptedSteps(['CAUTION', 'GO'], { cautionWindowSeconds: 1, maxCautions: 2 });
    const gate = run(script, { retryIntervalOverrides: { '*': 0 } });

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(script.steps()).toEqual(['evaluate', 'caution', 'evaluate', 'advance']);
    expect(script.callsOf('caution')[0]).toMatchObject({
      cautions: 1,
      evaluation: { decision: 'CAUTION', cautionWindowSeconds: 1, maxCautions: 2 },
    });
    expect(script.callsOf('evaluate').map((call) => call.cautions)).toEqual([0, 1]);
    const waited = (execution.stoppedAt?.getTime() ?? 0) - execution.startedAt.getTime();
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(entered(gate.machine.events(NAME), 'CautionWindow')).toBe(1);
    expect(execution.output).toMatchObject({ counters: { cautions: 1 }, status: 'passed' });
  });

  it('treats the gate as NO-GO and asks for a decision when maxCautions CAUTIONs in a row are spent', async () => {
    // Prepare
    const script = new ScriptedSteps(['CAUTION'], { cautionWindowSeconds: 60, maxCautions: 2 });
    const gate = run(script);

    // Act
    await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, { decision: 'hold', by: 'lead-1', note: 'too risky' });
    const execution = await gate.settled(REF);

    // Assess
    expect(script.steps()).toEqual([
      'evaluate',
      'caution',
      'evaluate',
      'caution',
      'evaluate',
      'request-decision',
      'hold',
    ]);
    expect(script.callsOf('caution').map((call) => call.cautions)).toEqual([1, 2]);
    expect(request).toMatchObject({
      cautions: 2,
      reminders: 0,
      evaluation: { decision: 'CAUTION', maxCautions: 2 },
    });
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { status: 'held' } });
  });

  it('advances the phase when an approver accepts the risk of a NO-GO', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);
    const approval: GateApproval = {
      decision: 'advance',
      by: 'lead-1',
      note: 'accepted: load test rerun Monday',
    };

    // Act
    await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, approval);
    const execution = await gate.settled(REF);

    // Assess
    expect(request).toMatchObject({ step: 'request-decision', execution: NAME, ...REF, cautions: 0 });
    expect(request.taskToken).toMatch(/^local-/);
    expect(script.steps()).toEqual(['evaluate', 'request-decision', 'advance']);
    expect(script.callsOf('advance')[0]).toMatchObject({ evaluation: { decision: 'NO-GO' }, approval });
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { approval, status: 'passed' } });
  });

  it('holds the phase and records who decided when an approver holds a NO-GO', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);
    const approval: GateApproval = { decision: 'hold', by: 'lead-2', note: 'fix the p99 first' };

    // Act
    await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, approval);
    const execution = await gate.settled(REF);

    // Assess
    expect(script.steps()).toEqual(['evaluate', 'request-decision', 'hold']);
    expect(script.callsOf('hold')[0]).toMatchObject({ ...REF, evaluation: { decision: 'NO-GO' }, approval });
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { approval, status: 'held' } });
  });

  it('holds the phase when the decision is anything but advance', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);

    // Act
    await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, { decision: 'maybe', by: 'lead-1' });
    const execution = await gate.settled(REF);

    // Assess
    expect(script.steps()).toEqual(['evaluate', 'request-decision', 'hold']);
    expect(execution.output).toMatchObject({ status: 'held' });
  });

  it('retries a failing step with its backoff and goes on when a retry succeeds', async () => {
    // Prepare
    const script = new ScriptedSteps(['GO']).failing('evaluate', 2);
    const gate = run(script);

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(script.steps()).toEqual(['evaluate', 'evaluate', 'evaluate', 'advance']);
    expect(retried(gate.machine.events(NAME), 'Evaluate')).toBe(2);
  });

  it('escalates an evaluate step that keeps failing after 3 retries and fails the execution with its error', async () => {
    // Prepare
    const script = new ScriptedSteps(['GO']).failing('evaluate', Number.POSITIVE_INFINITY);
    const gate = run(script);

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(script.steps()).toEqual(['evaluate', 'evaluate', 'evaluate', 'evaluate', 'escalate-failure']);
    expect(retried(gate.machine.events(NAME), 'Evaluate')).toBe(3);
    const [escalation] = script.callsOf('escalate-failure');
    expect(escalation).toMatchObject({
      ...REF,
      execution: NAME,
      cautions: 0,
      evaluation: null,
      approval: null,
    });
    expect(escalation?.error.Error).toBe('MetricsUnavailableError');
    expect(JSON.parse(escalation?.error.Cause ?? '{}')).toMatchObject({
      errorType: 'MetricsUnavailableError',
      errorMessage: 'evaluate failed',
    });
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: { error: 'MetricsUnavailableError', cause: escalation?.error.Cause },
    });
  });

  it.each([
    ['caution', ['CAUTION'], 'NotifyCaution'],
    ['request-decision', ['NO-GO'], 'RequestDecision'],
    ['advance', ['GO'], 'Advance'],
  ] as const)('escalates the %s step when it keeps failing', async (step, decisions, state) => {
    // Prepare
    const script = new ScriptedSteps(decisions).failing(step, Number.POSITIVE_INFINITY);
    const gate = run(script);

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(script.callsOf(step)).toHaveLength(4);
    expect(retried(gate.machine.events(NAME), state)).toBe(3);
    expect(script.callsOf('escalate-failure')[0]?.error.Error).toBe('MetricsUnavailableError');
    expect(execution.status).toBe('FAILED');
  });

  it('escalates the hold step when it keeps failing', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']).failing('hold', Number.POSITIVE_INFINITY);
    const gate = run(script);

    // Act
    await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, { decision: 'hold', by: 'lead-1' });
    const execution = await gate.settled(REF);

    // Assess
    expect(script.callsOf('hold')).toHaveLength(4);
    expect(script.callsOf('escalate-failure')[0]).toMatchObject({
      approval: { decision: 'hold', by: 'lead-1' },
      error: { Error: 'MetricsUnavailableError' },
    });
    expect(execution.status).toBe('FAILED');
  });

  it('fails the execution when even the escalation keeps failing', async () => {
    // Prepare
    const script = new ScriptedSteps(['GO'])
      .failing('advance', Number.POSITIVE_INFINITY)
      .failing('escalate-failure', Number.POSITIVE_INFINITY);
    const gate = run(script);

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(script.callsOf('escalate-failure')).toHaveLength(7);
    expect(execution).toMatchObject({ status: 'FAILED', error: { error: 'MetricsUnavailableError' } });
  });

  it('reminds the approvers with a new token each time the decision is overdue, then holds the phase', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script, { ...INSTANT, taskTimeoutOverrides: { RequestDecision: 20 } });

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    const requests = script.callsOf('request-decision');
    expect(requests.map((request) => request.reminders)).toEqual([0, 1, 2, 3]);
    expect(new Set(requests.map((request) => request.taskToken)).size).toBe(4);
    expect(script.steps().slice(-1)).toEqual(['hold']);
    expect(script.callsOf('hold')[0]?.approval).toEqual({
      decision: 'hold',
      by: null,
      note: 'No decision was made within 12 days (3 reminders).',
    });
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { status: 'held' } });
    const late = await gate
      .complete(requests[0]?.taskToken ?? '', { decision: 'advance', by: 'lead-1' })
      .catch(rejection);
    expect((late as StaleTaskTokenError).reason).toBe('timed-out');
  });

  it('takes a decision made after a reminder', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script, { ...INSTANT, taskTimeoutOverrides: { RequestDecision: 50 } });

    // Act
    await gate.start(REF);
    const first = await script.nextDecisionRequest();
    const reminder = await script.nextDecisionRequest();
    const late = await gate.complete(first.taskToken, { decision: 'advance', by: 'lead-1' }).catch(rejection);
    await gate.complete(reminder.taskToken, { decision: 'advance', by: 'lead-1' });
    const execution = await gate.settled(REF);

    // Assess
    expect((late as StaleTaskTokenError).reason).toBe('timed-out');
    expect(reminder.reminders).toBe(1);
    expect(script.steps()).toEqual(['evaluate', 'request-decision', 'request-decision', 'advance']);
    expect(execution.output).toMatchObject({ counters: { reminders: 1 }, status: 'passed' });
  });

  it('starts one execution per attempt and reports a duplicate start, running or finished, as already started', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);

    // Act
    const first = await gate.start(REF);
    const whileRunning = await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, { decision: 'advance', by: 'lead-1' });
    await gate.settled(REF);
    const afterwards = await gate.start(REF);
    const nextAttempt = await gate.start({ ...REF, attempt: 2 });

    // Assess
    expect([first, whileRunning, afterwards, nextAttempt]).toEqual([
      'started',
      'already-started',
      'already-started',
      'started',
    ]);
    expect(gate.executions().map((execution) => execution.name)).toEqual([
      'sprint-20--phase-1--1',
      'sprint-20--phase-1--2',
    ]);
    expect(script.callsOf('request-decision').filter((call) => call.attempt === 1)).toHaveLength(1);
  });

  it('refuses a token that is spent, unknown or not a token', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);
    await gate.start(REF);
    const request = await script.nextDecisionRequest();
    await gate.complete(request.taskToken, { decision: 'hold', by: 'lead-1' });
    await gate.settled(REF);

    // Act
    const spent = await gate
      .complete(request.taskToken, { decision: 'advance', by: 'lead-1' })
      .catch(rejection);
    const unknown = await gate
      .complete('local-00000000-0000-0000-0000-000000000000', { decision: 'hold', by: 'x' })
      .catch(rejection);
    const garbage = await gate.complete('not-a-token', { decision: 'hold', by: 'x' }).catch(rejection);

    // Assess
    expect(spent).toEqual(new StaleTaskTokenError('does-not-exist'));
    expect((spent as StaleTaskTokenError).reason).toBe('does-not-exist');
    expect((unknown as StaleTaskTokenError).reason).toBe('does-not-exist');
    expect((garbage as StaleTaskTokenError).reason).toBe('invalid');
  });

  it('refuses a decision that is not JSON and keeps waiting', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);
    await gate.start(REF);
    const request = await script.nextDecisionRequest();

    // Act
    const refused = await gate.complete(request.taskToken, undefined).catch(rejection);

    // Assess
    expect(refused).toBeInstanceOf(TypeError);
    expect(gate.executions()[0]?.status).toBe('RUNNING');
  });

  it('aborts running executions on stop, drops their tokens and refuses new starts', async () => {
    // Prepare
    const script = new ScriptedSteps(['NO-GO']);
    const gate = run(script);
    await gate.start(REF);
    const request = await script.nextDecisionRequest();

    // Act
    await gate.stop();

    // Assess
    expect(gate.executions()[0]).toMatchObject({ status: 'ABORTED' });
    expect(script.steps()).toEqual(['evaluate', 'request-decision']);
    await expect(
      gate.complete(request.taskToken, { decision: 'advance', by: 'lead-1' }),
    ).rejects.toBeInstanceOf(StaleTaskTokenError);
    await expect(gate.start({ ...REF, attempt: 2 })).rejects.toThrow(/stopped/);
  });

  it('aborts an execution waiting out a caution window on stop', async () => {
    // Prepare
    const script = new ScriptedSteps(['CAUTION'], { cautionWindowSeconds: 3600, maxCautions: 2 });
    const gate = run(script, {});
    await gate.start(REF);
    await vi.waitUntil(() => entered(gate.machine.events(NAME), 'CautionWindow') === 1);

    // Act
    await gate.stop();

    // Assess
    expect(gate.executions()[0]).toMatchObject({ status: 'ABORTED' });
    expect(script.steps()).toEqual(['evaluate', 'caution']);
  });

  it('runs caution windows and decision timeouts on the clock it is given', async () => {
    // Prepare
    const threeDays = 3 * 24 * 3600;
    const speed = (threeDays * 1000) / 100; // three days of plan time pass in 100 ms
    const clock = {
      now: () => new Date(),
      realMs: (clockMs: number) => clockMs / speed,
      realMsUntil: (instant: Date) => Math.max(0, (instant.getTime() - Date.now()) / speed),
    };
    const script = new ScriptedSteps(['CAUTION', 'NO-GO'], {
      cautionWindowSeconds: threeDays,
      maxCautions: 1,
    });
    const gate = run(script, { clock });

    // Act
    await gate.start(REF);
    const execution = await gate.settled(REF);

    // Assess
    expect(script.steps()).toEqual([
      'evaluate',
      'caution',
      'evaluate',
      'request-decision',
      'request-decision',
      'request-decision',
      'request-decision',
      'hold',
    ]);
    const took = (execution.stoppedAt?.getTime() ?? 0) - execution.startedAt.getTime();
    // It waited the scaled windows (15 days of plan time are 500 ms); unscaled, the test would time out.
    expect(took).toBeGreaterThanOrEqual(500);
    expect(entered(gate.machine.events(NAME), 'CautionWindow')).toBe(1);
    expect(execution.output).toMatchObject({ counters: { cautions: 1, reminders: 4 }, status: 'held' });
  });
});
