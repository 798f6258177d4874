import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATE_STEP_FUNCTION_ARN_SUBSTITUTION } from '../../functions/adapters/stepfunctions/definitions.js';
import { GATE_STATE_MACHINE_ARN_ENV } from '../../functions/handlers/env-names.js';
import { AppFunction } from '../../lib/constructs/app-function.js';
import { ConvoyWorkflows, PHASE_GATE_DEFINITION_PATH } from '../../lib/constructs/workflows.js';
import { tempDir } from '../support/temp.js';
import { SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
}

interface Policy {
  readonly Properties: {
    readonly Roles: { Ref: string }[];
    readonly PolicyDocument: { Statement: Statement[] };
  };
}

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/**
 * A small stack holding the construct, a table for it, and two functions bound to it: the stack's
 * template and its synthesized assembly (to read the staged definition file).
 */
function buildWorkflowsStack() {
  const outdir = tempDir('convoy-workflows-test-');
  // cdk.json's feature flags, as `cdk synth` uses them; Lambda code is not bundled (these tests read no code).
  const app = new App({ outdir, context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
  const stack = new Stack(app, 'WorkflowsTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const table = new TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const workflows = new ConvoyWorkflows(stack, 'Workflows', { table });
  const api = new AppFunction(stack, 'Api', { entryName: 'health' });
  workflows.bindGateWorkflow(api, 'start-and-decide');
  const slack = new AppFunction(stack, 'Slack', { entryName: 'health' });
  workflows.bindGateWorkflow(slack, 'decide');
  const assembly = app.synth();
  return { stack, workflows, api, slack, template: Template.fromStack(stack), assembly };
}

describe('ConvoyWorkflows', () => {
  let built: ReturnType<typeof buildWorkflowsStack>;
  let template: Template;
  let ids: { stateMachine: string; gateStep: string; stateMachineRole: string };

  beforeAll(() => {
    built = buildWorkflowsStack();
    template = built.template;
    const { stack, workflows } = built;
    const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as CfnElement);
    ids = {
      stateMachine: logicalId(workflows.phaseGate),
      gateStep: logicalId(workflows.gateStep),
      stateMachineRole: logicalId(workflows.phaseGate.role),
    };
  }, SYNTH_TIMEOUT_MS);

  it('deploys the phase gate as a STANDARD state machine that logs ALL with execution data and traces', () => {
    // Assess
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: {
                'Fn::GetAtt': [Match.stringLikeRegexp('^WorkflowsPhaseGateLogGroup'), 'Arn'],
              },
            },
          },
        ],
      },
    });
  });

  it('keeps the execution logs a month in a /aws/vendedlogs/states/ log group when no retention is given', () => {
    // Assess
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/.+-phase-gate$'),
      RetentionInDays: 30,
    });
  });

  it('loads the definition from the ASL file and substitutes the gate-step function ARN', () => {
    // Prepare
    const resource = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: {
        DefinitionS3Location: { Key: string };
        DefinitionSubstitutions: Record<string, unknown>;
        DefinitionString?: unknown;
      };
    };
    const { DefinitionS3Location, DefinitionSubstitutions, DefinitionString } = resource.Properties;
    // The stack's asset manifest says which staged file is published under the definition's S3 key.
    const manifest = JSON.parse(
      readFileSync(join(built.assembly.directory, `${built.stack.artifactId}.assets.json`), 'utf8'),
    ) as {
      files: Record<
        string,
        { source: { path: string; packaging: string }; destinations: Record<string, { objectKey: string }> }
      >;
    };
    const staged = Object.values(manifest.files).find((file) =>
      Object.values(file.destinations).some(
        (destination) => destination.objectKey === DefinitionS3Location.Key,
      ),
    )?.source;

    // Act
    const stagedText = readFileSync(join(built.assembly.directory, staged?.path ?? 'missing'), 'utf8');
    const substituted = stagedText.replace(/\$\{([^}]*)\}/g, (_match, name: string) =>
      name in DefinitionSubstitutions ? `<substituted ${name}>` : `\${${name}}`,
    );
    const definition = JSON.parse(substituted) as {
      States: Record<string, { Type: string; Parameters?: { FunctionName?: string } }>;
    };
    const functionNames = Object.values(definition.States)
      .filter((state) => state.Type === 'Task')
      .map((state) => state.Parameters?.FunctionName);

    // Assess
    expect(DefinitionString).toBeUndefined();
    expect(staged?.packaging).toBe('file');
    expect(stagedText).toBe(readFileSync(PHASE_GATE_DEFINITION_PATH, 'utf8'));
    expect(DefinitionSubstitutions).toEqual({
      [GATE_STEP_FUNCTION_ARN_SUBSTITUTION]: { 'Fn::GetAtt': [ids.gateStep, 'Arn'] },
    });
    expect(substituted).not.toContain('${');
    expect(functionNames.length).toBeGreaterThan(0);
    expect(new Set(functionNames)).toEqual(new Set([`<substituted ${GATE_STEP_FUNCTION_ARN_SUBSTITUTION}>`]));
  });

  it('lets the state machine invoke the gate-step function and no other function', () => {
    // Prepare
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Policy[];
    const invokeStatements = policies.flatMap((policy) =>
      policy.Properties.PolicyDocument.Statement.filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('lambda:')),
      ).map((statement) => ({ roles: policy.Properties.Roles, statement })),
    );
    const gateStepArn = { 'Fn::GetAtt': [ids.gateStep, 'Arn'] };

    // Assess
    expect(invokeStatements).toHaveLength(1);
    const [{ roles, statement }] = invokeStatements as [(typeof invokeStatements)[number]];
    expect(roles).toEqual([{ Ref: ids.stateMachineRole }]);
    expect(statement.Effect).toBe('Allow');
    expect(actionsOf(statement)).toEqual(['lambda:InvokeFunction']);
    expect(asArray(statement.Resource)).toEqual([gateStepArn, { 'Fn::Join': ['', [gateStepArn, ':*']] }]);
  });

  it('gives the state machine role nothing but the invoke, log delivery and X-Ray permissions', () => {
    // Prepare
    const policies = (Object.values(template.findResources('AWS::IAM::Policy')) as Policy[]).filter(
      (policy) => policy.Properties.Roles.some((role) => role.Ref === ids.stateMachineRole),
    );
    const actions = policies.flatMap((policy) =>
      policy.Properties.PolicyDocument.Statement.flatMap(actionsOf),
    );

    // Assess
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(action).toMatch(/^(lambda:InvokeFunction|logs:[A-Za-z]+|xray:[A-Za-z]+)$/);
    }
    expect(actions).toContain('logs:CreateLogDelivery');
    expect(actions).toContain('xray:PutTraceSegments');
  });

  it('deploys the gate step as a traced Node.js 22 function with the table and a 30 s timeout', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('phase-gate workflow'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ CONVOY_TABLE_NAME: Match.anyValue() }) },
    });
  });

  it('lets a function bound to start and decide do both on this state machine only, and tells it the ARN', () => {
    // Prepare
    const stateMachineRef = { Ref: ids.stateMachine };
    const apiRole = built.stack.getLogicalId(built.api.role?.node.defaultChild as CfnElement);
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Policy[])
      .filter((policy) => policy.Properties.Roles.some((role) => role.Ref === apiRole))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => actionsOf(statement).some((action) => action.startsWith('states:')));

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [apiRole, 'Arn'] },
      Environment: { Variables: Match.objectLike({ [GATE_STATE_MACHINE_ARN_ENV]: stateMachineRef }) },
    });
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
      'states:StartExecution',
    ]);
    for (const statement of statements) expect(asArray(statement.Resource)).toEqual([stateMachineRef]);
  });

  it('does not let a function bound to decide start executions', () => {
    // Prepare
    const slackRole = built.stack.getLogicalId(built.slack.role?.node.defaultChild as CfnElement);
    const policies = (Object.values(template.findResources('AWS::IAM::Policy')) as Policy[]).filter(
      (policy) => policy.Properties.Roles.some((role) => role.Ref === slackRole),
    );
    const actions = policies.flatMap((policy) =>
      policy.Properties.PolicyDocument.Statement.flatMap(actionsOf),
    );

    // Assess
    expect(actions).toContain('states:SendTaskSuccess');
    expect(actions).not.toContain('states:StartExecution');
  });
});
