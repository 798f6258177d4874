import type { App } from 'aws-cdk-lib';
import { ConvoyStack } from './convoy-stack.js';

/** Context key listing the regions to deploy to; the first one is the primary. */
export const REGIONS_CONTEXT_KEY = 'convoy:regions';

/** Regions used when {@link REGIONS_CONTEXT_KEY} is not set. */
export const DEFAULT_REGIONS: readonly [primary: string, ...replicas: string[]] = ['us-east-1'];

// Shape of commercial, GovCloud, China and ISO region names (us-east-1, us-gov-west-1, us-isob-east-1).
const REGION_NAME = /^[a-z]{2}(-[a-z]+){1,2}-\d{1,2}$/;

/** The stacks of a Convoy app, one per configured region. */
export interface ConvoyApp {
  /** The stack in the primary region, which owns the state table. */
  readonly primary: ConvoyStack;
  /** Every stack, primary first, in the order the regions were configured. */
  readonly stacks: readonly ConvoyStack[];
}

/**
 * Adds one {@link ConvoyStack} per region listed in the `convoy:regions` context
 * (default `["us-east-1"]`) to `app`. Stacks in replica regions depend on the primary
 * one, so a deployment creates the global table before anything uses its replicas.
 *
 * @throws Error when `convoy:regions` is not a non-empty array of unique region names.
 */
export function buildConvoyApp(app: App): ConvoyApp {
  const [primaryRegion, ...replicaRegions] = readRegions(app.node.tryGetContext(REGIONS_CONTEXT_KEY));
  const account = process.env.CDK_DEFAULT_ACCOUNT;

  const primary = new ConvoyStack(app, stackId(primaryRegion), {
    env: { account, region: primaryRegion },
    primaryRegion,
    replicaRegions,
  });
  const secondaries = replicaRegions.map((region) => {
    const stack = new ConvoyStack(app, stackId(region), {
      env: { account, region },
      primaryRegion,
      replicaRegions,
    });
    stack.addStackDependency(primary, 'the primary stack creates the global state table and its replicas');
    return stack;
  });

  return { primary, stacks: [primary, ...secondaries] };
}

/**
 * Validates the raw `convoy:regions` context value. Values given on the command line
 * (`cdk synth -c 'convoy:regions=["us-east-1","eu-west-1"]'`) arrive as strings, so a
 * string is parsed as JSON first.
 */
export function readRegions(raw: unknown): [primary: string, ...replicas: string[]] {
  if (raw === undefined) {
    return [...DEFAULT_REGIONS];
  }
  const value = typeof raw === 'string' ? parseJson(raw) : raw;
  if (!Array.isArray(value)) {
    throw regionsError(`must be an array of region names, got ${describeValue(value)}`);
  }
  if (value.length === 0) {
    throw regionsError('must list at least one region, got an empty array');
  }
  value.forEach((region: unknown, index) => {
    if (typeof region !== 'string' || !REGION_NAME.test(region)) {
      throw regionsError(`entry ${index} is not a region name like "us-east-1": ${describeValue(region)}`);
    }
  });
  const regions = value as [string, ...string[]];
  const duplicates = regions.filter((region, index) => regions.indexOf(region) !== index);
  if (duplicates.length > 0) {
    throw regionsError(
      `lists ${[...new Set(duplicates)].join(', ')} more than once; each region may appear once`,
    );
  }
  return regions;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw regionsError(`must be a JSON array of region names, got the string ${JSON.stringify(text)}`, cause);
  }
}

function regionsError(problem: string, cause?: unknown): Error {
  const example = `e.g. -c '${REGIONS_CONTEXT_KEY}=["us-east-1","eu-west-1"]'`;
  return new Error(`Invalid context "${REGIONS_CONTEXT_KEY}": ${problem} (${example})`, { cause });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${JSON.stringify(value)}`;
}

function stackId(region: string): string {
  return `Convoy-${region}`;
}
