import { readFileSync } from 'node:fs';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_BUS_NAME_ENV } from '../../functions/handlers/env-names.js';
import { ConvoyAlarms } from '../../lib/constructs/alarms.js';
import { AppFunction } from '../../lib/constructs/app-function.js';
import { type ConvoyEventRule, ConvoyEvents } from '../../lib/constructs/events.js';
import { tempDir } from '../support/temp.js';
import { SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};

interface Statement {
  readonly Sid?: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

interface Policy {
  readonly Properties: {
    readonly Roles: { Ref: string }[];
    readonly PolicyDocument: { Statement: Statement[] };
  };
}

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/**
 * A small stack with the construct, a function that publishes, the function that starts the gate (the
 * rule's target) and an alarm topic. Lambda code is not bundled: these tests read no code.
 */
function buildEventsStack(props: ConstructorParameters<typeof ConvoyEvents>[2] = {}) {
  const outdir = tempDir('convoy-events-test-');
  const app = new App({ outdir, context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
  const stack = new Stack(app, 'EventsTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarms = new ConvoyAlarms(stack, 'Alarms');
  const events = new ConvoyEvents(stack, 'Events', { alarms, ...props });
  const publisher = new AppFunction(stack, 'Publisher', { entryName: 'health' });
  events.grantPublish(publisher);
  const bystander = new AppFunction(stack, 'Bystander', { entryName: 'health' });
  const gateStarter = new AppFunction(stack, 'GateStarter', { entryName: 'health' });
  const phaseRule = events.onPhaseTasksCompleted(gateStarter);
  return {
    stack,
    events,
    alarmTopic: alarms.topic,
    publisher,
    bystander,
    gateStarter,
    phaseRule,
    template: Template.fromStack(stack),
  };
}

describe('ConvoyEvents', () => {
  let built: ReturnType<typeof buildEventsStack>;
  let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    built.stack.getLogicalId(construct.node.defaultChild as CfnElement);

  beforeAll(() => {
    built = buildEventsStack();
    resources = built.template.toJSON().Resources;
  }, SYNTH_TIMEOUT_MS);

  it('creates the convoy event bus', () => {
    // Assess
    built.template.resourceCountIs('AWS::Events::EventBus', 1);
    built.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'convoy' });
  });

  it('archives every Convoy event on the bus for 90 days, under a name replays can use', () => {
    // Assess
    built.template.resourceCountIs('AWS::Events::Archive', 1);
    built.template.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: 'convoy-archive',
      SourceArn: { 'Fn::GetAtt': [logicalId(built.events.bus), 'Arn'] },
      EventPattern: { source: ['convoy'] },
      RetentionDays: 90,
    });
  });

  it('starts the phase gate from a rule on Phase Tasks Completed events of this bus', () => {
    // Assess
    built.template.resourceCountIs('AWS::Events::Rule', 1);
    built.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(built.events.bus) },
      EventPattern: { source: ['convoy'], 'detail-type': ['Phase Tasks Completed'] },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(built.gateStarter), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(built.phaseRule.deadLetterQueue), 'Arn'] } },
        }),
      ],
    });
  });

  it('lets EventBridge invoke the target for this rule only', () => {
    // Assess
    built.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [logicalId(built.gateStarter), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(built.phaseRule.rule), 'Arn'] },
    });
  });

  it('gives the rule an encrypted, TLS-only dead-letter queue that only the rule may send to', () => {
    // Prepare
    const queueId = logicalId(built.phaseRule.deadLetterQueue);
    const queue = resources[queueId];
    const policy = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::SQS::QueuePolicy' &&
        JSON.stringify(resource.Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
    );
    if (!policy) throw new Error(`no queue policy for ${queueId}`);
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

    // Assess
    expect(queue?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(built.phaseRule.rule), 'Arn'] } },
        },
      }),
    );
  });

  it('alarms on the alarm topic when the dead-letter queue holds an event', () => {
    // Assess
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(built.phaseRule.deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [built.stack.resolve(built.alarmTopic.topicArn)],
      OKActions: [built.stack.resolve(built.alarmTopic.topicArn)],
    });
    expect(built.phaseRule.deadLetterAlarm).toBeDefined();
  });

  it('lets a publishing function put events with source convoy on this bus only, and tells it the bus name', () => {
    // Prepare
    const roleId = built.stack.getLogicalId(built.publisher.role?.node.defaultChild as CfnElement);
    const statements = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .map((resource) => resource as unknown as Policy)
      .filter((policy) => policy.Properties.Roles.some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => actionsOf(statement).some((action) => action.startsWith('events:')));

    // Assess
    expect(statements).toEqual([
      {
        Action: 'events:PutEvents',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(built.events.bus), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'events:source': ['convoy'] } },
      },
    ]);
    const fn = resources[logicalId(built.publisher)];
    expect(fn?.Properties).toMatchObject({
      Environment: { Variables: { [EVENT_BUS_NAME_ENV]: { Ref: logicalId(built.events.bus) } } },
    });
  });

  it('grants nothing on the bus to functions that do not publish', () => {
    // Prepare
    const roleIds = [built.bystander, built.gateStarter].map((fn) =>
      built.stack.getLogicalId(fn.role?.node.defaultChild as CfnElement),
    );
    const granted = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .map((resource) => resource as unknown as Policy)
      .filter((policy) => policy.Properties.Roles.some((role) => roleIds.includes(role.Ref)))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('events:'));

    // Assess
    expect(granted).toEqual([]);
    for (const fn of [built.bystander, built.gateStarter]) {
      expect(resources[logicalId(fn)]?.Properties.Environment).not.toHaveProperty(
        `Variables.${EVENT_BUS_NAME_ENV}`,
      );
    }
  });
});

describe('ConvoyEvents options', () => {
  it('takes another bus name, archive name and retention, and makes no alarms without a topic', () => {
    // Prepare
    const outdir = tempDir('convoy-events-test-');
    const app = new App({ outdir, context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
    const stack = new Stack(app, 'EventsOptionsTest', {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const events = new ConvoyEvents(stack, 'Events', {
      eventBusName: 'convoy-staging',
      archiveRetention: Duration.days(30),
    });
    const target = new AppFunction(stack, 'Target', { entryName: 'health' });

    // Act
    const rule: ConvoyEventRule = events.addLambdaRule('Escalations', {
      match: { type: ['escalation.opened', 'escalation.escalated'], project: 'sprint-20-23' },
      target,
      description: 'Pages on escalations',
    });
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'convoy-staging' });
    template.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: 'convoy-staging-archive',
      RetentionDays: 30,
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['convoy'],
        detail: { type: ['escalation.opened', 'escalation.escalated'], project: ['sprint-20-23'] },
      },
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(rule.deadLetterAlarm).toBeUndefined();
  });

  it('refuses an archive name EventBridge would refuse', () => {
    // Prepare
    const stack = new Stack(new App(), 'EventsBadName', {
      env: { account: '123456789012', region: 'us-east-1' },
    });

    // Act
    const build = () => new ConvoyEvents(stack, 'Events', { eventBusName: 'teams/convoy' });

    // Assess
    expect(build).toThrow(/archive name "teams\/convoy-archive"/);
  });
});
