import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  GATE_STEP_FUNCTION_ARN_SUBSTITUTION,
  PHASE_GATE_DEFINITION_FILE,
  STATE_MACHINES_DIR,
} from '../adapters/stepfunctions/definitions.js';
import { gateExecutionName } from '../adapters/stepfunctions/execution-name.js';
import {
  type GateRef,
  type GateStartResult,
  type GateStepEvent,
  type GateStepHandler,
  type GateWorkflow,
  StaleTaskTokenError,
  type StaleTaskTokenReason,
} from '../core/gates/workflow.js';

type Engine = typeof import('aws-local-stepfunctions');
type Execution = ReturnType<StateMachine['run']>;
type JsonValue = Parameters<StateMachine['run']>[0];
type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type Overrides = NonNullable<RunOptions['overrides']>;

/** One entry of an execution's event log, as aws-local-stepfunctions reports it. */
export type ExecutionEvent = Execution['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

let engine: Promise<Engine> | undefined;

// Loaded on first use: `convoy dev` starts without the library (and the Lambda client it imports) until a
// workflow runs.
function loadEngine(): Promise<Engine> {
  engine ??= import('aws-local-stepfunctions');
  return engine;
}

/**
 * The path of `statemachines/<file>`, found by walking up from `from` (default: this module). Works from
 * the sources (`functions/local/`), from the `dist/convoy.mjs` bundle, and from the tests.
 *
 * @throws Error when no folder above `from` has the file.
 */
export function findStateMachineFile(file: string, from: string | URL = import.meta.url): string {
  const start = dirname(fileURLToPath(from));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, STATE_MACHINES_DIR, file);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(`cannot find ${STATE_MACHINES_DIR}/${file} in ${start} or any folder above it`);
    }
  }
}

/** Overrides of the durations in a definition, by state name; `'*'` stands for every state of the kind. */
export interface LocalTimingOverrides {
  /** Milliseconds a Wait state pauses instead of its own duration. */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Milliseconds a state waits before each retry (or per retrier), instead of its backoff. */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | readonly number[]>>;
  /**
   * Milliseconds after which a Task state fails with `States.Timeout`, before its `TimeoutSeconds`. Unlike
   * AWS, a `States.TaskFailed` retrier or catcher also matches this timeout, so a definition that relies on
   * it lists `States.Timeout` first.
   */
  readonly taskTimeoutOverrides?: Readonly<Record<string, number>>;
}

/**
 * The clock plan time runs on, such as `convoy dev`'s ScaledClock: with one, Wait states and the
 * `TimeoutSeconds` of callback tasks last the real time that the clock's time span takes.
 */
export interface LocalClock {
  now(): Date;
  /** Real milliseconds for a span of clock time. */
  realMs(clockMs: number): number;
  /** Real milliseconds until the clock shows `instant` (0 when it has passed). */
  realMsUntil(instant: Date): number;
}

/** A Lambda function run in process: it gets the `Payload` of a `lambda:invoke` Task state. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

/** Options of {@link LocalStateMachine}. */
export interface LocalStateMachineOptions extends LocalTimingOverrides {
  /** The ASL file, e.g. from {@link findStateMachineFile}. */
  readonly definitionFile: string;
  /** Replaces each `${Name}` in the file, like the stack's `definitionSubstitutions`. @default {} */
  readonly substitutions?: Readonly<Record<string, string>>;
  /** The functions the Task states invoke, by the `FunctionName` they give after substitution. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
  /**
   * Runs waits and callback timeouts on this clock's time. The library only pauses a Wait state for its
   * own duration or a fixed override, so with a clock each Wait state runs as a Task state that sleeps
   * in process: same input and output, but the event log shows a Task. `waitTimeOverrides` still win.
   *
   * @default - real time
   */
  readonly clock?: LocalClock;
  /** One line when an execution starts and when it ends. @default - silent */
  readonly log?: (line: string) => void;
}

/** The statuses of Step Functions' DescribeExecution. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** An execution as {@link LocalStateMachine.executions} reports it. */
export interface ExecutionSummary {
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly startedAt: Date;
  readonly stoppedAt?: Date;
  /** When the execution succeeded. */
  readonly output?: unknown;
  /** When it failed: the error and cause of the state that failed it, as Step Functions reports them. */
  readonly error?: { readonly error: string; readonly cause: string };
}

interface TaskState {
  readonly name: string;
  readonly functionName: string;
  /** `.waitForTaskToken`: the state waits until its token is completed. */
  readonly callback: boolean;
  readonly timeoutSeconds?: number;
}

/** What a Wait state run on a {@link LocalClock} gets: its `Seconds` or `Timestamp`, from the state or its path. */
interface ClockWait {
  readonly state: string;
  readonly seconds?: unknown;
  readonly timestamp?: unknown;
}

interface ExecutionRecord {
  readonly name: string;
  readonly input: unknown;
  readonly startedAt: Date;
  status: ExecutionStatus;
  stoppedAt?: Date;
  output?: unknown;
  error?: { error: string; cause: string };
  readonly events: ExecutionEvent[];
  readonly tokens: Set<string>;
  /** Function calls not yet returned; an abort cannot interrupt them, so stopping waits for them. */
  readonly inFlight: Set<Promise<unknown>>;
  /** Ends the waits run on a {@link LocalClock}. */
  readonly stopping: AbortController;
  aborted: boolean;
  abort?: () => void;
  done?: Promise<ExecutionSummary>;
}

interface PendingTask {
  readonly record: ExecutionRecord;
  readonly resolve: (output: JsonValue) => void;
  readonly reject: (error: Error) => void;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_CALLBACK = `${LAMBDA_INVOKE}.waitForTaskToken`;
// What `$$.Task.Token` reads in the local context; each callback task swaps it for a token of its own.
const TOKEN_PLACEHOLDER = 'convoy-local-task-token';
const TOKEN_PREFIX = 'local-';
// setTimeout fires at once (with a warning) beyond this many milliseconds, about 24.8 days.
const MAX_TIMER_MS = 2 ** 31 - 1;
// The function a Wait state run on a clock invokes, handled by the runner itself.
const CLOCK_WAIT_FUNCTION = 'arn:aws:lambda:local:000000000000:function:convoy-local-wait';

/**
 * Runs an ASL file in process with aws-local-stepfunctions, as Step Functions would run it after the
 * stack's definition substitutions: every Task state must be a `lambda:invoke` (optionally
 * `.waitForTaskToken`) of a function given in the options, which is called with the task's `Payload` and
 * whose result comes back as `{ ExecutedVersion, Payload, StatusCode }`; a thrown error fails the task
 * with the error's name and a JSON cause `{ errorType, errorMessage, trace }`, as Lambda reports it.
 *
 * A `.waitForTaskToken` state gets a fresh token in place of `$$.Task.Token` (the library has no callback
 * support), calls its function, and waits until {@link sendTaskSuccess} is called with the token or the
 * state times out. Execution names are unique: a second start of a name is refused, as Step Functions
 * does for 90 days. Executions live in memory only.
 */
export class LocalStateMachine {
  private readonly definition: StateMachineDefinition;
  private readonly tasks: readonly TaskState[];
  private readonly functions: Readonly<Record<string, LocalFunction>>;
  private readonly waitTimes: Record<string, number>;
  private readonly retryIntervals: Record<string, number | number[]>;
  private readonly taskTimeouts: ReadonlyMap<string, number>;
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly pending = new Map<string, PendingTask>();
  private readonly spent = new Map<string, StaleTaskTokenReason>();
  private readonly log: (line: string) => void;
  private readonly clock?: LocalClock;
  private readonly machineName: string;
  private machine?: StateMachine;
  private stopped = false;

  constructor(options: LocalStateMachineOptions) {
    this.machineName = basename(options.definitionFile).replace(/\.asl\.json$/, '');
    this.definition = loadDefinition(options.definitionFile, options.substitutions ?? {});
    const states = collectStates(this.definition);
    this.waitTimes = expand(options.waitTimeOverrides, kinds(states, 'Wait'), 'waitTimeOverrides');
    if (options.clock) {
      this.clock = options.clock;
      for (const name of kinds(states, 'Wait')) waitAsTask(name, states.get(name) as JsonObject);
    }
    this.functions = options.functions;
    this.tasks = taskStates(states, new Set([...Object.keys(options.functions), CLOCK_WAIT_FUNCTION]));
    this.retryIntervals = expand(
      options.retryIntervalOverrides,
      [...states].filter(([, state]) => Array.isArray(state.Retry)).map(([name]) => name),
      'retryIntervalOverrides',
      (value) => (typeof value === 'number' ? value : [...value]),
    );
    this.taskTimeouts = new Map(
      Object.entries(
        expand(
          options.taskTimeoutOverrides,
          this.tasks.filter((task) => task.functionName !== CLOCK_WAIT_FUNCTION).map((task) => task.name),
          'taskTimeoutOverrides',
        ),
      ),
    );
    this.log = options.log ?? (() => {});
  }

  /** Loads aws-local-stepfunctions and has it validate the definition; `start` does this on first use. */
  async ready(): Promise<void> {
    await this.engine();
  }

  /**
   * Starts an execution named `name` unless one exists. Resolves once the execution runs; its end is
   * reported by {@link settled} and {@link executions}.
   *
   * @throws Error after {@link stop}.
   */
  async start(name: string, input: unknown): Promise<'started' | 'already-started'> {
    if (this.stopped) throw new Error(`the local ${this.machineName} state machine is stopped`);
    if (this.records.has(name)) return 'already-started';
    const record: ExecutionRecord = {
      name,
      input: jsonCopy(input),
      startedAt: new Date(),
      status: 'RUNNING',
      events: [],
      tokens: new Set(),
      inFlight: new Set(),
      stopping: new AbortController(),
      aborted: false,
    };
    this.records.set(name, record);
    const running = deferred<void>();
    record.done = this.execute(record, running.resolve);
    await running.promise;
    return 'started';
  }

  /**
   * Completes the callback task waiting on `taskToken` with `output`, like SendTaskSuccess.
   *
   * @throws StaleTaskTokenError when no task waits on the token.
   * @throws TypeError when `output` is not JSON.
   */
  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const json = JSON.stringify(output);
    if (json === undefined) throw new TypeError(`a task's output must be JSON, got ${typeof output}`);
    const pending = this.spend(taskToken, 'does-not-exist');
    if (!pending) {
      throw new StaleTaskTokenError(
        this.spent.get(taskToken) ?? (taskToken.startsWith(TOKEN_PREFIX) ? 'does-not-exist' : 'invalid'),
      );
    }
    pending.resolve(JSON.parse(json) as JsonValue);
  }

  /** Every execution started, oldest first. */
  executions(): ExecutionSummary[] {
    return [...this.records.values()].map(summarize);
  }

  /** The execution named `name`, if one was started. */
  execution(name: string): ExecutionSummary | undefined {
    const record = this.records.get(name);
    return record && summarize(record);
  }

  /** The event log of the execution named `name`: states entered, retried, caught, exited, and its end. */
  events(name: string): readonly ExecutionEvent[] {
    return [...(this.records.get(name)?.events ?? [])];
  }

  /**
   * Resolves when the execution named `name` has ended and its function calls have returned.
   *
   * @throws Error when no execution has that name.
   */
  async settled(name: string): Promise<ExecutionSummary> {
    const done = this.records.get(name)?.done;
    if (!done) throw new Error(`no execution of ${this.machineName} is named ${name}`);
    return done;
  }

  /**
   * Aborts every running execution (waiting callbacks are dropped, their tokens go stale) and resolves
   * when they have ended and their function calls have returned. Later starts are refused.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const running = [...this.records.values()].filter((record) => record.status === 'RUNNING');
    for (const record of running) {
      record.aborted = true;
      record.stopping.abort();
      record.abort?.();
      for (const token of [...record.tokens]) {
        this.spend(token, 'does-not-exist')?.reject(abortedError());
      }
    }
    await Promise.all(running.map((record) => record.done));
  }

  private async engine(): Promise<StateMachine> {
    if (!this.machine) {
      const { StateMachine } = await loadEngine();
      // The library validates the definition with asl-validator, checking ARNs and paths.
      this.machine ??= new StateMachine(this.definition, {
        validationOptions: { checkArn: true, checkPaths: true },
      });
    }
    return this.machine;
  }

  private async execute(record: ExecutionRecord, running: () => void): Promise<ExecutionSummary> {
    let collecting: Promise<void> | undefined;
    try {
      const machine = await this.engine();
      if (record.aborted) {
        finish(record, 'ABORTED');
        return summarize(record);
      }
      const execution = machine.run(record.input as JsonValue, {
        overrides: this.overrides(record),
        context: this.context(record),
      });
      record.abort = execution.abort;
      collecting = collect(execution.eventLogs, record.events);
      this.log(`${this.machineName} ${record.name}: started`);
      running();
      try {
        finish(record, 'SUCCEEDED', { output: await execution.result });
      } catch (error) {
        finish(record, ...outcome(error));
      }
    } catch (error) {
      finish(record, 'FAILED', { error: describeError(error) });
    } finally {
      running();
      for (const token of [...record.tokens]) this.spend(token, 'does-not-exist')?.reject(abortedError());
      await Promise.allSettled([collecting, ...record.inFlight]);
    }
    this.log(
      `${this.machineName} ${record.name}: ${record.status.toLowerCase()}` +
        (record.error ? ` (${record.error.error}: ${record.error.cause})` : ''),
    );
    return summarize(record);
  }

  private overrides(record: ExecutionRecord): Overrides {
    return {
      taskResourceLocalHandlers: Object.fromEntries(
        this.tasks.map((task) => [task.name, (input: JsonValue) => this.runTask(record, task, input)]),
      ),
      waitTimeOverrides: this.waitTimes,
      retryIntervalOverrides: this.retryIntervals,
    };
  }

  private context(record: ExecutionRecord): NonNullable<RunOptions['context']> {
    const stateMachineArn = `arn:aws:states:local:000000000000:stateMachine:${this.machineName}`;
    return {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:${this.machineName}:${record.name}`,
        Name: record.name,
      },
      StateMachine: { Id: stateMachineArn, Name: this.machineName },
      Task: { Token: TOKEN_PLACEHOLDER },
    };
  }

  private async runTask(record: ExecutionRecord, task: TaskState, input: JsonValue): Promise<JsonValue> {
    if (record.aborted) throw abortedError();
    // This timer is set before the library sets its own for TimeoutSeconds, so at equal length it fires
    // first and the token is known to have timed out.
    const timeoutMs =
      this.taskTimeouts.get(task.name) ?? (task.callback ? this.callbackTimeoutMs(task) : undefined);
    const timeout = timeoutMs === undefined ? undefined : rejectAfter(timeoutMs, timeoutError);
    const token = task.callback ? `${TOKEN_PREFIX}${randomUUID()}` : undefined;
    const callback = token === undefined ? undefined : this.waitForToken(record, token);
    try {
      const payload = (input as { Payload?: unknown } | null)?.Payload;
      const invoked = this.invoke(record, task, token === undefined ? payload : withToken(payload, token));
      const result = await race(invoked, timeout?.promise);
      if (callback === undefined) return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      return await race(callback, timeout?.promise);
    } catch (error) {
      if (token !== undefined && error instanceof Error && error.name === 'States.Timeout') {
        this.spend(token, 'timed-out');
      }
      throw error;
    } finally {
      timeout?.cancel();
      if (token !== undefined) this.spend(token, 'does-not-exist');
    }
  }

  private callbackTimeoutMs(task: TaskState): number | undefined {
    if (task.timeoutSeconds === undefined) return undefined;
    const ms = task.timeoutSeconds * 1000;
    return this.clock ? this.clock.realMs(ms) : ms;
  }

  private invoke(record: ExecutionRecord, task: TaskState, payload: unknown): Promise<JsonValue> {
    const fn =
      task.functionName === CLOCK_WAIT_FUNCTION
        ? () => this.clockWait(record, payload as ClockWait)
        : (this.functions[task.functionName] as LocalFunction);
    const call = (async () => {
      try {
        return jsonCopy(await fn(jsonCopy(payload)));
      } catch (error) {
        throw lambdaError(error);
      }
    })();
    record.inFlight.add(call);
    const forget = () => record.inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  private async clockWait(record: ExecutionRecord, wait: ClockWait): Promise<null> {
    const clock = this.clock as LocalClock;
    const override = this.waitTimes[wait.state];
    let ms: number;
    if (override !== undefined) {
      ms = override;
    } else if (wait.seconds !== undefined) {
      if (!Number.isInteger(wait.seconds) || (wait.seconds as number) < 0) {
        throw new Error(
          `Wait state ${wait.state}: seconds must be a whole number >= 0, got ${String(wait.seconds)}`,
        );
      }
      ms = clock.realMs((wait.seconds as number) * 1000);
    } else {
      const instant = new Date(String(wait.timestamp));
      if (Number.isNaN(instant.getTime())) {
        throw new Error(`Wait state ${wait.state}: ${String(wait.timestamp)} is not a timestamp`);
      }
      ms = clock.realMsUntil(instant);
    }
    await delay(ms, record.stopping.signal);
    return null;
  }

  private waitForToken(record: ExecutionRecord, token: string): Promise<JsonValue> {
    const { promise, resolve, reject } = deferred<JsonValue>();
    // Rejected by stop() while the function may still run: handled when awaited, not reported as unhandled.
    promise.catch(() => {});
    this.pending.set(token, { record, resolve, reject });
    record.tokens.add(token);
    return promise;
  }

  private spend(token: string, reason: StaleTaskTokenReason): PendingTask | undefined {
    const pending = this.pending.get(token);
    if (!pending) return undefined;
    this.pending.delete(token);
    pending.record.tokens.delete(token);
    this.spent.set(token, reason);
    return pending;
  }
}

/** The gate-step function's ARN in the local definition; any ARN would do, this one says what it is. */
export const LOCAL_GATE_STEP_FUNCTION_ARN = 'arn:aws:lambda:local:000000000000:function:convoy-gate-step';

/** Options of {@link LocalGateWorkflow}. */
export interface LocalGateWorkflowOptions extends LocalTimingOverrides {
  /** Runs each step in process: the body of the `gate-step` Lambda function. */
  readonly step: GateStepHandler;
  /** @default - statemachines/phase-gate.asl.json, found with {@link findStateMachineFile} */
  readonly definitionFile?: string;
  /** Plan time for caution windows and decision timeouts, and `requestedAt`; see {@link LocalStateMachineOptions.clock}. @default - real time */
  readonly clock?: LocalClock;
  /** One line when an execution starts and when it ends. @default - silent */
  readonly log?: (line: string) => void;
}

/**
 * {@link GateWorkflow} for `convoy dev` and the tests: `statemachines/phase-gate.asl.json` run in process
 * by a {@link LocalStateMachine}, each step handled by `options.step`, decisions completed with the task
 * token given to the `request-decision` step.
 */
export class LocalGateWorkflow implements GateWorkflow {
  /** The runner, for its executions, event logs and settling. */
  readonly machine: LocalStateMachine;
  private readonly clock?: LocalClock;

  constructor(options: LocalGateWorkflowOptions) {
    const { step, definitionFile, log, ...timing } = options;
    this.clock = options.clock;
    this.machine = new LocalStateMachine({
      ...timing,
      definitionFile: definitionFile ?? findStateMachineFile(PHASE_GATE_DEFINITION_FILE),
      substitutions: { [GATE_STEP_FUNCTION_ARN_SUBSTITUTION]: LOCAL_GATE_STEP_FUNCTION_ARN },
      functions: { [LOCAL_GATE_STEP_FUNCTION_ARN]: (payload) => step(payload as GateStepEvent) },
      ...(log ? { log } : {}),
    });
  }

  start(ref: GateRef): Promise<GateStartResult> {
    const { project, phase, gate, attempt } = ref;
    return this.machine.start(gateExecutionName(project, phase, attempt), {
      project,
      phase,
      gate,
      attempt,
      requestedAt: (this.clock?.now() ?? new Date()).toISOString(),
    });
  }

  complete(taskToken: string, output: unknown): Promise<void> {
    return this.machine.sendTaskSuccess(taskToken, output);
  }

  /** Loads the library and validates the definition now rather than at the first start. */
  ready(): Promise<void> {
    return this.machine.ready();
  }

  /** Every gate execution started, oldest first. */
  executions(): ExecutionSummary[] {
    return this.machine.executions();
  }

  /** Resolves when the execution of `ref`'s attempt has ended. */
  settled(ref: Pick<GateRef, 'project' | 'phase' | 'attempt'>): Promise<ExecutionSummary> {
    return this.machine.settled(gateExecutionName(ref.project, ref.phase, ref.attempt));
  }

  /** Aborts the running executions; see {@link LocalStateMachine.stop}. */
  stop(): Promise<void> {
    return this.machine.stop();
  }
}

type JsonObject = Record<string, unknown>;
type StateKind = 'Task' | 'Wait' | 'Pass' | 'Choice' | 'Parallel' | 'Map' | 'Succeed' | 'Fail';

function loadDefinition(
  file: string,
  substitutions: Readonly<Record<string, string>>,
): StateMachineDefinition {
  const text = readFileSync(file, 'utf8').replace(/\$\{([^}]*)\}/g, (_placeholder, name: string) => {
    const value = Object.hasOwn(substitutions, name) ? substitutions[name] : undefined;
    if (value === undefined) throw new Error(`${file}: no substitution is given for \${${name}}`);
    // Inserted into the JSON text, as CloudFormation does, so it is escaped as a string's content.
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(text) as StateMachineDefinition;
}

/** Every state, nested ones (Parallel branches, Map processors) included, by name. */
function collectStates(
  definition: { States?: unknown },
  into = new Map<string, JsonObject>(),
): Map<string, JsonObject> {
  for (const [name, state] of Object.entries((definition.States ?? {}) as Record<string, JsonObject>)) {
    into.set(name, state);
    const nested = [
      ...(Array.isArray(state.Branches) ? state.Branches : []),
      state.ItemProcessor,
      state.Iterator,
    ] as ({ States?: unknown } | undefined)[];
    for (const machine of nested) if (machine) collectStates(machine, into);
  }
  return into;
}

function kinds(states: ReadonlyMap<string, JsonObject>, kind: StateKind): string[] {
  return [...states].filter(([, state]) => state.Type === kind).map(([name]) => name);
}

// Every Task state must run in process: one the runner cannot handle would make the library call AWS.
function taskStates(states: ReadonlyMap<string, JsonObject>, functions: ReadonlySet<string>): TaskState[] {
  return kinds(states, 'Task').map((name) => {
    const state = states.get(name) as JsonObject;
    const resource = state.Resource;
    if (resource !== LAMBDA_INVOKE && resource !== LAMBDA_INVOKE_CALLBACK) {
      throw new Error(
        `state ${name}: the local runner only runs ${LAMBDA_INVOKE}[.waitForTaskToken], not ${resource}`,
      );
    }
    const functionName = (state.Parameters as JsonObject | undefined)?.FunctionName;
    if (typeof functionName !== 'string' || !functions.has(functionName)) {
      throw new Error(`state ${name}: no local function is given for FunctionName ${String(functionName)}`);
    }
    const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    return { name, functionName, callback: resource === LAMBDA_INVOKE_CALLBACK, timeoutSeconds };
  });
}

function expand<Value, Result = Value>(
  overrides: Readonly<Record<string, Value>> | undefined,
  names: readonly string[],
  option: string,
  convert: (value: Value) => Result = (value) => value as unknown as Result,
): Record<string, Result> {
  const expanded: Record<string, Result> = {};
  const { '*': all, ...named } = overrides ?? {};
  if (all !== undefined) for (const name of names) expanded[name] = convert(all);
  for (const [name, value] of Object.entries(named)) {
    if (!names.includes(name)) throw new Error(`${option}: no state named ${name} can take an override`);
    expanded[name] = convert(value);
  }
  return expanded;
}

function withToken(payload: unknown, token: string): unknown {
  if (payload === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(payload)) return payload.map((item) => withToken(item, token));
  if (payload !== null && typeof payload === 'object') {
    return Object.fromEntries(Object.entries(payload).map(([key, value]) => [key, withToken(value, token)]));
  }
  return payload;
}

function jsonCopy(value: unknown): JsonValue {
  const json = JSON.stringify(value);
  return json === undefined ? null : (JSON.parse(json) as JsonValue);
}

/** A thrown error as a Lambda invocation reports it to Step Functions. */
function lambdaError(error: unknown): Error {
  const errorType = error instanceof Error ? error.name : 'Error';
  const errorMessage = error instanceof Error ? error.message : String(error);
  const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
  const failure = new Error(JSON.stringify({ errorType, errorMessage, trace }), { cause: error });
  failure.name = errorType;
  return failure;
}

function timeoutError(): Error {
  const error = new Error('States.Timeout');
  error.name = 'States.Timeout';
  return error;
}

// The library reads these flags on its own errors: an abort is neither retried nor caught.
function abortedError(): Error {
  return Object.assign(new Error('the execution was stopped'), {
    name: 'ExecutionAborted',
    isRetryable: false,
    isCatchable: false,
  });
}

/**
 * Turns a Wait state, in place, into a Task state that gives its duration to {@link CLOCK_WAIT_FUNCTION}
 * and passes its input on unchanged, as the Wait state would.
 */
function waitAsTask(name: string, wait: JsonObject): void {
  if ('InputPath' in wait) throw new Error(`Wait state ${name}: InputPath is not supported on a local clock`);
  const duration =
    'Seconds' in wait
      ? { seconds: wait.Seconds }
      : 'SecondsPath' in wait
        ? { 'seconds.$': wait.SecondsPath }
        : 'Timestamp' in wait
          ? { timestamp: wait.Timestamp }
          : { 'timestamp.$': wait.TimestampPath };
  const task: JsonObject = {
    Type: 'Task',
    Comment: `Wait state run on the local clock${typeof wait.Comment === 'string' ? `: ${wait.Comment}` : ''}`,
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: CLOCK_WAIT_FUNCTION, Payload: { state: name, ...duration } },
    ResultPath: null,
    // The library times a Task out after 60 s unless told otherwise; this is the longest timer Node keeps.
    TimeoutSeconds: Math.floor(MAX_TIMER_MS / 1000),
    ...('OutputPath' in wait ? { OutputPath: wait.OutputPath } : {}),
    ...('Next' in wait ? { Next: wait.Next } : { End: true }),
  };
  for (const key of Object.keys(wait)) delete wait[key];
  Object.assign(wait, task);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const cancel = after(ms, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Calls `callback` after `ms`, however long: setTimeout alone cannot wait more than about 24.8 days. */
function after(ms: number, callback: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let remaining = ms;
  const arm = () => {
    const wait = Math.min(remaining, MAX_TIMER_MS);
    remaining -= wait;
    timer = setTimeout(() => (remaining > 0 ? arm() : callback()), wait);
  };
  arm();
  return () => clearTimeout(timer);
}

function rejectAfter(ms: number, error: () => Error): { promise: Promise<never>; cancel: () => void } {
  const { promise, reject } = deferred<never>();
  promise.catch(() => {});
  return { promise, cancel: after(ms, () => reject(error())) };
}

function race<T>(promise: Promise<T>, timeout: Promise<never> | undefined): Promise<T> {
  return timeout ? Promise.race([promise, timeout]) : promise;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve: (value: T) => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

async function collect(events: AsyncGenerator<ExecutionEvent>, into: ExecutionEvent[]): Promise<void> {
  for await (const event of events) into.push(event);
}

function finish(
  record: ExecutionRecord,
  status: ExecutionStatus,
  result: { output?: unknown; error?: { error: string; cause: string } } = {},
): void {
  if (record.status !== 'RUNNING') return;
  record.status = status;
  record.stoppedAt = new Date();
  if ('output' in result) record.output = result.output;
  if (result.error) record.error = result.error;
}

function outcome(error: unknown): [ExecutionStatus, { error?: { error: string; cause: string } }] {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ExecutionAbortedError') return ['ABORTED', {}];
  if (name === 'ExecutionTimeoutError') return ['TIMED_OUT', {}];
  // ExecutionError wraps the error of the state that failed the execution.
  const cause = name === 'ExecutionError' ? (error as Error).cause : error;
  return ['FAILED', { error: describeError(cause) }];
}

function describeError(error: unknown): { error: string; cause: string } {
  return error instanceof Error
    ? { error: error.name, cause: error.message }
    : { error: 'Error', cause: String(error) };
}

function summarize(record: ExecutionRecord): ExecutionSummary {
  return {
    name: record.name,
    status: record.status,
    input: record.input,
    startedAt: record.startedAt,
    ...(record.stoppedAt ? { stoppedAt: record.stoppedAt } : {}),
    ...(record.status === 'SUCCEEDED' ? { output: record.output } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}
