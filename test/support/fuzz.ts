import fc from 'fast-check';

/**
 * How long a fuzz property runs. In CI (`npm test`) a fixed seed and a run count that keeps each
 * fuzz file under about a minute, so a failure reproduces. `npm run fuzz` runs ten times as many
 * with a random seed (fast-check prints the seed and path of any counterexample). `FUZZ_RUNS` and
 * `FUZZ_SEED` (a number, or `random`) override both, e.g. to replay a failure:
 * `FUZZ_SEED=123 FUZZ_RUNS=500 npx vitest run test/fuzz`.
 */
export function fuzzParameters(ciRuns: number): { numRuns: number; seed?: number } {
  const long = process.env.npm_lifecycle_event === 'fuzz';
  const runs = Number(process.env.FUZZ_RUNS);
  const numRuns = Number.isInteger(runs) && runs > 0 ? runs : long ? ciRuns * 10 : ciRuns;
  const seedText = process.env.FUZZ_SEED ?? (long ? 'random' : String(FIXED_SEED));
  const seed = seedText === 'random' ? undefined : Number(seedText);
  return { numRuns, ...(seed !== undefined && Number.isInteger(seed) ? { seed } : {}) };
}

const FIXED_SEED = 20_261_206;

/** A test timeout for `numRuns` runs of about `msPerRun` each on a busy two-core machine. */
export const fuzzTimeout = (numRuns: number, msPerRun: number) => 60_000 + numRuns * msPerRun;

/** Strings that have broken parsers and stores before: empty, long, lone surrogates, control bytes. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\ud800',
    'a\udfffb',
    '\ud83d',
    '🚀',
    '\u0000',
    '%ZZ',
    '..',
    '../..',
    '__proto__',
    'constructor',
    'toString',
    'null',
    '1e400',
    '<script>',
    "'; DROP TABLE",
  ),
  fc.integer({ min: 200, max: 2_200 }).map((length) => 'a'.repeat(length)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
);

/** Numbers at and past the edges of what JSON, JavaScript and DynamoDB represent. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    100,
    100.0001,
    9_007_199_254_740_991,
    9_007_199_254_740_992,
    -9_007_199_254_740_992,
    1e16,
    1e125,
    1e126,
    1e200,
    -1e200,
    1e-130,
    0.5e-130,
    1e-131,
    5e-324,
    Number.MAX_VALUE,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Any JSON value, with nasty strings and numbers mixed in at every depth. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    nastyNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyString, fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/**
 * `base` with up to `count` of its values (at any depth, the root included) replaced by
 * `replacement`s: a real payload that is wrong in a few places, which reaches deeper than random JSON.
 */
export function mutated(base: unknown, replacement: fc.Arbitrary<unknown> = nastyJson, count = 3) {
  const paths = pathsOf(base);
  return fc
    .array(fc.tuple(fc.nat({ max: paths.length - 1 }), replacement), { minLength: 1, maxLength: count })
    .map((changes) => {
      let result = structuredClone(base);
      for (const [index, value] of changes) result = replaceAt(result, paths[index] as string[], value);
      return result;
    });
}

function pathsOf(value: unknown, path: string[] = [], found: string[][] = []): string[][] {
  found.push(path);
  if (found.length > 2_000) return found;
  if (value && typeof value === 'object')
    for (const [key, child] of Object.entries(value)) pathsOf(child, [...path, key], found);
  return found;
}

function replaceAt(root: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return structuredClone(value);
  let parent = root as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = parent?.[key];
    if (!next || typeof next !== 'object') return root;
    parent = next as Record<string, unknown>;
  }
  if (parent && typeof parent === 'object') parent[path.at(-1) as string] = structuredClone(value);
  return root;
}

/** A response body that shows internals: a stack frame, a source path, a module path. */
export const leaksInternals = (text: string) =>
  /\n\s+at |\bat \S+ \(|\.ts:\d+|node_modules|file:\/\//.test(text);
