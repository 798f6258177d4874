import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sha256Hex } from '../../functions/adapters/node/sha256.js';
import type { Plan } from '../../functions/core/plan/index.js';
import { MONITORS, type MonitorName, scheduleCron } from '../../functions/core/schedules/index.js';
import { JIRA_REQUESTS_PER_MINUTE_ENV, SECRETS_ARN_ENV } from '../../functions/handlers/env-names.js';
import { WORKERS } from '../../functions/handlers/routes.js';
import type { ConvoyAlarms } from './alarms.js';
import { AppFunction } from './app-function.js';
import { DEFAULT_JIRA_REQUESTS_PER_MINUTE } from './integrations.js';
import { acceptDeadLetterQueue, acceptInvokeGrant, schedulerRoleOf } from './nag-suppressions.js';

/** Name of the EventBridge Scheduler schedule group holding every plan schedule and monitor, in every region. */
export const SCHEDULE_GROUP_NAME = 'convoy';

/** EventBridge Scheduler allows schedule names of up to 64 characters. */
const MAX_SCHEDULE_NAME_LENGTH = 64;

/** A standup delivered more than an hour late is not worth posting; its dead-letter message says it was missed. */
const JOB_MAX_EVENT_AGE = Duration.hours(1);

/** Attempts of the Invoke call itself (throttled API, service errors) within {@link JOB_MAX_EVENT_AGE}. */
const JOB_INVOKE_RETRIES = 5;

/** Posting goes through the outbox, so a job only reads state and enqueues; a report over a big plan is the longest. */
const JOB_TIMEOUT = Duration.seconds(60);

/** Attempts of a monitor's Invoke call within its period. */
const MONITOR_INVOKE_RETRIES = 2;

/** Under the heartbeat monitor's one-minute rate, so one run ends before the next begins. */
const MONITOR_TIMEOUT = Duration.seconds(50);

/** Properties of {@link ConvoySchedules}. */
export interface ConvoySchedulesProps {
  /** The coordination state table as seen from this region; both functions read and write it. */
  readonly table: ITableV2;

  /**
   * The plans whose schedules run here: one EventBridge Scheduler schedule per entry of `plan.schedules`,
   * in the plan's time zone. Project ids must be unique.
   *
   * @default - none: only the monitors run
   */
  readonly plans?: readonly Plan[];

  /**
   * The integration credentials (`ConvoyIntegrations.secret`): jobs and monitors post to Slack through the
   * outbox and may call JIRA.
   */
  readonly secret: ISecret;

  /** Where the schedules' alarms go (the stack's `convoy-alarms` topic). */
  readonly alarms: ConvoyAlarms;

  /**
   * Whether the schedules are enabled. The table is global, so exactly one region's schedules may be: two
   * regions running them would post every standup twice.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * JIRA requests per minute per site, shared by every function that talks to JIRA or Slack.
   *
   * @default DEFAULT_JIRA_REQUESTS_PER_MINUTE - 100, JIRA Cloud's documented budget
   */
  readonly jiraRequestsPerMinute?: number;
}

/** One EventBridge Scheduler schedule of Convoy, with the queue and alarm that catch its failed deliveries. */
export interface ConvoyScheduleResources {
  /** The schedule's name in the `convoy` group: `<project>.<schedule id>` for a plan, the monitor's name. */
  readonly name: string;
  readonly schedule: Schedule;
  /** Where an invocation goes when the scheduler could not deliver it within its retry policy. */
  readonly deadLetterQueue: Queue;
  /** Fires when {@link deadLetterQueue} holds a message. */
  readonly deadLetterAlarm: Alarm;
}

/**
 * The plans' rhythm in one region: the `scheduled-job` function run by one EventBridge Scheduler schedule per
 * plan schedule (a cron in the project time zone, so daylight saving is AWS's business), and the `monitor`
 * function run at the fixed rates of `MONITORS`, all in the `convoy` schedule group.
 *
 * The cron fires at the schedule's local time on each of its days; the job itself skips holidays, non-working
 * days and the days an `every` cadence leaves out (`isScheduledRun`). Each schedule retries its invocation and
 * then sends it to its own dead-letter queue; a job that fails in the function is retried by Lambda and then
 * kept in {@link ConvoySchedules.jobFailureQueue}. Every queue's depth alarms on the `convoy-alarms` topic, as
 * do errors of either function. Every schedule is enabled only when {@link ConvoySchedulesProps.enabled} is.
 */
export class ConvoySchedules extends Construct {
  /** The `convoy` schedule group. */
  readonly group: ScheduleGroup;

  /** Runs one plan schedule (standup, sync, report, gate review, weekly summary) per fire time. */
  readonly jobFunction: AppFunction;

  /**
   * Where a job that still failed after Lambda's retries goes, with its input and error. Scheduler invokes
   * Lambda asynchronously, so a schedule's dead-letter queue only catches invocations it could not deliver.
   */
  readonly jobFailureQueue: Queue;

  /** Runs the monitors over every project. */
  readonly monitorFunction: AppFunction;

  /** One per schedule of each plan, in plan order. */
  readonly jobs: readonly ConvoyScheduleResources[];

  /** One per entry of `MONITORS`. */
  readonly monitors: readonly ConvoyScheduleResources[];

  /**
   * Every alarm: each schedule's dead-letter queue depth, the job failure queue's depth, then the errors of
   * each function.
   */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ConvoySchedulesProps) {
    super(scope, id);
    const plans = props.plans ?? [];
    const duplicate = plans.find(
      (plan, i) => plans.findIndex((other) => other.project.id === plan.project.id) !== i,
    );
    if (duplicate) {
      throw new Error(`ConvoySchedules ${id}: two plans have the project id ${duplicate.project.id}`);
    }
    const enabled = props.enabled ?? true;
    const { alarms } = props;

    this.group = new ScheduleGroup(this, 'Group', {
      scheduleGroupName: SCHEDULE_GROUP_NAME,
      // The schedules belong to this stack: a retained group would keep its name and block the next deploy.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const environment = {
      [JIRA_REQUESTS_PER_MINUTE_ENV]: String(props.jiraRequestsPerMinute ?? DEFAULT_JIRA_REQUESTS_PER_MINUTE),
    };
    this.jobFunction = new AppFunction(this, 'ScheduledJobFunction', {
      entryName: 'scheduled-job',
      description: WORKERS['scheduled-job'].description,
      timeout: JOB_TIMEOUT,
      environment,
      // The daily report and the weekly summary draw the burndown chart.
      drawsCharts: true,
      memorySize: 1024,
    });
    this.jobFailureQueue = new Queue(this, 'ScheduledJobFailureQueue', {
      queueName: 'convoy-scheduled-job-failures',
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acceptDeadLetterQueue(
      this.jobFailureQueue,
      "the scheduled-job function (its asynchronous invocations' on-failure destination)",
    );
    // Lambda's own retries of a failed job, within the hour a standup is still worth posting; then the
    // invocation record (input and error) is kept for an operator.
    this.jobFunction.configureAsyncInvoke({
      maxEventAge: JOB_MAX_EVENT_AGE,
      retryAttempts: 2,
      onFailure: new SqsDestination(this.jobFailureQueue),
    });
    this.monitorFunction = new AppFunction(this, 'MonitorFunction', {
      entryName: 'monitor',
      description: WORKERS.monitor.description,
      timeout: MONITOR_TIMEOUT,
      environment,
    });
    // A monitor's next tick is at most 15 minutes away and does the same work, so a failed or late one is dropped.
    this.monitorFunction.configureAsyncInvoke({ maxEventAge: Duration.minutes(1), retryAttempts: 0 });
    for (const fn of [this.jobFunction, this.monitorFunction]) {
      fn.bindTable(props.table, 'readwrite');
      fn.addEnvironment(SECRETS_ARN_ENV, props.secret.secretArn);
      props.secret.grantRead(fn);
    }

    this.jobs = plans.flatMap((plan) => {
      const scope = new Construct(this, plan.project.id);
      return plan.schedules.map((schedule) => {
        const cron = scheduleCron(plan, schedule);
        const cadence = schedule.every && schedule.every > 1 ? `, every ${schedule.every} working days` : '';
        return this.addSchedule(scope, schedule.id, alarms, {
          name: scheduleName(`${plan.project.id}.${schedule.id}`),
          enabled,
          description: `${schedule.job} of ${plan.project.id} at ${schedule.at} ${cron.timeZone} on ${schedule.days.join(', ')}${cadence}`,
          expression: ScheduleExpression.cron({
            minute: cron.minute,
            hour: cron.hour,
            weekDay: cron.weekDay,
            timeZone: TimeZone.of(cron.timeZone),
          }),
          fn: this.jobFunction,
          input: { project: plan.project.id, schedule: schedule.id },
          retryAttempts: JOB_INVOKE_RETRIES,
          maxEventAge: JOB_MAX_EVENT_AGE,
        });
      });
    });

    const monitorScope = new Construct(this, 'Monitors');
    this.monitors = MONITORS.map((monitor) => {
      const period = Duration.minutes(monitor.everyMinutes);
      return this.addSchedule(monitorScope, monitor.name, alarms, {
        name: monitor.name,
        enabled,
        description: `${monitor.description}; every ${monitor.everyMinutes} min`,
        expression: ScheduleExpression.rate(period),
        fn: this.monitorFunction,
        input: { monitor: monitor.name satisfies MonitorName },
        retryAttempts: MONITOR_INVOKE_RETRIES,
        // A run later than the next one is of no use.
        maxEventAge: period,
      });
    });

    this.alarms = [
      ...[...this.jobs, ...this.monitors].map((entry) => entry.deadLetterAlarm),
      alarms.add(this, 'ScheduledJobFailureAlarm', {
        name: 'convoy-scheduled-job-failures',
        metric: this.jobFailureQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        description:
          'A scheduled job failed after its retries; its input and error wait in convoy-scheduled-job-failures ' +
          '(see docs/operations.md)',
      }),
      alarms.add(this, 'ScheduledJobErrorsAlarm', {
        name: 'convoy-scheduled-job-errors',
        metric: this.jobFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        description:
          'The scheduled-job function failed (an uncaught error or a timeout) in the last 5 minutes',
      }),
      alarms.add(this, 'MonitorErrorsAlarm', {
        name: 'convoy-monitor-errors',
        metric: this.monitorFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        description: 'The monitor function failed (an uncaught error or a timeout) in the last 5 minutes',
      }),
    ];
  }

  /**
   * A schedule in the `convoy` group that invokes `fn` with `input` plus the time it was scheduled for,
   * with its own dead-letter queue and an alarm on its depth.
   */
  private addSchedule(
    scope: Construct,
    id: string,
    alarms: ConvoyAlarms,
    options: {
      readonly name: string;
      readonly enabled: boolean;
      readonly description: string;
      readonly expression: ScheduleExpression;
      readonly fn: AppFunction;
      readonly input: Readonly<Record<string, string>>;
      readonly retryAttempts: number;
      readonly maxEventAge: Duration;
    },
  ): ConvoyScheduleResources {
    const deadLetterQueue = new Queue(scope, `${id}DeadLetterQueue`, {
      queueName: deadLetterQueueName(options.name),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const schedule = new Schedule(scope, `${id}Schedule`, {
      scheduleName: options.name,
      scheduleGroup: this.group,
      description: options.description,
      schedule: options.expression,
      target: new LambdaInvoke(options.fn, {
        input: ScheduleTargetInput.fromObject({
          ...options.input,
          scheduledTime: ContextAttribute.scheduledTime,
        }),
        retryAttempts: options.retryAttempts,
        maxEventAge: options.maxEventAge,
        deadLetterQueue,
      }),
      enabled: options.enabled,
    });
    acceptDeadLetterQueue(deadLetterQueue, `the ${options.name} schedule's target`);
    acceptInvokeGrant(
      schedulerRoleOf(schedule),
      options.fn,
      `The role EventBridge Scheduler runs the ${options.fn === this.jobFunction ? 'plan' : 'monitor'} schedules with`,
    );
    const deadLetterAlarm = alarms.add(scope, `${id}DeadLetterAlarm`, {
      name: `convoy-${options.name}-dead-letters`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      description:
        `EventBridge Scheduler could not invoke the target of the ${options.name} schedule after its retries; ` +
        'the missed run waits in its dead-letter queue (see docs/operations.md)',
    });
    return { name: options.name, schedule, deadLetterQueue, deadLetterAlarm };
  }
}

/** `<project>.<schedule>`, shortened with a hash when it is over EventBridge Scheduler's limit. */
function scheduleName(name: string): string {
  if (name.length <= MAX_SCHEDULE_NAME_LENGTH) return name;
  const hash = sha256Hex(name, 8);
  return `${name.slice(0, MAX_SCHEDULE_NAME_LENGTH - hash.length - 1)}-${hash}`;
}

/** `convoy-<project>_<schedule>-dlq`: queue names allow no dots, and at most 80 characters. */
export function deadLetterQueueName(scheduleName: string): string {
  return `convoy-${scheduleName.replaceAll('.', '_')}-dlq`;
}
