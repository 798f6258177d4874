import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { buildConvoyApp, type ConvoyApp, REGIONS_CONTEXT_KEY } from '../../lib/convoy-app.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};

/**
 * Builds the Convoy app the way `cdk synth` does: with cdk.json's context (feature flags
 * included, so tests see the same templates), `convoy:regions` replaced by `regions`, or
 * removed when `regions` is undefined, and with the CDKMetadata resource the CLI adds by
 * default (until secondary stacks own resources, it is all their templates contain, and the
 * CloudFormation validation enabled in cdk.json rejects a template without resources).
 */
export function buildTestApp(regions?: unknown): ConvoyApp & { readonly app: App } {
  const { [REGIONS_CONTEXT_KEY]: _configured, ...context } = cdkJson.context ?? {};
  const app = new App({
    analyticsReporting: true,
    context: regions === undefined ? context : { ...context, [REGIONS_CONTEXT_KEY]: regions },
  });
  return { app, ...buildConvoyApp(app) };
}
