import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globsOverlap, pathMatches } from '../../../../functions/core/coordination/globs.js';

describe('pathMatches', () => {
  it.each([
    ['db/migrations/0001.sql', 'db/migrations/**', true],
    ['db/migrations', 'db/migrations/**', true],
    ['db/seed.sql', 'db/migrations/**', false],
    ['src/api/server.ts', 'src/*.ts', false],
    ['src/server.ts', 'src/*.ts', true],
    ['src/a/b/c.ts', 'src/**/*.ts', true],
    ['src/c.ts', 'src/**/*.ts', true],
    ['src/c.js', 'src/**/*.ts', false],
    ['README.md', '**', true],
    ['a/b/x', '**/x', true],
    ['x', '**/**/x', true],
    ['abc', 'a?c', true],
    ['abbc', 'a?c', false],
    // Characters that mean something to a regular expression are themselves in a glob.
    ['a.b+c', 'a.b+c', true],
    ['axb+c', 'a.b+c', false],
    ['é/ü.ts', '?/?.ts', true],
  ])('%s against %s: %s', (path, glob, expected) => {
    expect(pathMatches(path, glob)).toBe(expected);
  });

  it('agrees with globsOverlap for every concrete path', () => {
    // A path is a glob without wildcards: it names the same file exactly when the two overlap.
    const segment = fc.constantFrom('a', 'b', 'ab', 'x.ts', 'a.b', '+');
    const globSegment = fc.constantFrom('a', 'b', '*', '?', 'a*', '*.ts', '**', 'a?', 'x.ts', '+');
    const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/'));
    const glob = fc.array(globSegment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/'));
    fc.assert(
      fc.property(path, glob, (p, g) => {
        expect(pathMatches(p, g)).toBe(globsOverlap(p, g));
      }),
      { numRuns: 2000 },
    );
  });
});
