import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { buildConvoyApp, type ConvoyApp, REGIONS_CONTEXT_KEY } from '../../lib/convoy-app.js';
import { tempDir } from '../support/temp.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};

// CDK reuses a bundled asset only within one output directory, so every app a test file builds
// shares one: the functions are bundled once per test file instead of once per app. Apps are
// synthesized one at a time, so they never write to it concurrently.
const OUTDIR = tempDir('convoy-infra-test-');

/**
 * Timeout for a hook that builds and synthesizes an app. Building one bundles every Lambda function
 * with esbuild (through npx), which takes seconds, more on a busy two-core CI machine than vitest's
 * default 10 s hook timeout allows.
 */
export const SYNTH_TIMEOUT_MS = 300_000;

/** Options of {@link buildTestApp}. */
export interface TestAppOptions {
  /** Context set over cdk.json's, e.g. the API's custom domain. */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Whether Lambda code is bundled, as `cdk synth` does. Tests that do not look at functions turn it
   * off to save the esbuild runs; CDK then stages a placeholder with a hash of the construct path.
   */
  readonly bundling?: boolean;
}

/**
 * Builds the Convoy app the way `cdk synth` does: with cdk.json's context (feature flags
 * included, so tests see the same templates), `convoy:regions` replaced by `regions`, or
 * removed when `regions` is undefined, `options.context` on top, and with the CDKMetadata
 * resource the CLI adds by default. Every app of the process synthesizes into the same
 * temporary directory.
 */
export function buildTestApp(
  regions?: unknown,
  { context: extraContext = {}, bundling = true }: TestAppOptions = {},
): ConvoyApp & { readonly app: App } {
  const { [REGIONS_CONTEXT_KEY]: _configured, ...context } = cdkJson.context ?? {};
  const app = new App({
    outdir: OUTDIR,
    analyticsReporting: true,
    context: {
      ...context,
      ...(regions === undefined ? {} : { [REGIONS_CONTEXT_KEY]: regions }),
      ...(bundling ? {} : { [BUNDLING_STACKS]: [] }),
      ...extraContext,
    },
  });
  return { app, ...buildConvoyApp(app) };
}
