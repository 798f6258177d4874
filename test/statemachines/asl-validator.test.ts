import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface AslValidation {
  readonly isValid: boolean;
  readonly errorsText: (separator?: string) => string;
}
type AslValidator = (
  definition: unknown,
  options?: { readonly checkArn?: boolean; readonly checkPaths?: boolean },
) => AslValidation;

// asl-validator is CommonJS without type declarations: `module.exports` is the validator function.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const STATE_MACHINES = fileURLToPath(new URL('../../statemachines/', import.meta.url));
const FILES = readdirSync(STATE_MACHINES).filter((file) => file.endsWith('.asl.json'));

describe('statemachines/*.asl.json', () => {
  it('holds at least the phase gate', () => {
    // Assess
    expect(FILES).toContain('phase-gate.asl.json');
  });

  it.each(FILES)('%s is valid Amazon States Language, ARNs and paths included', (file) => {
    // Prepare
    const definition: unknown = JSON.parse(readFileSync(join(STATE_MACHINES, file), 'utf8'));

    // Act
    const result = aslValidator(definition, { checkArn: true, checkPaths: true });

    // Assess
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('rejects an invalid definition, so a pass means something', () => {
    // Prepare
    const definition = { StartAt: 'Missing', States: { Only: { Type: 'Wait', Next: 'Nowhere' } } };

    // Act
    const result = aslValidator(definition, { checkArn: true, checkPaths: true });

    // Assess
    expect(result.isValid).toBe(false);
  });
});
