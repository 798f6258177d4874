import { Aspects, type Stack } from 'aws-cdk-lib';
import { ArtifactMetadataEntryType } from 'aws-cdk-lib/cloud-assembly-schema';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { NAG_CONTEXT_KEY, readNag } from '../../lib/convoy-app.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

const REGIONS = ['us-east-1', 'eu-west-1'];

/** One unsuppressed finding of the AwsSolutions pack: an error or warning annotation cdk-nag left on a resource. */
interface Finding {
  readonly level: 'error' | 'warning';
  readonly ruleId: string;
  readonly path: string;
  readonly message: string;
}

/** A resource of a synthesized template; the ones the tests read (policies, roles, functions) all have properties. */
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/**
 * Synthesizes the app, whose `convoy:nag` aspect runs cdk-nag, and collects the findings from the construct
 * tree. They are read there rather than with `Annotations.fromStack` because an error annotation fails
 * synthesis (the `annotationsInValidationReport` flag), and the test should say which resources failed.
 */
function synthesizeAndCollect(app: ReturnType<typeof buildTestApp>) {
  let assembly: CloudAssembly | undefined;
  let synthError: unknown;
  try {
    assembly = app.app.synth();
  } catch (error) {
    synthError = error;
  }
  const findings = new Map(
    app.stacks.map((stack) => [
      stack.stackName,
      stack.node.findAll().flatMap((construct) =>
        construct.node.metadata.flatMap(({ type, data }): Finding[] => {
          const level =
            type === ArtifactMetadataEntryType.ERROR
              ? 'error'
              : type === ArtifactMetadataEntryType.WARN
                ? 'warning'
                : undefined;
          const text = String(data);
          if (!level || !text.startsWith('AwsSolutions-')) return [];
          const separator = text.indexOf(': ');
          return [
            {
              level,
              ruleId: text.slice(0, separator),
              path: construct.node.path,
              message: text.slice(separator + 2),
            },
          ];
        }),
      ),
    ]),
  );
  return { assembly, findings, synthError };
}

function report(stackName: string, findings: readonly Finding[]): string {
  const lines = findings.map(
    ({ level, ruleId, path, message }) => `  ${level} ${ruleId}\n    at ${path}\n    ${message}`,
  );
  return `cdk-nag found ${findings.length} unsuppressed problem(s) in ${stackName}:\n${lines.join('\n')}`;
}

// The only actions the Resource "*" suppressions (IAM5) accept: none of them supports resource-level permissions.
const WILDCARD_RESOURCE_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

describe.each([
  { name: 'the default app', context: {} },
  {
    name: 'an app with a custom API domain',
    context: {
      'convoy:domainName': 'convoy.example.com',
      'convoy:certificateArn': {
        'us-east-1': 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
        'eu-west-1': 'arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000',
      },
    },
  },
])('cdk-nag AwsSolutions checks on $name, in us-east-1 and eu-west-1', ({ context }) => {
  let app: ReturnType<typeof buildTestApp>;
  let assembly: CloudAssembly | undefined;
  let findings: Map<string, Finding[]>;
  let synthError: unknown;

  beforeAll(() => {
    app = buildTestApp(REGIONS, { bundling: false, context: { ...context, [NAG_CONTEXT_KEY]: true } });
    ({ assembly, findings, synthError } = synthesizeAndCollect(app));
  }, SYNTH_TIMEOUT_MS);

  const resourcesOf = (stack: Stack) =>
    Object.entries(
      (assembly?.getStackByName(stack.stackName).template.Resources ?? {}) as Record<string, Resource>,
    );

  it('runs the AwsSolutions pack on the app when convoy:nag is on', () => {
    // Assess
    expect(Aspects.of(app.app).all.some((aspect) => aspect instanceof AwsSolutionsChecks)).toBe(true);
  });

  it.each(REGIONS)('leaves no unsuppressed error or warning in the %s stack', (region) => {
    // Act
    const stack = app.stacks.find((candidate) => candidate.region === region) as Stack;
    const found = findings.get(stack.stackName) ?? [];

    // Assess
    if (found.length > 0) console.error(report(stack.stackName, found));
    expect(found.map(({ level, ruleId, path }) => `${level} ${ruleId} at ${path}`)).toEqual([]);
  });

  it('synthesizes', () => {
    // Assess
    expect(synthError === undefined ? 'synthesized' : String(synthError).split('\n')[0]).toBe('synthesized');
  });

  it('suppresses findings on resources only, never a whole rule for a stack', () => {
    for (const stack of app.stacks) {
      // Assess
      expect(stack.templateOptions.metadata?.cdk_nag, stack.stackName).toBeUndefined();
    }
  });

  it('grants Resource "*" only for the X-Ray and log delivery actions the IAM5 suppressions name', () => {
    for (const stack of app.stacks) {
      // Act
      const wildcardActions = resourcesOf(stack)
        .filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')
        .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((statement) => [statement.Resource].flat().includes('*'))
        .flatMap((statement) => [statement.Action].flat());

      // Assess
      expect(wildcardActions.length, stack.stackName).toBeGreaterThan(0);
      expect(
        wildcardActions.filter((action) => !WILDCARD_RESOURCE_ACTIONS.has(action)),
        stack.stackName,
      ).toEqual([]);
    }
  });

  it("lets each function write logs to its own log group only, with no AWS managed policy (IAM4's fix)", () => {
    for (const stack of app.stacks) {
      // Prepare
      const resources = resourcesOf(stack);
      const functions = resources.filter(([, resource]) => resource.Type === 'AWS::Lambda::Function');

      for (const [id, fn] of functions) {
        // Act
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        const role = resources.find(([candidate]) => candidate === roleId)?.[1];
        const logStatements = resources
          .filter(
            ([, resource]) =>
              resource.Type === 'AWS::IAM::Policy' &&
              JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
          )
          .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
          .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('logs:')));

        // Assess
        expect(role?.Properties.ManagedPolicyArns, id).toBeUndefined();
        expect(logStatements, id).toEqual([
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
          },
        ]);
      }
    }
  });
});

describe('convoy:nag', () => {
  it('is on unless set to false, as a boolean or as a string from the command line', () => {
    // Assess
    expect([undefined, true, 'true', false, 'false'].map(readNag)).toEqual([true, true, true, false, false]);
  });

  it('refuses any other value, naming the context key', () => {
    // Assess
    for (const raw of ['no', 0, null, ['false']]) {
      expect(() => readNag(raw)).toThrow(/Invalid context "convoy:nag": must be true or false/);
    }
  });

  it('adds no cdk-nag aspect when it is false', () => {
    // Act
    const { app } = buildTestApp(['us-east-1'], { bundling: false, context: { [NAG_CONTEXT_KEY]: false } });

    // Assess
    expect(Aspects.of(app).all.some((aspect) => aspect instanceof AwsSolutionsChecks)).toBe(false);
  });
});
