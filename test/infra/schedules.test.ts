import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Plan, parsePlan } from '../../functions/core/plan/index.js';
import { MONITORS, scheduleCron } from '../../functions/core/schedules/index.js';
import {
  JIRA_REQUESTS_PER_MINUTE_ENV,
  SECRETS_ARN_ENV,
  TABLE_NAME_ENV,
} from '../../functions/handlers/env-names.js';
import { ConvoyAlarms } from '../../lib/constructs/alarms.js';
import {
  type ConvoyScheduleResources,
  ConvoySchedules,
  deadLetterQueueName,
} from '../../lib/constructs/schedules.js';
import type { ConvoyStack } from '../../lib/convoy-stack.js';
import { MINIMAL_PLAN, validPlan } from '../fixtures/plans.js';
import { tempDir } from '../support/temp.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

const REGIONS = ['us-east-1', 'eu-west-1'];
const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

function examplePlan(file: string): Plan {
  const result = parsePlan(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), { file });
  if (!result.ok) throw new Error(`${file} is not a valid plan`);
  return result.plan;
}

/** The plan cdk.json lists in convoy:plans. */
const SPRINT = examplePlan('examples/sprint-20-23.yaml');

interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: unknown;
}

interface ScheduleProperties {
  readonly Name: string;
  readonly GroupName: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone: string;
  readonly State: string;
  readonly Target: {
    readonly Arn: unknown;
    readonly Input: string;
    readonly RoleArn: { 'Fn::GetAtt': [string, string] };
    readonly RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
    readonly DeadLetterConfig: { Arn: unknown };
  };
}

/** A synthesized stack with the lookups the tests share. */
class StackUnderTest {
  readonly template: Template;

  constructor(readonly stack: Stack & { readonly schedules: ConvoySchedules }) {
    this.template = Template.fromStack(stack);
  }

  get name(): string {
    return this.stack.stackName;
  }

  get schedules(): ConvoySchedules {
    return this.stack.schedules;
  }

  get all(): readonly ConvoyScheduleResources[] {
    return [...this.schedules.jobs, ...this.schedules.monitors];
  }

  logicalId(construct: { readonly node: { readonly defaultChild?: unknown } }): string {
    const element = construct.node.defaultChild as CfnElement | undefined;
    if (!element) throw new Error('no CloudFormation element');
    // Resolved, so an overridden id (the alarm topic's) is the one the template uses.
    return this.stack.resolve(element.logicalId) as string;
  }

  properties(construct: { readonly node: { readonly defaultChild?: unknown } }): Record<string, unknown> {
    return this.template.toJSON().Resources[this.logicalId(construct)].Properties;
  }

  /** The schedule named `name` in the convoy group. */
  schedule(name: string): ScheduleProperties {
    const found = Object.values(
      this.template.findResources('AWS::Scheduler::Schedule', { Properties: { Name: name } }),
    );
    expect(found, `${this.name} ${name}`).toHaveLength(1);
    return found[0]?.Properties as ScheduleProperties;
  }

  functionArn(fn: { readonly node: { readonly defaultChild?: unknown } }): unknown {
    return { 'Fn::GetAtt': [this.logicalId(fn), 'Arn'] };
  }

  statementsOfRole(roleId: string): Statement[] {
    return Object.values(this.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  }

  environment(fn: { readonly node: { readonly defaultChild?: unknown } }): Record<string, unknown> {
    return (this.properties(fn).Environment as { Variables: Record<string, unknown> }).Variables;
  }
}

function actions(statement: Statement): string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

function resources(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

function appStacks(context: Record<string, unknown> = {}): StackUnderTest[] {
  return buildTestApp(REGIONS, { bundling: false, context }).stacks.map(
    (stack: ConvoyStack) => new StackUnderTest(stack),
  );
}

describe('ConvoySchedules', () => {
  describe('in a two-region app with the plans of cdk.json', () => {
    let stacks: StackUnderTest[];

    // Synthesis is the slow part, so the app is built once and every test reads it. No test here
    // looks at a bundle, so bundling is off.
    beforeAll(() => {
      stacks = appStacks();
    }, SYNTH_TIMEOUT_MS);

    it('runs every schedule of the plan on its cron in the project time zone, in the convoy group', () => {
      for (const stack of stacks) {
        for (const schedule of SPRINT.schedules) {
          // Act
          const properties = stack.schedule(`sprint-20-23.${schedule.id}`);

          // Assess
          expect(properties, `${stack.name} ${schedule.id}`).toMatchObject({
            GroupName: 'convoy',
            ScheduleExpression: scheduleCron(SPRINT, schedule).expression,
            ScheduleExpressionTimezone: 'America/New_York',
            FlexibleTimeWindow: { Mode: 'OFF' },
          });
        }
        expect(stack.schedules.jobs.map((job) => job.name)).toEqual(
          SPRINT.schedules.map((schedule) => `sprint-20-23.${schedule.id}`),
        );
        stack.template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'convoy' });
      }
    });

    it('names each dead-letter queue for its schedule, so an operator can find it', () => {
      // Act
      const [stack] = stacks as [StackUnderTest];

      // Assess
      expect(stack.all.map((entry) => stack.properties(entry.deadLetterQueue).QueueName)).toEqual([
        'convoy-sprint-20-23_standup-dlq',
        'convoy-sprint-20-23_agent-sync-dlq',
        'convoy-sprint-20-23_status-report-dlq',
        'convoy-sprint-20-23_gate-review-dlq',
        'convoy-sprint-20-23_weekly-summary-dlq',
        'convoy-heartbeats-dlq',
        'convoy-stale-work-dlq',
      ]);
    });

    it('gives the weekday standup and the Friday gate review the crons of their days', () => {
      // Act
      const [stack] = stacks as [StackUnderTest];

      // Assess
      expect(stack.schedule('sprint-20-23.standup').ScheduleExpression).toBe('cron(0 9 ? * MON-FRI *)');
      expect(stack.schedule('sprint-20-23.gate-review').ScheduleExpression).toBe('cron(0 17 ? * FRI *)');
      expect(stack.schedule('sprint-20-23.weekly-summary').ScheduleExpression).toBe('cron(30 16 ? * FRI *)');
    });

    it('invokes the scheduled-job function with the project, the schedule and the time it was scheduled for', () => {
      for (const stack of stacks) {
        for (const schedule of SPRINT.schedules) {
          // Act
          const { Target } = stack.schedule(`sprint-20-23.${schedule.id}`);

          // Assess
          expect(Target.Arn).toEqual(stack.functionArn(stack.schedules.jobFunction));
          expect(JSON.parse(Target.Input)).toEqual({
            project: 'sprint-20-23',
            schedule: schedule.id,
            scheduledTime: SCHEDULED_TIME,
          });
        }
      }
    });

    it('runs the heartbeat monitor every minute and the stale-work sweep every 15 minutes', () => {
      for (const stack of stacks) {
        for (const [name, expression, maxAge] of [
          ['heartbeats', 'rate(1 minute)', 60],
          ['stale-work', 'rate(15 minutes)', 900],
        ] as const) {
          // Act
          const properties = stack.schedule(name);

          // Assess
          expect(properties, `${stack.name} ${name}`).toMatchObject({
            GroupName: 'convoy',
            ScheduleExpression: expression,
            Target: {
              Arn: stack.functionArn(stack.schedules.monitorFunction),
              RetryPolicy: { MaximumEventAgeInSeconds: maxAge },
            },
          });
          expect(JSON.parse(properties.Target.Input)).toEqual({
            monitor: name,
            scheduledTime: SCHEDULED_TIME,
          });
        }
        expect(stack.schedules.monitors.map((monitor) => monitor.name)).toEqual(MONITORS.map((m) => m.name));
      }
    });

    it('retries a job invocation for up to an hour, then sends it to a dead-letter queue of its own', () => {
      for (const stack of stacks) {
        // Act
        const queueIds = stack.all.map((entry) => stack.logicalId(entry.deadLetterQueue));

        // Assess
        for (const [i, entry] of stack.all.entries()) {
          const { Target } = stack.schedule(entry.name);
          expect(Target.DeadLetterConfig, `${stack.name} ${entry.name}`).toEqual({
            Arn: { 'Fn::GetAtt': [queueIds[i], 'Arn'] },
          });
          expect(Target.RetryPolicy.MaximumRetryAttempts, `${stack.name} ${entry.name}`).toBeGreaterThan(0);
        }
        for (const job of stack.schedules.jobs) {
          expect(stack.schedule(job.name).Target.RetryPolicy).toEqual({
            MaximumRetryAttempts: 5,
            MaximumEventAgeInSeconds: 3600,
          });
        }
        expect(new Set(queueIds).size).toBe(SPRINT.schedules.length + MONITORS.length);
      }
    });

    it('encrypts every dead-letter queue with SQS-managed keys and denies every request to it without TLS', () => {
      for (const stack of stacks) {
        for (const { name, deadLetterQueue } of stack.all) {
          // Act
          const queueId = stack.logicalId(deadLetterQueue);
          const policies = Object.values(
            stack.template.findResources('AWS::SQS::QueuePolicy', {
              Properties: { Queues: [{ Ref: queueId }] },
            }),
          );

          // Assess
          expect(stack.properties(deadLetterQueue)).toMatchObject({
            QueueName: deadLetterQueueName(name),
            SqsManagedSseEnabled: true,
            MessageRetentionPeriod: 14 * 24 * 60 * 60,
          });
          expect(policies).toHaveLength(1);
          expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
            {
              Action: 'sqs:*',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ]);
        }
      }
    });

    it('alarms on the convoy-alarms topic when a dead-letter queue holds a message', () => {
      for (const stack of stacks) {
        // Act
        const topicId = stack.logicalId((stack.stack as ConvoyStack).alarms.topic);

        // Assess
        for (const { name, deadLetterQueue, deadLetterAlarm } of stack.all) {
          expect(stack.properties(deadLetterAlarm)).toMatchObject({
            AlarmName: `convoy-${name}-dead-letters`,
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [
              { Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.logicalId(deadLetterQueue), 'QueueName'] } },
            ],
            Statistic: 'Maximum',
            ComparisonOperator: 'GreaterThanThreshold',
            Threshold: 0,
            AlarmActions: [{ Ref: topicId }],
            OKActions: [{ Ref: topicId }],
          });
        }
      }
    });

    it('alarms when either function fails within 5 minutes', () => {
      for (const stack of stacks) {
        for (const [name, fn] of [
          ['scheduled-job', stack.schedules.jobFunction],
          ['monitor', stack.schedules.monitorFunction],
        ] as const) {
          // Assess
          stack.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
            AlarmName: `convoy-${name}-errors`,
            Namespace: 'AWS/Lambda',
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: stack.logicalId(fn) } }],
            Statistic: 'Sum',
            Period: 300,
            Threshold: 0,
          });
        }
        expect(stack.schedules.alarms).toHaveLength(stack.all.length + 3);
      }
    });

    it('enables every schedule in the primary region, the default active one, and disables them in the other', () => {
      // Act
      const states = stacks.map((stack) => [
        stack.stack.region,
        [...new Set(stack.all.map((entry) => stack.schedule(entry.name).State))],
      ]);

      // Assess
      expect(states).toEqual([
        ['us-east-1', ['ENABLED']],
        ['eu-west-1', ['DISABLED']],
      ]);
    });

    it("lets each scheduler role invoke only its schedules' function and send only to their dead-letter queues", () => {
      for (const stack of stacks) {
        for (const [fn, entries] of [
          [stack.schedules.jobFunction, stack.schedules.jobs],
          [stack.schedules.monitorFunction, stack.schedules.monitors],
        ] as const) {
          // Act
          const roleIds = new Set(
            entries.map((entry) => stack.schedule(entry.name).Target.RoleArn['Fn::GetAtt'][0]),
          );
          const [roleId] = roleIds;
          const statements = stack.statementsOfRole(roleId as string);
          const role = stack.template.toJSON().Resources[roleId as string];
          const functionArn = stack.functionArn(fn);

          // Assess
          expect(roleIds.size, stack.name).toBe(1);
          expect(statements.flatMap(actions).sort(), stack.name).toEqual([
            'lambda:InvokeFunction',
            'sqs:SendMessage',
          ]);
          for (const statement of statements) {
            expect(statement.Effect).toBe('Allow');
            const expected = actions(statement).includes('lambda:InvokeFunction')
              ? [functionArn, { 'Fn::Join': ['', [functionArn, ':*']] }]
              : entries.map((entry) => ({ 'Fn::GetAtt': [stack.logicalId(entry.deadLetterQueue), 'Arn'] }));
            expect(resources(statement)).toEqual(expect.arrayContaining(expected));
            expect(resources(statement)).toHaveLength(expected.length);
          }
          expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
            expect.objectContaining({
              Action: 'sts:AssumeRole',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                  'aws:SourceArn': { 'Fn::GetAtt': [stack.logicalId(stack.schedules.group), 'Arn'] },
                },
              },
            }),
          ]);
        }
      }
    });

    it('gives both functions the table, the credentials secret and the JIRA request budget', () => {
      for (const stack of stacks) {
        const convoy = stack.stack as ConvoyStack;
        for (const fn of [stack.schedules.jobFunction, stack.schedules.monitorFunction]) {
          // Assess
          expect(stack.properties(fn)).toMatchObject({
            Runtime: 'nodejs22.x',
            Architectures: ['arm64'],
            TracingConfig: { Mode: 'Active' },
          });
          expect(stack.environment(fn)).toMatchObject({
            [TABLE_NAME_ENV]: convoy.resolve(convoy.table.tableName),
            [SECRETS_ARN_ENV]: convoy.resolve(convoy.integrations.secret.secretArn),
            [JIRA_REQUESTS_PER_MINUTE_ENV]: '100',
          });
        }
      }
    });

    it('keeps a job that failed after its retries, with an alarm, in an encrypted TLS-only queue', () => {
      for (const stack of stacks) {
        // Act
        const queueId = stack.logicalId(stack.schedules.jobFailureQueue);
        const config = Object.values(
          stack.template.findResources('AWS::Lambda::EventInvokeConfig', {
            Properties: { FunctionName: { Ref: stack.logicalId(stack.schedules.jobFunction) } },
          }),
        );

        // Assess
        expect(config, stack.name).toHaveLength(1);
        expect(config[0]?.Properties.DestinationConfig).toEqual({
          OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        });
        expect(stack.properties(stack.schedules.jobFailureQueue)).toMatchObject({
          QueueName: 'convoy-scheduled-job-failures',
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 14 * 24 * 60 * 60,
        });
        stack.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queueId }],
          PolicyDocument: {
            Statement: [
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ],
          },
        });
        stack.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: 'convoy-scheduled-job-failures',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
          Threshold: 0,
        });
      }
    });

    it('retries a failed job within the hour and drops a failed or late monitor tick', () => {
      for (const stack of stacks) {
        for (const [fn, retries, maxAge] of [
          [stack.schedules.jobFunction, 2, 3600],
          [stack.schedules.monitorFunction, 0, 60],
        ] as const) {
          // Assess
          stack.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
            FunctionName: { Ref: stack.logicalId(fn) },
            MaximumRetryAttempts: retries,
            MaximumEventAgeInSeconds: maxAge,
          });
        }
      }
    });
  });

  describe('when convoy:activeRegion names the secondary region', () => {
    let stacks: StackUnderTest[];

    beforeAll(() => {
      stacks = appStacks({ 'convoy:activeRegion': 'eu-west-1' });
    }, SYNTH_TIMEOUT_MS);

    it('enables every schedule in the secondary region and disables them in the primary', () => {
      // Act
      const states = stacks.map((stack) => [
        stack.stack.region,
        [...new Set(stack.all.map((entry) => stack.schedule(entry.name).State))],
      ]);

      // Assess
      expect(states).toEqual([
        ['us-east-1', ['DISABLED']],
        ['eu-west-1', ['ENABLED']],
      ]);
    });
  });

  describe('convoy:plans', () => {
    let dir: string;

    beforeAll(() => {
      dir = tempDir('convoy-plans-');
    });

    it('schedules only the monitors when convoy:plans is empty', () => {
      // Act
      const [stack] = appStacks({ 'convoy:plans': [] }) as [StackUnderTest];

      // Assess
      expect(stack.schedules.jobs).toEqual([]);
      expect(
        Object.values(stack.template.findResources('AWS::Scheduler::Schedule'))
          .filter((schedule) => schedule.Properties.GroupName === 'convoy')
          .map((schedule) => schedule.Properties.Name),
      ).toEqual(['heartbeats', 'stale-work']);
    });

    it('reads the plans of a JSON array given on the command line, each with its own time zone', () => {
      // Act
      const [stack] = appStacks({
        'convoy:plans': '["examples/proto-refactor.yaml", "examples/sprint-20-23.yaml"]',
      }) as [StackUnderTest];

      // Assess
      const proto = examplePlan('examples/proto-refactor.yaml');
      expect(stack.schedules.jobs.map((job) => job.name)).toEqual([
        ...proto.schedules.map((schedule) => `proto-refactor.${schedule.id}`),
        ...SPRINT.schedules.map((schedule) => `sprint-20-23.${schedule.id}`),
      ]);
      expect(stack.schedule('proto-refactor.morning-check-in').ScheduleExpressionTimezone).toBe(
        proto.project.timezone,
      );
    });

    it('fails synth with FILE:LINE:COL for each problem when a plan is invalid', () => {
      // Prepare
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, `${MINIMAL_PLAN}schedules:\n  - id: standup\n    job: standup\n    at: "9am"\n`);

      // Act
      const build = () => appStacks({ 'convoy:plans': [bad] });

      // Assess
      expect(build).toThrow(`${bad}:31:9: schedules[0].at: invalid time of day "9am"`);
      expect(build).toThrow(/Invalid plan in context "convoy:plans": .*bad\.yaml has 1 problem/);
    });

    it.each([
      ['a plan file is missing', ['examples/nope.yaml'], /cannot read examples\/nope\.yaml: no such file/],
      ['the value is not a list', { plan: 'x' }, /must be an array of plan file paths, got object/],
      ['an entry is not a path', [7], /entry 0 is not a file path: number 7/],
      ['the string is not JSON', '["examples/', /must be a JSON array of plan file paths/],
      [
        'two plans have the same project',
        ['examples/sprint-20-23.yaml', 'examples/sprint-20-23.yaml'],
        /names two plans of project sprint-20-23/,
      ],
    ])('throws a clear error when %s', (_case, plans, message) => {
      // Act
      const build = () => appStacks({ 'convoy:plans': plans });

      // Assess
      expect(build).toThrow(message);
    });
  });

  describe('on its own', () => {
    function standalone(plans: Plan[]) {
      // No test here looks at a bundle.
      const app = new App({ context: { [BUNDLING_STACKS]: [] } });
      const stack = new Stack(app, 'Standalone', { env: { region: 'us-east-1' } });
      return new ConvoySchedules(stack, 'Schedules', {
        table: new TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } }),
        secret: new Secret(stack, 'Secret'),
        alarms: new ConvoyAlarms(stack, 'Alarms'),
        plans,
      });
    }

    it('shortens a name over 64 characters with a hash, so every name stays unique', () => {
      // Prepare
      const longId = `p${'x'.repeat(60)}`;
      const plan = validPlan(MINIMAL_PLAN.replace('id: demo', `id: ${longId}`));

      // Act
      const names = standalone([plan]).jobs.map((job) => job.name);

      // Assess
      expect(names).toHaveLength(4);
      for (const name of names) {
        expect(name).toMatch(/^px{54}-[0-9a-f]{8}$/);
        expect(deadLetterQueueName(name).length).toBeLessThanOrEqual(80);
      }
      expect(new Set(names).size).toBe(4);
    });

    it('throws when two plans share a project id', () => {
      // Prepare
      const plan = validPlan(MINIMAL_PLAN);

      // Act
      const build = () => standalone([plan, plan]);

      // Assess
      expect(build).toThrow('two plans have the project id demo');
    });
  });
});
