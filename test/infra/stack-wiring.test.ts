import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AppFunction } from '../../lib/constructs/app-function.js';
import { ConvoyStack, type ConvoyStackProps } from '../../lib/convoy-stack.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

let stack: ConvoyStack;
let template: Template;

beforeAll(() => {
  const app = buildTestApp(['us-east-1'], { bundling: false });
  stack = app.stacks[0] as ConvoyStack;
  template = Template.fromStack(stack);
}, SYNTH_TIMEOUT_MS);

// Resolved, so an overridden id (the alarm topic's) is the one the template uses.
const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
  stack.resolve((construct.node.defaultChild as CfnElement).logicalId);

/** The actions the role of `fn` may take, with the resources they apply to. */
function actionsOf(fn: AppFunction): { action: string; resource: string }[] {
  const roleId = logicalId(fn.role as unknown as { node: { defaultChild?: unknown } });
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
    .flatMap((statement) =>
      [statement.Action].flat().map((action) => ({ action, resource: JSON.stringify(statement.Resource) })),
    );
}

describe('ConvoyStack wiring of gates and domain events', () => {
  it('starts the gate workflow from the rule on Phase Tasks Completed, through the gate-starter function', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['convoy'], 'detail-type': ['Phase Tasks Completed'] },
      Targets: [{ Arn: { 'Fn::GetAtt': [logicalId(stack.gateStarter), 'Arn'] } }],
    });
    const machine = logicalId(stack.workflows.phaseGate);
    for (const fn of [stack.gateStarter, stack.schedules.jobFunction])
      expect(actionsOf(fn)).toContainEqual({
        action: 'states:StartExecution',
        resource: expect.stringContaining(machine),
      });
  });

  it('lets the decision route and the Slack buttons resume a waiting gate, and the read API neither start nor resume', () => {
    // Act
    const write = actionsOf(stack.httpApi.functions['api-write']).map((entry) => entry.action);
    const slack = actionsOf(stack.httpApi.functions['slack-interactions']).map((entry) => entry.action);
    const read = actionsOf(stack.httpApi.functions['api-read']).map((entry) => entry.action);

    // Assess
    expect(write).toEqual(expect.arrayContaining(['states:StartExecution', 'states:SendTaskSuccess']));
    expect(slack).toContain('states:SendTaskSuccess');
    expect(slack).not.toContain('states:StartExecution');
    expect(read.filter((action) => action.startsWith('states:'))).toEqual([]);
  });

  it('delivers the domain events from the table stream through the publisher: inserted event items only, retried by halves, then to a failure queue', () => {
    // Prepare
    const publisher = stack.publisher;
    if (!publisher) throw new Error('the primary stack has no publisher');

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(publisher.function) },
      EventSourceArn: Match.anyValue(),
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      ParallelizationFactor: 1,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(publisher.failureQueue), 'Arn'] } },
      },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { Keys: { pk: { S: [{ prefix: 'DOMAINEVENT#' }] } } },
            }),
          },
        ],
      },
    });
    const actions = actionsOf(publisher.function).map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining(['events:PutEvents', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']),
    );
    // The monitor no longer starts gates: no "Phase Tasks Completed" is lost.
    expect(actionsOf(stack.schedules.monitorFunction).map((entry) => entry.action)).not.toContain(
      'states:StartExecution',
    );
  });

  it('lets the functions that change state publish to the Convoy bus, and not the read API', () => {
    // Act
    const publishers = [
      stack.httpApi.functions['api-write'],
      stack.schedules.monitorFunction,
      stack.workflows.gateStep,
      stack.integrations.githubWorker,
    ];

    // Assess
    for (const fn of publishers)
      expect(actionsOf(fn).map((entry) => entry.action)).toContain('events:PutEvents');
    expect(actionsOf(stack.httpApi.functions['api-read']).map((entry) => entry.action)).not.toContain(
      'events:PutEvents',
    );
  });

  it('keeps the convoy-alarms topic and its policy under their first logical ids, so a deploy keeps the topic and its subscriptions', () => {
    // Act
    const topics = template.findResources('AWS::SNS::Topic', { Properties: { TopicName: 'convoy-alarms' } });
    const policies = template.findResources('AWS::SNS::TopicPolicy');

    // Assess
    expect(Object.keys(topics)).toEqual(['IntegrationsAlarmTopic79C268EB']);
    expect(Object.keys(policies)).toEqual(['IntegrationsAlarmTopicPolicy8F166382']);
  });

  it('alarms on a failed phase-gate execution', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      AlarmActions: [{ Ref: logicalId(stack.alarms.topic) }],
    });
  });
});

describe('ConvoyStack regions', () => {
  const stackIn = (props: Omit<ConvoyStackProps, 'env'> & { region?: string }) => () =>
    new ConvoyStack(new App({ context: { [BUNDLING_STACKS]: [] } }), 'Convoy', {
      ...props,
      ...(props.region ? { env: { region: props.region } } : {}),
    });

  it('refuses a stack without an explicit region, since the table has a replica per region', () => {
    // Assess
    expect(stackIn({})).toThrow('ConvoyStack Convoy needs an explicit env.region');
  });

  it('refuses a primary region listed among the replicas', () => {
    // Assess
    expect(stackIn({ region: 'us-east-1', replicaRegions: ['us-east-1'] })).toThrow(
      'replicaRegions must not contain the primary region us-east-1',
    );
  });

  it('refuses an active region or a stack region that is neither the primary nor a replica', () => {
    // Assess
    expect(
      stackIn({ region: 'us-east-1', replicaRegions: ['eu-west-1'], activeRegion: 'ap-south-1' }),
    ).toThrow(
      'activeRegion ap-south-1 is neither the primary region (us-east-1) nor a replica region (eu-west-1)',
    );
    expect(
      stackIn({ region: 'ap-south-1', primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'] }),
    ).toThrow(
      'ConvoyStack Convoy is in ap-south-1, which is neither the primary region (us-east-1) nor a replica region (eu-west-1)',
    );
  });
});
