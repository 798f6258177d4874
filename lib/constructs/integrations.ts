import { Duration, SecretValue } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  GITHUB_QUEUE_URL_ENV,
  JIRA_REQUESTS_PER_MINUTE_ENV,
  SECRET_TEMPLATE_NAMES,
  SECRETS_ARN_ENV,
} from '../../functions/handlers/env-names.js';
import type { HttpHandlerName } from '../../functions/handlers/routes.js';
import { WORKERS } from '../../functions/handlers/routes.js';
import type { ConvoyAlarms } from './alarms.js';
import { AppFunction } from './app-function.js';
import { acceptInvokeGrant, schedulerRoleOf } from './nag-suppressions.js';

/** Name of the Secrets Manager secret holding the integration credentials, in every region. */
export const INTEGRATIONS_SECRET_NAME = 'convoy/integrations';

/** JIRA Cloud's documented budget, used when {@link ConvoyIntegrationsProps.jiraRequestsPerMinute} is not set. */
export const DEFAULT_JIRA_REQUESTS_PER_MINUTE = 100;

/** The HTTP functions that verify signed requests, and so read the integration secret. */
export const WEBHOOK_HANDLERS = [
  'webhook-github',
  'webhook-jira',
  'slack-interactions',
] as const satisfies readonly HttpHandlerName[];

/** How long the GitHub worker may spend on one batch of (at most 10) deliveries. */
const GITHUB_WORKER_TIMEOUT = Duration.seconds(30);

/** The JIRA worker's drain stops starting requests after 50 s (functions/handlers/jira-worker.ts). */
const JIRA_WORKER_TIMEOUT = Duration.seconds(60);

/** Delivery attempts of a GitHub delivery before it moves to the dead-letter queue. */
const GITHUB_MAX_RECEIVE_COUNT = 5;

/** Properties of {@link ConvoyIntegrations}. */
export interface ConvoyIntegrationsProps {
  /** The coordination state table as seen from this region; both workers read and write it. */
  readonly table: ITableV2;

  /**
   * The functions behind the HTTP API, by handler name (`ConvoyHttpApi.functions`). The webhook and
   * Slack functions get the secret, and `webhook-github` the queue.
   */
  readonly httpFunctions: Readonly<Record<HttpHandlerName, AppFunction>>;

  /**
   * Where the integration secret comes from: `'create'` makes it in this stack (the primary region's),
   * replicated to `secretReplicaRegions`; `'replica'` uses the read-only replica that the primary
   * region's stack made in this region, so one `put-secret-value` reaches every region.
   *
   * @default 'create'
   */
  readonly secretSource?: 'create' | 'replica';

  /**
   * Regions that get a read-only replica of the secret. Only used when `secretSource` is `'create'`.
   *
   * @default - no replicas
   */
  readonly secretReplicaRegions?: readonly string[];

  /**
   * Whether the schedule that runs the JIRA worker every minute is enabled. The outbox lives in the global
   * table, so exactly one region's schedule may be enabled: two regions draining it would send every
   * command twice.
   *
   * @default true
   */
  readonly jiraDrainEnabled?: boolean;

  /**
   * JIRA requests per minute per site, shared by every function that talks to JIRA or Slack.
   *
   * @default DEFAULT_JIRA_REQUESTS_PER_MINUTE - 100, JIRA Cloud's documented budget
   */
  readonly jiraRequestsPerMinute?: number;

  /** Where the integrations' alarms go (the stack's `convoy-alarms` topic). */
  readonly alarms: ConvoyAlarms;
}

/**
 * Convoy's GitHub, JIRA and Slack integrations in one region:
 *
 * - the `convoy/integrations` secret: a JSON object with one key per name in `SECRET_NAMES`
 *   (functions/handlers/secrets.ts), created with empty placeholders so no credential is ever in a template.
 *   `CONVOY_GITHUB_TOKEN` in it is used by the `github-worker` alone, to list pull requests' files;
 *   Fill it in the primary region; replicas follow:
 *   `aws secretsmanager put-secret-value --secret-id convoy/integrations --secret-string file://secrets.json`;
 * - the GitHub deliveries queue, encrypted and TLS-only, with a dead-letter queue, and the `github-worker`
 *   that consumes it with partial batch responses;
 * - the `jira-worker`, which drains the JIRA outbox every minute (EventBridge Scheduler), one run at a time;
 * - alarms on the dead-letter queue's depth and on the errors of the workers and webhook functions,
 *   added to {@link ConvoyIntegrationsProps.alarms}.
 *
 * The webhook functions come from the HTTP API; this construct adds their environment and grants.
 */
export class ConvoyIntegrations extends Construct {
  /** The integration credentials: the secret itself, or this region's replica of it. */
  readonly secret: ISecret;

  /** Verified GitHub deliveries waiting for {@link githubWorker}. */
  readonly githubQueue: Queue;

  /** Where a GitHub delivery goes after failing {@link GITHUB_MAX_RECEIVE_COUNT} times. */
  readonly githubDeadLetterQueue: Queue;

  /** Applies queued GitHub deliveries. */
  readonly githubWorker: AppFunction;

  /** Drains the JIRA outbox. */
  readonly jiraWorker: AppFunction;

  /** Runs {@link jiraWorker} every minute, when enabled. */
  readonly jiraDrainSchedule: Schedule;

  /** Its alarms: the dead-letter queue's depth, then the errors of each worker and webhook function. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ConvoyIntegrationsProps) {
    super(scope, id);
    const { table, httpFunctions } = props;
    this.secret = integrationsSecret(this, props);
    this.githubDeadLetterQueue = new Queue(this, 'GithubDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.githubQueue = new Queue(this, 'GithubQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda consumers: a batch that is retried while the worker still runs it would
      // be applied twice, so a message stays hidden for six worker timeouts.
      visibilityTimeout: Duration.seconds(6 * GITHUB_WORKER_TIMEOUT.toSeconds()),
      deadLetterQueue: { queue: this.githubDeadLetterQueue, maxReceiveCount: GITHUB_MAX_RECEIVE_COUNT },
    });

    const talksToJiraAndSlack = {
      [JIRA_REQUESTS_PER_MINUTE_ENV]: String(props.jiraRequestsPerMinute ?? DEFAULT_JIRA_REQUESTS_PER_MINUTE),
    };
    this.githubWorker = githubWorker(this, table, this.githubQueue, talksToJiraAndSlack);
    this.jiraWorker = jiraWorker(this, table, talksToJiraAndSlack);
    this.jiraDrainSchedule = jiraDrainSchedule(this, this.jiraWorker, props.jiraDrainEnabled ?? true);

    this.grantCredentials(httpFunctions);
    const githubWebhook = httpFunctions['webhook-github'];
    githubWebhook.addEnvironment(GITHUB_QUEUE_URL_ENV, this.githubQueue.queueUrl);
    this.githubQueue.grantSendMessages(githubWebhook);

    this.alarms = this.addAlarms(props.alarms, httpFunctions);
  }

  /** The webhook functions and both workers read the secret, whose ARN they are given. */
  private grantCredentials(httpFunctions: ConvoyIntegrationsProps['httpFunctions']): void {
    const credentialed = [
      ...WEBHOOK_HANDLERS.map((name) => httpFunctions[name]),
      this.githubWorker,
      this.jiraWorker,
    ];
    for (const fn of credentialed) {
      fn.addEnvironment(SECRETS_ARN_ENV, this.secret.secretArn);
      this.secret.grantRead(fn);
    }
  }

  /** The dead-letter queue's depth, then the errors of each worker and webhook function. */
  private addAlarms(alarms: ConvoyAlarms, httpFunctions: ConvoyIntegrationsProps['httpFunctions']): Alarm[] {
    const errorAlarmFunctions: [name: string, fn: AppFunction][] = [
      ['github-worker', this.githubWorker],
      ['jira-worker', this.jiraWorker],
      ...WEBHOOK_HANDLERS.map((name): [string, AppFunction] => [name, httpFunctions[name]]),
    ];
    return [
      alarms.add(this, 'GithubDeadLetterAlarm', {
        metric: this.githubDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        description:
          `GitHub deliveries failed ${GITHUB_MAX_RECEIVE_COUNT} times and wait in the dead-letter queue; ` +
          'see the github-worker logs, fix the cause, then redrive them',
      }),
      ...errorAlarmFunctions.map(([name, fn]) =>
        alarms.add(this, `${pascalCase(name)}ErrorsAlarm`, {
          metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          description: `The ${name} function failed (an uncaught error or a timeout) in the last 5 minutes`,
        }),
      ),
    ];
  }
}

/** The credentials secret: created (with replicas) in the primary region, its replica elsewhere. */
function integrationsSecret(scope: Construct, props: ConvoyIntegrationsProps): ISecret {
  if ((props.secretSource ?? 'create') === 'replica')
    return Secret.fromSecretNameV2(scope, 'Secret', INTEGRATIONS_SECRET_NAME);
  const secret = new Secret(scope, 'Secret', {
    secretName: INTEGRATIONS_SECRET_NAME,
    description:
      'Convoy GitHub, JIRA and Slack credentials (JSON). Fill with aws secretsmanager put-secret-value ' +
      'in the primary region; replicas follow',
    // Placeholders only. CloudFormation writes this value when the secret is created, and again only
    // if the template's value changes: so it keeps the keys it was first deployed with
    // (SECRET_TEMPLATE_NAMES), and a later optional key is put by hand beside them.
    secretObjectValue: Object.fromEntries(
      SECRET_TEMPLATE_NAMES.map((name) => [name, SecretValue.unsafePlainText('')]),
    ),
    replicaRegions: (props.secretReplicaRegions ?? []).map((region) => ({ region })),
  });
  NagSuppressions.addResourceSuppressions(secret, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret holds credentials that GitHub, JIRA and Slack issue (webhook secrets, a JIRA API token, ' +
        'a Slack bot token and signing secret): no rotation Lambda can mint them. They are rotated in those ' +
        'services and put with put-secret-value; the webhook secrets take two comma-separated values meanwhile',
    },
  ]);
  return secret;
}

/** Applies the GitHub deliveries `queue` holds, ten at a time, reporting each failed one. */
function githubWorker(
  scope: Construct,
  table: ITableV2,
  queue: Queue,
  environment: Record<string, string>,
): AppFunction {
  const worker = new AppFunction(scope, 'GithubWorkerFunction', {
    entryName: 'github-worker',
    description: WORKERS['github-worker'].description,
    timeout: GITHUB_WORKER_TIMEOUT,
    environment,
  });
  worker.bindTable(table, 'readwrite');
  worker.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
  return worker;
}

/** Drains the JIRA outbox, one run at a time. */
function jiraWorker(scope: Construct, table: ITableV2, environment: Record<string, string>): AppFunction {
  const worker = new AppFunction(scope, 'JiraWorkerFunction', {
    entryName: 'jira-worker',
    description: WORKERS['jira-worker'].description,
    timeout: JIRA_WORKER_TIMEOUT,
    // A command taken by two overlapping drains would be sent to JIRA twice, so at most one runs at a
    // time. The drain stops starting requests after 50 s, so a run ends before the next tick.
    reservedConcurrentExecutions: 1,
    environment,
  });
  worker.bindTable(table, 'readwrite');
  // Scheduler invokes asynchronously: a tick that arrives while a drain still runs is throttled and would
  // wait in Lambda's queue for hours. The next tick is a minute away, so a late or failed one is dropped.
  worker.configureAsyncInvoke({ maxEventAge: Duration.minutes(1), retryAttempts: 0 });
  return worker;
}

/** Runs the JIRA worker every minute; enabled in one region only. */
function jiraDrainSchedule(scope: Construct, worker: AppFunction, enabled: boolean): Schedule {
  const schedule = new Schedule(scope, 'JiraDrainSchedule', {
    description: 'Drains the Convoy JIRA outbox; enabled in one region only',
    schedule: ScheduleExpression.rate(Duration.minutes(1)),
    target: new LambdaInvoke(worker, {
      // Retries of the Invoke call itself (throttled API, service errors), within the tick's minute.
      retryAttempts: 2,
      maxEventAge: Duration.minutes(1),
    }),
    enabled,
  });
  acceptInvokeGrant(
    schedulerRoleOf(schedule),
    worker,
    'The role EventBridge Scheduler runs the JIRA drain schedule with',
  );
  return schedule;
}

function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
}
