// zod/v4/classic/external.js, less what no Convoy code or dependency calls, for the Lambda bundles only.
//
// `import { z } from 'zod'` (jira.js; Convoy writes `import * as z`, docs/architecture.md) makes `z` a
// namespace object holding every export of zod, so esbuild keeps all of them: the 40-odd locales (265 KB
// minified; zod's core loads English itself), the schema compiler `z.compile` (29 KB) and `z.fromJSONSchema` (12 KB). The bundles alias
// 'zod' to ./zod.js (lib/constructs/bundling.ts), which re-exports this list; a name left out here is
// undefined in a bundle, and test/unit/bundling.test.ts checks that exactly these are left out.

export * from '../../node_modules/zod/v4/classic/checks.js';
export * as coerce from '../../node_modules/zod/v4/classic/coerce.js';
export * from '../../node_modules/zod/v4/classic/compat.js';
export { deepPartial } from '../../node_modules/zod/v4/classic/deep-partial.js';
export * from '../../node_modules/zod/v4/classic/errors.js';
export { input, output } from '../../node_modules/zod/v4/classic/in-out.js';
export * as iso from '../../node_modules/zod/v4/classic/iso.js';
export {
  ZodISODate,
  ZodISODateTime,
  ZodISODuration,
  ZodISOTime,
} from '../../node_modules/zod/v4/classic/iso.js';
export * from '../../node_modules/zod/v4/classic/parse.js';
export * from '../../node_modules/zod/v4/classic/schemas.js';
export {
  $brand,
  $input,
  $output,
  clone,
  config,
  flattenError,
  formatError,
  getDiscriminatedOption,
  globalRegistry,
  INVALID,
  memoizer,
  NEVER,
  prettifyError,
  regexes,
  registry,
  TimePrecision,
  toZod,
  treeifyError,
  util,
} from '../../node_modules/zod/v4/core/index.js';
export { toJSONSchema } from '../../node_modules/zod/v4/core/json-schema-processors.js';
export * as core from './zod-core.js';
