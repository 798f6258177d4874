import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How every Convoy Lambda function is bundled, in one place: lib/constructs/app-function.ts hands these
 * to CDK's NodejsFunction (which runs esbuild with them) and bench/bundles.bench.ts runs esbuild with the
 * very same options ({@link esbuildOptions}), so the benchmark measures what deploys.
 */

/** The repository root: every entry point, the lock file and the tsconfig are found from here. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

// An ESM bundle has no `require`, which esbuild's wrappers for CommonJS dependencies call. The aliases keep
// the banner's names from colliding with a bundled module that imports createRequire itself.
const REQUIRE_SHIM =
  "import { createRequire as __convoyCreateRequire } from 'node:module';" +
  'const require = __convoyCreateRequire(import.meta.url);';

/** The bundling settings, named as esbuild names them. */
export const LAMBDA_BUNDLE = {
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Prefer the ESM build of a dependency, which esbuild can tree-shake.
  mainFields: ['module', 'main'],
  banner: REQUIRE_SHIM,
  minify: true,
  sourcemap: true,
  // Stack traces only need the mappings; embedding the sources would double the bundle.
  sourcesContent: false,
  /**
   * The Node.js 22 runtime provides AWS SDK v3, so the bundles leave all of `@aws-sdk/*` (and the
   * `@smithy/*` packages it loads) to the runtime: bundling the DynamoDB, SQS, SFN, EventBridge and
   * Secrets Manager clients would add about 480 KB to every function and to its cold start. The price
   * is that a function runs with the runtime's SDK version, not the lock file's: Convoy calls only
   * long-stable operations (DynamoDB items, queries and transactions, SendMessage, StartExecution,
   * SendTaskSuccess, PutEvents, GetSecretValue), and takes every `@aws-sdk/*` package from the one
   * runtime, so they cannot disagree with each other.
   */
  external: ['@aws-sdk/*'],
  alias: {
    /** `import … from 'zod'` resolves to zod without its locales and compiler: see lib/bundling/zod-classic.js. */
    zod: join(REPO_ROOT, 'lib', 'bundling', 'zod.js'),
    /**
     * The same for the MCP SDK, which imports `zod/v4` (zod 4's classic API under its version path); without
     * this alias esbuild would look for `zod.js/v4`, since an alias also rewrites the subpaths of its name.
     */
    'zod/v4': join(REPO_ROOT, 'lib', 'bundling', 'zod.js'),
    /** The MCP SDK's Node shims without the AJV validator only elicitations use: see lib/bundling/mcp-shims.js. */
    '@modelcontextprotocol/server/_shims': join(REPO_ROOT, 'lib', 'bundling', 'mcp-shims.js'),
    /**
     * mime-db (137 KB minified: every MIME type there is) reaches the JIRA worker through jira.js → axios
     * → form-data → mime-types, which consults it only to name the type of a file part in a multipart
     * upload. Convoy uploads no files through axios (Slack charts go through @slack/web-api, which uses
     * Node's own FormData), so the bundles carry the entries of the few types a Convoy request could
     * have (lib/bundling/mime-db.json, copied from mime-db); an unknown type gets form-data's
     * application/octet-stream.
     */
    'mime-db': join(REPO_ROOT, 'lib', 'bundling', 'mime-db.json'),
  },
} as const;

/** The entry point of the function named `entryName`: `functions/handlers/<entryName>.ts`, exporting `handler`. */
export const entryOf = (entryName: string) => join(REPO_ROOT, 'functions', 'handlers', `${entryName}.ts`);

/** esbuild's options for bundling one function into `outfile` as CDK does (`esbuild --bundle entry …`). */
export function esbuildOptions(entryName: string, outfile: string) {
  const { banner, ...rest } = LAMBDA_BUNDLE;
  return {
    ...rest,
    mainFields: [...rest.mainFields],
    external: [...rest.external],
    alias: { ...rest.alias },
    entryPoints: [entryOf(entryName)],
    bundle: true,
    outfile,
    banner: { js: banner },
    absWorkingDir: REPO_ROOT,
    logLevel: 'warning' as const,
  };
}
