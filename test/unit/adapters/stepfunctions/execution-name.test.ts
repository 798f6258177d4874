import { describe, expect, it } from 'vitest';
import {
  gateExecutionName,
  MAX_EXECUTION_NAME_LENGTH,
} from '../../../../functions/adapters/stepfunctions/execution-name.js';

// Step Functions' rule, narrowed to what CloudWatch Logs accepts in logged execution names.
const LOGGABLE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

describe('gateExecutionName', () => {
  it('names the execution <project>--<phase>--<attempt> when that fits', () => {
    // Act
    const name = gateExecutionName('sprint-20', 'phase-2', 3);

    // Assess
    expect(name).toBe('sprint-20--phase-2--3');
  });

  it('gives the same attempt the same name, so a duplicate start is refused', () => {
    // Assess
    expect(gateExecutionName('sprint-20', 'phase-2', 1)).toBe(gateExecutionName('sprint-20', 'phase-2', 1));
    expect(gateExecutionName('sprint-20', 'phase-2', 1)).not.toBe(
      gateExecutionName('sprint-20', 'phase-2', 2),
    );
  });

  it('hashes when the plain name would be longer than 80 characters', () => {
    // Prepare
    const project = `p${'x'.repeat(62)}`;
    const phase = `q${'y'.repeat(62)}`;

    // Act
    const name = gateExecutionName(project, phase, 12);

    // Assess
    expect(name).toHaveLength(MAX_EXECUTION_NAME_LENGTH);
    expect(name).toMatch(LOGGABLE_NAME);
    expect(name).toMatch(/^pxxx.*--h[0-9a-f]{16}$/);
    expect(gateExecutionName(project, phase, 13)).not.toBe(name);
    expect(gateExecutionName(project, `${phase.slice(0, -1)}z`, 12)).not.toBe(name);
  });

  it('hashes ids that contain -- so that two different gates never share a name', () => {
    // Act
    const left = gateExecutionName('a--b', 'c', 1);
    const right = gateExecutionName('a', 'b--c', 1);

    // Assess
    expect(left).not.toBe(right);
    expect(left).toMatch(/--h[0-9a-f]{16}$/);
    expect(right).toMatch(/--h[0-9a-f]{16}$/);
  });

  it('replaces characters Step Functions or CloudWatch Logs refuse and hashes the result', () => {
    // Act
    const name = gateExecutionName('My Project', 'phase/1', 1);

    // Assess
    expect(name).toMatch(LOGGABLE_NAME);
    expect(name.startsWith('My_Project--phase_1--1--h')).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses attempt %s', (attempt) => {
    // Assess
    expect(() => gateExecutionName('sprint-20', 'phase-2', attempt)).toThrow(RangeError);
  });

  it('refuses an empty id', () => {
    // Assess
    expect(() => gateExecutionName('', 'phase-2', 1)).toThrow(RangeError);
  });
});
