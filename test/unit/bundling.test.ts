import { describe, expect, it } from 'vitest';
import * as zod from 'zod';
import * as bundled from '../../lib/bundling/zod.js';

// The Lambda bundles resolve 'zod' to lib/bundling/zod.js, a copy of zod's export list less a few names
// (lib/bundling/zod-classic.js says why). A zod upgrade that adds, renames or moves an export must show
// up here rather than as `undefined` in a deployed function.
const LEFT_OUT = [
  'ZodCompileAsyncError',
  'ZodCompileUnsupportedError',
  'compile',
  'fromJSONSchema',
  'locales',
  'withParser',
];

const missing = (from: object, to: object) =>
  Object.keys(from)
    .filter((name) => !(name in to))
    .sort();

describe('the zod the Lambda bundles use', () => {
  it('exports everything zod does but the locales, the schema compiler and fromJSONSchema', () => {
    expect(missing(zod, bundled)).toEqual(LEFT_OUT);
    expect(missing(zod.z, bundled.z)).toEqual(LEFT_OUT);
    expect(missing(bundled, zod)).toEqual([]);
  });

  it('is the same zod: the very same schema classes, with English messages', () => {
    expect(bundled.z.object).toBe(zod.z.object);
    const result = bundled.z.object({ id: bundled.z.string() }).safeParse({ id: 1 });
    expect(result.error?.issues[0]?.message).toBe('Invalid input: expected string, received number');
  });
});
