import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GITHUB_QUEUE_URL_ENV,
  JIRA_REQUESTS_PER_MINUTE_ENV,
  SECRET_NAMES,
  SECRET_TEMPLATE_NAMES,
  SECRETS_ARN_ENV,
} from '../../functions/handlers/env-names.js';
import {
  HTTP_HANDLERS,
  type HttpHandlerName,
  WORKERS,
  type WorkerName,
} from '../../functions/handlers/routes.js';
import type { AppFunction } from '../../lib/constructs/app-function.js';
import type { ConvoyStack } from '../../lib/convoy-stack.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

type FunctionName = HttpHandlerName | WorkerName;

const REGIONS = ['us-east-1', 'eu-west-1'];
const CREDENTIALED: readonly FunctionName[] = [
  'webhook-github',
  'webhook-jira',
  'slack-interactions',
  'github-worker',
  'jira-worker',
  'scheduled-job',
  'monitor',
];
const UNCREDENTIALED: readonly FunctionName[] = [
  'api-read',
  'api-write',
  'api-charts',
  'api-plans',
  'mcp',
  'health',
  'gate-step',
  'gate-starter',
  'publisher',
];
const ALL_FUNCTIONS: readonly FunctionName[] = [
  ...(Object.keys(HTTP_HANDLERS) as HttpHandlerName[]),
  ...(Object.keys(WORKERS) as WorkerName[]),
];
const CERT_US = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const CERT_EU = 'arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000';

interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

interface Resource {
  readonly Properties: Record<string, unknown>;
}

/** A synthesized stack with the lookups the tests share. */
class StackUnderTest {
  readonly template: Template;
  readonly resources: Record<string, Resource>;

  constructor(readonly stack: ConvoyStack) {
    this.template = Template.fromStack(stack);
    this.resources = this.template.toJSON().Resources;
  }

  get name(): string {
    return this.stack.stackName;
  }

  logicalId(construct: { readonly node: { readonly defaultChild?: unknown } }): string {
    const element = construct.node.defaultChild as CfnElement | undefined;
    if (!element) throw new Error('no CloudFormation element');
    // Resolved, so an overridden id (the alarm topic's) is the one the template uses.
    return this.stack.resolve(element.logicalId) as string;
  }

  /** Whether the stack has the function: the publisher is only in the primary region's. */
  has(name: FunctionName): boolean {
    return name !== 'publisher' || this.stack.publisher !== undefined;
  }

  fn(name: FunctionName): AppFunction {
    const { integrations, httpApi, schedules } = this.stack;
    if (name === 'github-worker') return integrations.githubWorker;
    if (name === 'jira-worker') return integrations.jiraWorker;
    if (name === 'scheduled-job') return schedules.jobFunction;
    if (name === 'monitor') return schedules.monitorFunction;
    if (name === 'gate-step') return this.stack.workflows.gateStep;
    if (name === 'gate-starter') return this.stack.gateStarter;
    if (name === 'publisher') return this.stack.publisher?.function as AppFunction;
    return httpApi.functions[name];
  }

  properties(name: FunctionName): Record<string, unknown> {
    return this.resource(this.logicalId(this.fn(name))).Properties;
  }

  environment(name: FunctionName): Record<string, unknown> {
    return (this.properties(name).Environment as { Variables: Record<string, unknown> }).Variables;
  }

  resource(logicalId: string): Resource {
    const resource = this.resources[logicalId];
    if (!resource) throw new Error(`${this.name} has no resource ${logicalId}`);
    return resource;
  }

  onlyResource(type: string, props?: Record<string, unknown>): Resource {
    const found = Object.values(this.template.findResources(type, props)) as Resource[];
    expect(found, `${this.name} ${type}`).toHaveLength(1);
    return found[0] as Resource;
  }

  /** Every IAM statement attached to the role of function `name`. */
  statements(name: FunctionName): Statement[] {
    const role = this.fn(name).role;
    if (!role) throw new Error(`${name} has no role`);
    return this.statementsOfRole(this.logicalId(role));
  }

  statementsOfRole(roleId: string): Statement[] {
    return Object.values(this.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  }

  /** What a read grant on the secret covers: the secret in the primary; the replica's ARN pattern elsewhere. */
  secretGrantResource(): unknown {
    const { secretArn } = this.stack.integrations.secret;
    return this.stack.resolve(this.stack.isPrimary ? secretArn : `${secretArn}-??????`);
  }

  scheduleState(): unknown {
    return this.resource(this.logicalId(this.stack.integrations.jiraDrainSchedule)).Properties.State;
  }
}

function actions(statement: Statement): string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

function roleRefs(policy: Record<string, { Roles?: { Ref: string }[] }>): string[] {
  return (policy.Properties?.Roles ?? []).map((role) => role.Ref);
}

describe('ConvoyIntegrations', () => {
  describe('in a two-region app', () => {
    let stacks: StackUnderTest[];
    let primary: StackUnderTest;
    let secondary: StackUnderTest;

    // Synthesis is the slow part, so the app is built once and every test reads it. No test here
    // looks at a bundle, so bundling is off.
    beforeAll(() => {
      const app = buildTestApp(REGIONS, { bundling: false });
      stacks = app.stacks.map((stack) => new StackUnderTest(stack));
      [primary, secondary] = stacks as [StackUnderTest, StackUnderTest];
    }, SYNTH_TIMEOUT_MS);

    it('moves a GitHub delivery to a dead-letter queue kept 14 days after 5 receives', () => {
      for (const stack of stacks) {
        // Act
        const { githubQueue, githubDeadLetterQueue } = stack.stack.integrations;
        const queue = stack.resource(stack.logicalId(githubQueue));
        const deadLetters = stack.resource(stack.logicalId(githubDeadLetterQueue));

        // Assess
        expect(
          stack.stack.integrations.node.findAll().filter((child) => child instanceof Queue),
        ).toHaveLength(2);
        expect(queue.Properties.RedrivePolicy, stack.name).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [stack.logicalId(githubDeadLetterQueue), 'Arn'] },
          maxReceiveCount: 5,
        });
        expect(deadLetters.Properties.MessageRetentionPeriod, stack.name).toBe(14 * 24 * 60 * 60);
      }
    });

    it('encrypts both queues with SQS-managed keys and denies every request to them without TLS', () => {
      for (const stack of stacks) {
        const { githubQueue, githubDeadLetterQueue } = stack.stack.integrations;
        for (const queue of [githubQueue, githubDeadLetterQueue]) {
          // Act
          const queueId = stack.logicalId(queue);
          const policies = Object.values(
            stack.template.findResources('AWS::SQS::QueuePolicy', {
              Properties: { Queues: [{ Ref: queueId }] },
            }),
          );

          // Assess
          expect(stack.resource(queueId).Properties, `${stack.name} ${queueId}`).toMatchObject({
            SqsManagedSseEnabled: true,
          });
          expect(stack.resource(queueId).Properties).not.toHaveProperty('KmsMasterKeyId');
          expect(policies, `${stack.name} ${queueId}`).toHaveLength(1);
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

    it('hides a received delivery for at least six timeouts of the worker', () => {
      for (const stack of stacks) {
        // Act
        const queue = stack.resource(stack.logicalId(stack.stack.integrations.githubQueue));
        const workerTimeout = stack.properties('github-worker').Timeout as number;

        // Assess
        expect(queue.Properties.VisibilityTimeout as number, stack.name).toBeGreaterThanOrEqual(
          6 * workerTimeout,
        );
      }
    });

    it('feeds the github-worker from the queue in batches of 10 and retries only the failed deliveries', () => {
      for (const stack of stacks) {
        // Act
        const mapping = stack.onlyResource('AWS::Lambda::EventSourceMapping', {
          Properties: { FunctionName: { Ref: stack.logicalId(stack.fn('github-worker')) } },
        });

        // Assess
        expect(mapping.Properties, stack.name).toMatchObject({
          EventSourceArn: { 'Fn::GetAtt': [stack.logicalId(stack.stack.integrations.githubQueue), 'Arn'] },
          FunctionName: { Ref: stack.logicalId(stack.fn('github-worker')) },
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
      }
    });

    it.each(['github-worker', 'jira-worker'] as const)(
      'runs the %s with the house defaults and read-write access to the table',
      (name) => {
        for (const stack of stacks) {
          // Act
          const granted = stack
            .statements(name)
            .filter((statement) => actions(statement).some((action) => action.startsWith('dynamodb:')));

          // Assess
          expect(stack.properties(name), stack.name).toMatchObject({
            Runtime: 'nodejs22.x',
            Architectures: ['arm64'],
            TracingConfig: { Mode: 'Active' },
            Environment: {
              Variables: { CONVOY_TABLE_NAME: stack.stack.resolve(stack.stack.table.tableName) },
            },
          });
          expect(granted.flatMap(actions), stack.name).toEqual(
            expect.arrayContaining([
              'dynamodb:GetItem',
              'dynamodb:Query',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
            ]),
          );
        }
      },
    );

    it('runs one jira-worker at a time, for at most 60 s, and drops a tick it cannot take within a minute', () => {
      for (const stack of stacks) {
        // Act
        const invokeConfigs = Object.values(
          stack.template.findResources('AWS::Lambda::EventInvokeConfig', {
            Properties: { FunctionName: { Ref: stack.logicalId(stack.fn('jira-worker')) } },
          }),
        );
        const invokeConfig = invokeConfigs[0] as Resource;

        // Assess
        expect(invokeConfigs, stack.name).toHaveLength(1);
        expect(stack.properties('jira-worker'), stack.name).toMatchObject({
          ReservedConcurrentExecutions: 1,
          Timeout: 60,
        });
        expect(invokeConfig.Properties, stack.name).toMatchObject({
          FunctionName: { Ref: stack.logicalId(stack.fn('jira-worker')) },
          MaximumEventAgeInSeconds: 60,
          MaximumRetryAttempts: 0,
        });
        for (const other of ALL_FUNCTIONS.filter((name) => name !== 'jira-worker' && stack.has(name))) {
          expect(stack.properties(other), `${stack.name} ${other}`).not.toHaveProperty(
            'ReservedConcurrentExecutions',
          );
        }
      }
    });

    it('invokes the jira-worker every minute with a retry policy, through a role that may invoke it only', () => {
      for (const stack of stacks) {
        // Act
        const schedule = stack.resource(stack.logicalId(stack.stack.integrations.jiraDrainSchedule));
        const target = schedule.Properties.Target as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string] } };
        const roleStatements = stack.statementsOfRole(target.RoleArn['Fn::GetAtt'][0]);
        const jiraWorker = stack.logicalId(stack.fn('jira-worker'));

        // Assess
        expect(schedule.Properties, stack.name).toMatchObject({
          ScheduleExpression: 'rate(1 minute)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: { 'Fn::GetAtt': [jiraWorker, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
          },
        });
        expect(roleStatements.flatMap(actions), stack.name).toEqual(['lambda:InvokeFunction']);
        expect(JSON.stringify(roleStatements[0]?.Resource)).toContain(jiraWorker);
      }
    });

    it('enables the drain schedule in the primary region and leaves it disabled in the secondary', () => {
      // Assess
      expect(primary.scheduleState()).toBe('ENABLED');
      expect(secondary.scheduleState()).toBe('DISABLED');
    });

    it('creates the secret in the primary region with an empty placeholder for every name, replicated', () => {
      // Act
      const secret = primary.onlyResource('AWS::SecretsManager::Secret', {
        Properties: { Name: 'convoy/integrations' },
      });
      const value = JSON.parse(secret.Properties.SecretString as string) as Record<string, unknown>;

      // Assess
      expect(secret.Properties).toMatchObject({
        Name: 'convoy/integrations',
        ReplicaRegions: [{ Region: 'eu-west-1' }],
      });
      expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
      // The keys it was first deployed with: a changed template would empty every credential.
      expect(Object.keys(value).sort()).toEqual([...SECRET_TEMPLATE_NAMES].sort());
      expect(Object.values(value).every((entry) => entry === '')).toBe(true);
    });

    it('uses the replica of the secret when the stack is secondary, so credentials are put once', () => {
      // Assess
      expect(
        secondary.template.findResources('AWS::SecretsManager::Secret', {
          Properties: { Name: 'convoy/integrations' },
        }),
      ).toEqual({});
      expect(secondary.stack.resolve(secondary.stack.integrations.secret.secretArn)).toEqual({
        'Fn::Join': [
          '',
          ['arn:aws:secretsmanager:eu-west-1:', { Ref: 'AWS::AccountId' }, ':secret:convoy/integrations'],
        ],
      });
    });

    it('names the credentials only as keys of the placeholder, so no template carries one', () => {
      for (const stack of stacks) {
        // Act
        const text = JSON.stringify(stack.template.toJSON());

        // Assess
        for (const name of SECRET_NAMES) {
          const inTemplate = (SECRET_TEMPLATE_NAMES as readonly string[]).includes(name);
          expect(text.split(name).length - 1, `${stack.name} ${name}`).toBe(
            stack.stack.isPrimary && inTemplate ? 1 : 0,
          );
        }
      }
    });

    it('decides for every function whether it gets the credentials', () => {
      // Assess
      expect([...CREDENTIALED, ...UNCREDENTIALED].sort()).toEqual([...ALL_FUNCTIONS].sort());
    });

    it.each(CREDENTIALED)('gives the %s function the secret ARN and read access to the secret', (name) => {
      for (const stack of stacks) {
        // Act
        const secretStatements = stack
          .statements(name)
          .filter((statement) => actions(statement).some((action) => action.startsWith('secretsmanager:')));

        // Assess
        expect(stack.environment(name), `${stack.name} ${name}`).toHaveProperty(
          SECRETS_ARN_ENV,
          stack.stack.resolve(stack.stack.integrations.secret.secretArn),
        );
        expect(secretStatements, `${stack.name} ${name}`).toEqual([
          {
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Effect: 'Allow',
            Resource: stack.secretGrantResource(),
          },
        ]);
      }
    });

    it.each(UNCREDENTIALED)(
      'gives the %s function neither the secret ARN nor any permission on the secret',
      (name) => {
        for (const stack of stacks.filter((candidate) => candidate.has(name))) {
          // Act (the API functions read the token key, test/infra/token-key.test.ts, and nothing else)
          const onSecret = JSON.stringify(stack.secretGrantResource());
          const granted = stack
            .statements(name)
            .filter((statement) => JSON.stringify(statement.Resource) === onSecret)
            .flatMap(actions);

          // Assess
          expect(stack.environment(name), `${stack.name} ${name}`).not.toHaveProperty(SECRETS_ARN_ENV);
          expect(
            granted.filter((action) => action.startsWith('secretsmanager:')),
            `${stack.name} ${name}`,
          ).toEqual([]);
        }
      },
    );

    it('lets the webhook-github function, and nothing else, send to the queue and know its URL', () => {
      for (const stack of stacks) {
        // Act
        const queueId = stack.logicalId(stack.stack.integrations.githubQueue);
        const sendingRoles = Object.values(stack.template.findResources('AWS::IAM::Policy'))
          .filter((policy) =>
            (policy.Properties.PolicyDocument.Statement as Statement[]).some(
              (statement) =>
                actions(statement).some((action) => ['sqs:SendMessage', 'sqs:*'].includes(action)) &&
                (JSON.stringify(statement.Resource).includes(queueId) || statement.Resource === '*'),
            ),
          )
          .flatMap(roleRefs);
        const knowingUrl = ALL_FUNCTIONS.filter(
          (name) => stack.has(name) && GITHUB_QUEUE_URL_ENV in stack.environment(name),
        );
        const queueAllows = Object.values(stack.template.findResources('AWS::SQS::QueuePolicy'))
          .filter((policy) => JSON.stringify(policy.Properties.Queues).includes(queueId))
          .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
          .filter((statement) => statement.Effect === 'Allow');

        // Assess
        const webhookRole = stack.fn('webhook-github').role;
        expect(sendingRoles, stack.name).toEqual([webhookRole && stack.logicalId(webhookRole)]);
        expect(knowingUrl, stack.name).toEqual(['webhook-github']);
        expect(stack.environment('webhook-github')[GITHUB_QUEUE_URL_ENV]).toEqual({
          Ref: stack.logicalId(stack.stack.integrations.githubQueue),
        });
        expect(queueAllows, stack.name).toEqual([]);
      }
    });

    it('tells both workers the JIRA request budget, 100 per minute by default', () => {
      for (const stack of stacks) {
        for (const name of ['github-worker', 'jira-worker'] as const) {
          // Assess
          expect(stack.environment(name), `${stack.name} ${name}`).toHaveProperty(
            JIRA_REQUESTS_PER_MINUTE_ENV,
            '100',
          );
        }
      }
    });

    it('alarms on a non-empty dead-letter queue', () => {
      for (const stack of stacks) {
        // Assess
        stack.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            {
              Name: 'QueueName',
              Value: {
                'Fn::GetAtt': [stack.logicalId(stack.stack.integrations.githubDeadLetterQueue), 'QueueName'],
              },
            },
          ],
          Statistic: 'Maximum',
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
        });
      }
    });

    it.each([
      'github-worker',
      'jira-worker',
      'webhook-github',
      'webhook-jira',
      'slack-interactions',
    ] as const)('alarms when the %s function fails within 5 minutes', (name) => {
      for (const stack of stacks) {
        // Assess
        stack.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: stack.logicalId(stack.fn(name)) } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          TreatMissingData: 'notBreaching',
        });
      }
    });

    it('notifies the convoy-alarms topic from every alarm, in alarm and back to OK', () => {
      for (const stack of stacks) {
        // Act
        const topicId = stack.logicalId(stack.stack.alarms.topic);
        const alarms = Object.values(stack.template.findResources('AWS::CloudWatch::Alarm'));

        // Assess
        stack.template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'convoy-alarms' });
        // The integrations' 6, the schedules', a failed phase-gate execution, the events rule's dead
        // letters, and (in the primary region) the publisher's failure queue.
        expect(alarms, stack.name).toHaveLength(
          6 + stack.stack.schedules.alarms.length + 2 + (stack.stack.publisher ? 1 : 0),
        );
        for (const alarm of alarms) {
          expect(alarm.Properties, stack.name).toMatchObject({
            AlarmActions: [{ Ref: topicId }],
            OKActions: [{ Ref: topicId }],
          });
        }
      }
    });

    it("lets this account's CloudWatch alarms publish to the topic, over TLS only", () => {
      for (const stack of stacks) {
        // Act
        const topicId = stack.logicalId(stack.stack.alarms.topic);
        const policy = stack.onlyResource('AWS::SNS::TopicPolicy');
        const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

        // Assess
        expect(policy.Properties.Topics, stack.name).toEqual([{ Ref: topicId }]);
        expect(statements, stack.name).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            expect.objectContaining({
              Effect: 'Allow',
              Action: 'sns:Publish',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Condition: expect.objectContaining({
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              }),
            }),
          ]),
        );
      }
    });

    it('outputs the secret ARN and the URLs to register with GitHub, JIRA and Slack', () => {
      for (const stack of stacks) {
        // Act
        const apiId = stack.logicalId(stack.stack.httpApi.api);

        // Assess
        stack.template.hasOutput('IntegrationsSecretArn', {
          Value: stack.stack.resolve(stack.stack.integrations.secret.secretArn),
        });
        for (const [output, path] of [
          ['GithubWebhookUrl', '/webhooks/github'],
          ['JiraWebhookUrl', '/webhooks/jira'],
          ['SlackInteractionsUrl', '/slack/interactions'],
        ] as const) {
          stack.template.hasOutput(output, {
            Value: {
              'Fn::Join': [
                '',
                [
                  'https://',
                  { Ref: apiId },
                  `.execute-api.${stack.stack.region}.`,
                  { Ref: 'AWS::URLSuffix' },
                  path,
                ],
              ],
            },
          });
        }
      }
    });
  });

  describe('when convoy:activeRegion names the secondary region', () => {
    let stacks: StackUnderTest[];

    beforeAll(() => {
      const app = buildTestApp(REGIONS, {
        bundling: false,
        context: {
          'convoy:activeRegion': 'eu-west-1',
          'convoy:jiraRequestsPerMinute': '40',
          'convoy:domainName': 'convoy.example.com',
          'convoy:certificateArn': JSON.stringify({ 'us-east-1': CERT_US, 'eu-west-1': CERT_EU }),
        },
      });
      stacks = app.stacks.map((stack) => new StackUnderTest(stack));
    }, SYNTH_TIMEOUT_MS);

    it('enables the drain schedule in the secondary region and disables it in the primary', () => {
      // Assess
      expect(stacks.map((stack) => [stack.stack.region, stack.scheduleState()])).toEqual([
        ['us-east-1', 'DISABLED'],
        ['eu-west-1', 'ENABLED'],
      ]);
    });

    it('tells both workers the configured JIRA request budget when convoy:jiraRequestsPerMinute is set', () => {
      for (const stack of stacks) {
        for (const name of ['github-worker', 'jira-worker'] as const) {
          // Assess
          expect(stack.environment(name), `${stack.name} ${name}`).toHaveProperty(
            JIRA_REQUESTS_PER_MINUTE_ENV,
            '40',
          );
        }
      }
    });

    it('outputs webhook URLs on the custom domain, so DNS can send deliveries to any region', () => {
      for (const { template } of stacks) {
        // Assess
        template.hasOutput('GithubWebhookUrl', { Value: 'https://convoy.example.com/webhooks/github' });
        template.hasOutput('JiraWebhookUrl', { Value: 'https://convoy.example.com/webhooks/jira' });
        template.hasOutput('SlackInteractionsUrl', {
          Value: 'https://convoy.example.com/slack/interactions',
        });
      }
    });
  });

  describe('integration settings', () => {
    it.each([
      [
        'convoy:activeRegion is not a configured region',
        { 'convoy:activeRegion': 'ap-south-1' },
        /"convoy:activeRegion": must be one of the regions.*us-east-1, eu-west-1.*"ap-south-1"/,
      ],
      [
        'convoy:activeRegion is not a string',
        { 'convoy:activeRegion': 1 },
        /"convoy:activeRegion": must be one of the regions/,
      ],
      [
        'convoy:jiraRequestsPerMinute is zero',
        { 'convoy:jiraRequestsPerMinute': 0 },
        /"convoy:jiraRequestsPerMinute": must be a whole number of at least 1, got number 0/,
      ],
      [
        'convoy:jiraRequestsPerMinute is a fraction',
        { 'convoy:jiraRequestsPerMinute': '1.5' },
        /"convoy:jiraRequestsPerMinute": must be a whole number/,
      ],
      [
        'convoy:jiraRequestsPerMinute is not a number',
        { 'convoy:jiraRequestsPerMinute': 'fast' },
        /"convoy:jiraRequestsPerMinute": must be a whole number.*"fast"/,
      ],
    ])('throws a clear error when %s', (_case, context, message) => {
      // Act
      const build = () => buildTestApp(REGIONS, { context, bundling: false });

      // Assess
      expect(build).toThrow(message);
    });
  });
});
