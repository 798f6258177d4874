import { describe, expect, it } from 'vitest';
import { convoy } from '../../support/cli.js';

describe('convoy simulate', () => {
  it('refuses --verbose with --json, before starting anything', async () => {
    // Act
    const result = await convoy(
      'simulate',
      'examples/nofx-tracks.yaml',
      '--days',
      '3',
      '--verbose',
      '--json',
    );

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--verbose and --json exclude each other');
    expect(result.stdout).toBe('');
  });

  it('names a bad --days and the range it takes', async () => {
    // Act
    const result = await convoy('simulate', 'examples/nofx-tracks.yaml', '--days', 'forty');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--days must be a whole number from 1 to 1000, got forty');
  });
});
