import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findStateMachineFile, LocalStateMachine } from '../../functions/local/state-machine-runner.js';
import { tempDir } from '../support/temp.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FUNCTION = 'arn:aws:lambda:local:000000000000:function:echo';
// The ASL placeholder, as the definition files write it (not a template literal).
const ECHO_ARN_PLACEHOLDER = ['${', 'EchoArn', '}'].join('');

/** Writes a one-state definition around `task` to a temporary file. */
function definitionFile(task: Record<string, unknown>, file = 'test.asl.json'): string {
  const path = join(tempDir('convoy-asl-'), file);
  writeFileSync(
    path,
    JSON.stringify({ StartAt: 'Only', States: { Only: { Type: 'Task', End: true, ...task } } }),
  );
  return path;
}

const invoke = (payload: unknown) => ({
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: ECHO_ARN_PLACEHOLDER, Payload: payload },
});

describe('findStateMachineFile', () => {
  it('finds statemachines/ at the repository root from the sources and from the dist/ bundle', () => {
    // Prepare
    const expected = join(REPO_ROOT, 'statemachines', 'phase-gate.asl.json');

    // Act
    const fromSources = findStateMachineFile('phase-gate.asl.json');
    const fromBundle = findStateMachineFile(
      'phase-gate.asl.json',
      pathToFileURL(join(REPO_ROOT, 'dist', 'convoy.mjs')),
    );

    // Assess
    expect(fromSources).toBe(expected);
    expect(fromBundle).toBe(expected);
  });

  it('says where it looked when no folder above has the file', () => {
    // Act
    const find = () =>
      findStateMachineFile('phase-gate.asl.json', pathToFileURL(join(tmpdir(), 'x', 'y.mjs')));

    // Assess
    expect(find).toThrow(/cannot find statemachines\/phase-gate\.asl\.json/);
  });
});

describe('LocalStateMachine', () => {
  it('invokes the substituted function with the Payload and returns what Lambda would', async () => {
    // Prepare
    const calls: unknown[] = [];
    const machine = new LocalStateMachine({
      definitionFile: definitionFile(invoke({ 'name.$': '$.name', when: new Date(0).toISOString() })),
      substitutions: { EchoArn: FUNCTION },
      functions: {
        [FUNCTION]: async (payload) => {
          calls.push(payload);
          return { hello: (payload as { name: string }).name, at: new Date(0), skipped: undefined };
        },
      },
    });

    // Act
    await machine.start('one', { name: 'convoy' });
    const execution = await machine.settled('one');

    // Assess
    expect(calls).toEqual([{ name: 'convoy', when: '1970-01-01T00:00:00.000Z' }]);
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        ExecutedVersion: '$LATEST',
        StatusCode: 200,
        Payload: { hello: 'convoy', at: '1970-01-01T00:00:00.000Z' },
      },
    });
  });

  it('refuses a Task state it would have to send to AWS', () => {
    // Act
    const create = () =>
      new LocalStateMachine({
        definitionFile: definitionFile({ Resource: 'arn:aws:states:::sqs:sendMessage', Parameters: {} }),
        functions: {},
      });

    // Assess
    expect(create).toThrow(/state Only: the local runner only runs arn:aws:states:::lambda:invoke/);
  });

  it('refuses a function name it has no local function for', () => {
    // Act
    const create = () =>
      new LocalStateMachine({
        definitionFile: definitionFile(invoke({})),
        substitutions: { EchoArn: 'arn:aws:lambda:us-east-1:123456789012:function:real' },
        functions: { [FUNCTION]: async () => null },
      });

    // Assess
    expect(create).toThrow(/no local function is given for FunctionName arn:aws:lambda:us-east-1/);
  });

  it('refuses a placeholder that has no substitution, as a deployment would', () => {
    // Act
    const create = () =>
      new LocalStateMachine({
        definitionFile: definitionFile(invoke({})),
        functions: { [FUNCTION]: async () => null },
      });

    // Assess
    expect(create).toThrow(/no substitution is given for \$\{EchoArn\}/);
  });

  it('refuses an override for a state that does not exist or cannot take it', () => {
    // Act
    const create = () =>
      new LocalStateMachine({
        definitionFile: definitionFile(invoke({})),
        substitutions: { EchoArn: FUNCTION },
        functions: { [FUNCTION]: async () => null },
        waitTimeOverrides: { Only: 0 },
      });

    // Assess
    expect(create).toThrow(/waitTimeOverrides: no state named Only can take an override/);
  });

  it('fails the execution with the thrown error as Lambda reports it when no Retry or Catch applies', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      definitionFile: definitionFile(invoke({})),
      substitutions: { EchoArn: FUNCTION },
      functions: {
        [FUNCTION]: async () => {
          throw new RangeError('out of range');
        },
      },
    });

    // Act
    await machine.start('one', {});
    const execution = await machine.settled('one');

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: { error: 'RangeError' } });
    expect(JSON.parse(execution.error?.cause ?? '{}')).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'out of range',
    });
  });
});
