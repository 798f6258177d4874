import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, AspectPriority, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { formatPlanError, type Plan, parsePlan } from '../functions/core/plan/index.js';
import { ConvoyStack } from './convoy-stack.js';

/** Context key listing the regions to deploy to; the first one is the primary. */
export const REGIONS_CONTEXT_KEY = 'convoy:regions';

/**
 * Context key of the HTTP API's custom domain name, such as `convoy.example.com`: the same name in every
 * region, so DNS (latency-based or failover records) can send clients to any of them through each stack's
 * `ApiDomainTarget` output. Requires {@link CERTIFICATE_ARN_CONTEXT_KEY}.
 * Default: no custom domain; the API is reached at each region's execute-api URL (`ApiUrl` output).
 */
export const DOMAIN_NAME_CONTEXT_KEY = 'convoy:domainName';

/**
 * Context key of the ACM certificate for {@link DOMAIN_NAME_CONTEXT_KEY}. ACM certificates are regional,
 * so the value is either one ARN, for a single-region app, or an object giving each region's certificate:
 * `{"us-east-1": "arn:aws:acm:us-east-1:…", "eu-west-1": "arn:aws:acm:eu-west-1:…"}` (on the command line,
 * the same object as a JSON string). Requires {@link DOMAIN_NAME_CONTEXT_KEY}. Default: no custom domain.
 */
export const CERTIFICATE_ARN_CONTEXT_KEY = 'convoy:certificateArn';

/**
 * Context key of the active region: one of `convoy:regions`. Only its stack runs anything on a schedule: the
 * plans' scheduled jobs, the monitors and the JIRA outbox drain. They all work on the global table, so the
 * other regions keep their schedules disabled, ready to take over; two active regions would post every standup
 * and send every JIRA command twice. The API and webhooks serve in every region. docs/operations.md says how
 * to move it without a moment with two active regions. Default: the primary region.
 */
export const ACTIVE_REGION_CONTEXT_KEY = 'convoy:activeRegion';

/**
 * Context key of JIRA's request budget per site, per minute, which the functions that talk to JIRA share.
 * Default: 100, JIRA Cloud's documented budget.
 */
export const JIRA_REQUESTS_PER_MINUTE_CONTEXT_KEY = 'convoy:jiraRequestsPerMinute';

/**
 * Context key listing the plan files whose schedules the stacks run, relative to the app's directory (where
 * cdk.json is): `["examples/sprint-20-23.yaml"]`, or on the command line the same array as a JSON string, or
 * one path. Each is parsed at synth time; an invalid plan fails synth with its problems. Default: none.
 */
export const PLANS_CONTEXT_KEY = 'convoy:plans';

/**
 * Context key switching cdk-nag's AwsSolutions checks on or off: `true` or `false`, or the same as a string
 * from the command line (`-c convoy:nag=false`). When on, every stack is checked during synthesis and an
 * unsuppressed finding is an error annotation, which fails `cdk synth` and `cdk deploy`; the accepted ones are
 * suppressed, with their reasons, in the constructs that own them (docs/architecture.md lists them).
 * Default: on.
 */
export const NAG_CONTEXT_KEY = 'convoy:nag';

/** The directory of the CDK app, which relative paths in {@link PLANS_CONTEXT_KEY} start from. */
const APP_ROOT = fileURLToPath(new URL('../', import.meta.url));

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
 * The HTTP API gets a custom domain when `convoy:domainName` and `convoy:certificateArn` are set. Every stack
 * has the schedules of the plans listed in `convoy:plans`; they, the monitors and the JIRA outbox drain are
 * enabled in the `convoy:activeRegion` region only (default: the primary). Unless `convoy:nag` is false, cdk-nag's
 * AwsSolutions checks run on every stack during synthesis, and an unsuppressed finding fails it.
 *
 * @throws Error when `convoy:regions` is not a non-empty array of unique region names, when the
 * custom domain settings are incomplete or invalid, when `convoy:activeRegion` is not one of the regions,
 * when `convoy:jiraRequestsPerMinute` is not a whole number of at least 1, when `convoy:plans` is not a
 * list of readable, valid plan files with distinct project ids, or when `convoy:nag` is not true or false.
 */
export function buildConvoyApp(app: App): ConvoyApp {
  const [primaryRegion, ...replicaRegions] = readRegions(app.node.tryGetContext(REGIONS_CONTEXT_KEY));
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const domainName = app.node.tryGetContext(DOMAIN_NAME_CONTEXT_KEY);
  const certificateArn = app.node.tryGetContext(CERTIFICATE_ARN_CONTEXT_KEY);
  // Every region's settings are checked before any stack is built, so a bad value fails fast.
  const domains = new Map(
    [primaryRegion, ...replicaRegions].map((region) => [
      region,
      readApiDomain(domainName, certificateArn, region),
    ]),
  );
  const activeRegion = readActiveRegion(app.node.tryGetContext(ACTIVE_REGION_CONTEXT_KEY), [
    primaryRegion,
    ...replicaRegions,
  ]);
  const jiraRequestsPerMinute = readJiraRequestsPerMinute(
    app.node.tryGetContext(JIRA_REQUESTS_PER_MINUTE_CONTEXT_KEY),
  );
  const plans = readPlans(app.node.tryGetContext(PLANS_CONTEXT_KEY));
  if (readNag(app.node.tryGetContext(NAG_CONTEXT_KEY))) {
    // Read-only priority: the checks run after every aspect that changes resources, such as Tags.
    Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }), { priority: AspectPriority.READONLY });
  }
  const shared = { primaryRegion, replicaRegions, activeRegion, jiraRequestsPerMinute, plans };
  const apiDomain = (region: string) => ({
    apiDomainName: domains.get(region)?.domainName,
    apiCertificateArn: domains.get(region)?.certificateArn,
  });

  const primary = new ConvoyStack(app, stackId(primaryRegion), {
    env: { account, region: primaryRegion },
    ...shared,
    ...apiDomain(primaryRegion),
  });
  const secondaries = replicaRegions.map((region) => {
    const stack = new ConvoyStack(app, stackId(region), {
      env: { account, region },
      ...shared,
      ...apiDomain(region),
    });
    stack.addStackDependency(
      primary,
      'the primary stack creates the global state table, the integrations secret and their replicas',
    );
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
  const value =
    typeof raw === 'string'
      ? parseJson(raw, (text, cause) =>
          regionsError(`must be a JSON array of region names, got the string ${text}`, cause),
        )
      : raw;
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

/**
 * Validates the raw `convoy:nag` context value, a boolean or (from the command line) `"true"` or `"false"`;
 * true when it is not set.
 */
export function readNag(raw: unknown): boolean {
  if (raw === undefined || raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(
    `Invalid context "${NAG_CONTEXT_KEY}": must be true or false, got ${describeValue(raw)} ` +
      `(e.g. -c ${NAG_CONTEXT_KEY}=false)`,
  );
}

/**
 * Validates the raw `convoy:activeRegion` context value against the configured regions; the primary
 * (first) region when it is not set.
 */
export function readActiveRegion(raw: unknown, regions: readonly [string, ...string[]]): string {
  if (raw === undefined) {
    return regions[0];
  }
  if (typeof raw !== 'string' || !regions.includes(raw)) {
    throw new Error(
      `Invalid context "${ACTIVE_REGION_CONTEXT_KEY}": must be one of the regions in "${REGIONS_CONTEXT_KEY}" ` +
        `(${regions.join(', ')}), got ${describeValue(raw)}`,
    );
  }
  return raw;
}

/**
 * Validates the raw `convoy:jiraRequestsPerMinute` context value, a number or (from the command line)
 * a numeric string; undefined when it is not set.
 */
export function readJiraRequestsPerMinute(raw: unknown): number | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(
      `Invalid context "${JIRA_REQUESTS_PER_MINUTE_CONTEXT_KEY}": must be a whole number of at least 1, ` +
        `got ${describeValue(raw)} (e.g. -c ${JIRA_REQUESTS_PER_MINUTE_CONTEXT_KEY}=100)`,
    );
  }
  return value;
}

/**
 * Reads and validates the plans named by the raw `convoy:plans` context value: an array of paths, a JSON
 * array of paths as a string (from the command line), or one path. Relative paths start at the app's
 * directory, `root`.
 */
export function readPlans(raw: unknown, root: string = APP_ROOT): Plan[] {
  if (raw === undefined) {
    return [];
  }
  const value =
    typeof raw === 'string' && raw.trimStart().startsWith('[')
      ? parseJson(raw, (text, cause) =>
          plansError(`must be a JSON array of plan file paths, got the string ${text}`, cause),
        )
      : typeof raw === 'string'
        ? [raw]
        : raw;
  if (!Array.isArray(value)) {
    throw plansError(`must be an array of plan file paths, got ${describeValue(value)}`);
  }
  const plans = value.map((path: unknown, index) => {
    if (typeof path !== 'string' || path.trim() === '') {
      throw plansError(`entry ${index} is not a file path: ${describeValue(path)}`);
    }
    let text: string;
    try {
      text = readFileSync(isAbsolute(path) ? path : resolve(root, path), 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw plansError(
        `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (cause as Error).message}`,
        cause,
      );
    }
    const result = parsePlan(text, { file: path });
    if (!result.ok) {
      const problems = result.errors.map((error) => `  ${formatPlanError(error)}`).join('\n');
      throw new Error(
        `Invalid plan in context "${PLANS_CONTEXT_KEY}": ${path} has ${result.errors.length} ` +
          `problem${result.errors.length === 1 ? '' : 's'} (run convoy validate ${path}):\n${problems}`,
      );
    }
    return result.plan;
  });
  const ids = plans.map((plan) => plan.project.id);
  const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
  if (repeated.length > 0) {
    throw plansError(
      `names two plans of project ${[...new Set(repeated)].join(', ')}; project ids must differ`,
    );
  }
  return plans;
}

function plansError(problem: string, cause?: unknown): Error {
  const example = `e.g. -c '${PLANS_CONTEXT_KEY}=["examples/sprint-20-23.yaml"]'`;
  return new Error(`Invalid context "${PLANS_CONTEXT_KEY}": ${problem} (${example})`, { cause });
}

/** The HTTP API's custom domain in one region. */
export interface ApiDomain {
  readonly domainName: string;
  readonly certificateArn: string;
}

/**
 * Validates the raw `convoy:domainName` and `convoy:certificateArn` context values and picks the
 * certificate of `region`; undefined when neither is set.
 */
export function readApiDomain(
  rawDomainName: unknown,
  rawCertificateArn: unknown,
  region: string,
): ApiDomain | undefined {
  if (rawDomainName === undefined && rawCertificateArn === undefined) {
    return undefined;
  }
  if (rawDomainName === undefined || rawCertificateArn === undefined) {
    const [given, missing] =
      rawDomainName === undefined
        ? [CERTIFICATE_ARN_CONTEXT_KEY, DOMAIN_NAME_CONTEXT_KEY]
        : [DOMAIN_NAME_CONTEXT_KEY, CERTIFICATE_ARN_CONTEXT_KEY];
    throw new Error(
      `Invalid context: "${given}" is set but "${missing}" is not; a custom domain for the API needs both, ` +
        `e.g. -c ${DOMAIN_NAME_CONTEXT_KEY}=convoy.example.com -c ${CERTIFICATE_ARN_CONTEXT_KEY}=arn:aws:acm:…`,
    );
  }
  if (typeof rawDomainName !== 'string' || rawDomainName === '') {
    throw new Error(
      `Invalid context "${DOMAIN_NAME_CONTEXT_KEY}": must be a domain name like "convoy.example.com", ` +
        `got ${describeValue(rawDomainName)}`,
    );
  }
  return { domainName: rawDomainName, certificateArn: certificateArnFor(rawCertificateArn, region) };
}

function certificateArnFor(raw: unknown, region: string): string {
  const value =
    typeof raw === 'string' && raw.trimStart().startsWith('{')
      ? parseJson(raw, (text, cause) =>
          certificateError(`must be an ARN or a JSON object, got the string ${text}`, cause),
        )
      : raw;
  if (typeof value === 'string' && value !== '') {
    return value;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw certificateError(
      `must be an ACM certificate ARN or an object of ARNs by region, got ${describeValue(value)}`,
    );
  }
  const arn = (value as Record<string, unknown>)[region];
  if (typeof arn !== 'string' || arn === '') {
    throw certificateError(`has no certificate ARN for region ${region}, got ${describeValue(arn)}`);
  }
  return arn;
}

function certificateError(problem: string, cause?: unknown): Error {
  const example = `e.g. -c '${CERTIFICATE_ARN_CONTEXT_KEY}={"us-east-1":"arn:aws:acm:us-east-1:…"}'`;
  return new Error(`Invalid context "${CERTIFICATE_ARN_CONTEXT_KEY}": ${problem} (${example})`, { cause });
}

function parseJson(text: string, error: (quoted: string, cause: unknown) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw error(JSON.stringify(text), cause);
  }
}

function regionsError(problem: string, cause?: unknown): Error {
  const example = `e.g. -c '${REGIONS_CONTEXT_KEY}=["us-east-1","eu-west-1"]'`;
  return new Error(`Invalid context "${REGIONS_CONTEXT_KEY}": ${problem} (${example})`, { cause });
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${JSON.stringify(value)}`;
}

function stackId(region: string): string {
  return `Convoy-${region}`;
}
