import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { type Archive, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IFunction, Function as LambdaFunctionResource } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CONVOY_EVENT_SOURCE,
  DETAIL_TYPES,
  type DomainEventRule,
  domainEventPattern,
} from '../../functions/core/domain-events.js';
import { EVENT_BUS_NAME_ENV } from '../../functions/handlers/env-names.js';
import type { ConvoyAlarms } from './alarms.js';
import { acceptDeadLetterQueue } from './nag-suppressions.js';

/** Name of Convoy's event bus, in every region: buses are regional, so one name serves them all. */
export const DEFAULT_EVENT_BUS_NAME = 'convoy';

/** How long the archive keeps events when {@link ConvoyEventsProps.archiveRetention} is not set. */
export const DEFAULT_ARCHIVE_RETENTION = Duration.days(90);

// EventBridge retries a delivery it could not make (a throttled or failing Invoke) with backoff, up to these
// limits, then puts the event in the rule's dead-letter queue. The gate-review schedule evaluates a phase's
// gate too, so a late start is no worse than a schedule's wait.
const TARGET_RETRY_ATTEMPTS = 10;
const TARGET_MAX_EVENT_AGE = Duration.hours(2);

// Archive names: 1 to 48 of these characters.
const ARCHIVE_NAME = /^[.\-_A-Za-z0-9]{1,48}$/;

/** Properties of {@link ConvoyEvents}. */
export interface ConvoyEventsProps {
  /**
   * Name of the event bus.
   *
   * @default DEFAULT_EVENT_BUS_NAME - `convoy`
   */
  readonly eventBusName?: string;

  /**
   * Name of the archive of Convoy's events, which `aws events start-replay` replays from.
   *
   * @default - `<eventBusName>-archive`
   */
  readonly archiveName?: string;

  /**
   * How long the archive keeps Convoy's events, so teams can replay them into a new or fixed rule.
   *
   * @default DEFAULT_ARCHIVE_RETENTION - 90 days
   */
  readonly archiveRetention?: Duration;

  /**
   * Where the alarm on each rule's dead-letter queue goes (the stack's `convoy-alarms` topic).
   *
   * @default - no alarms
   */
  readonly alarms?: ConvoyAlarms;
}

/** A rule of Convoy's bus with a Lambda target, and where the events it could not deliver go. */
export interface ConvoyEventRule {
  readonly rule: Rule;
  /** Events EventBridge could not deliver to the target after its retries, kept 14 days. */
  readonly deadLetterQueue: Queue;
  /** Fires when {@link deadLetterQueue} holds a message; only with {@link ConvoyEventsProps.alarms}. */
  readonly deadLetterAlarm?: Alarm;
}

/** Options of {@link ConvoyEvents.addLambdaRule}. */
export interface ConvoyLambdaRuleOptions {
  /** Which Convoy events the rule matches; its pattern always has `source: ['convoy']`. */
  readonly match: DomainEventRule;
  /** The function EventBridge invokes (asynchronously) with each matching event. */
  readonly target: IFunction;
  readonly description: string;
}

/**
 * Convoy's domain events in one region (see docs/events.md):
 *
 * - the `convoy` custom event bus, which Convoy's functions publish to (source `convoy`) and on which teams
 *   add rules of their own;
 * - an archive of every Convoy event on it, kept {@link ConvoyEventsProps.archiveRetention}, to replay;
 * - rules with Lambda targets, each with a retry policy and its own encrypted, TLS-only dead-letter queue
 *   (and an alarm on its depth when there are {@link ConvoyEventsProps.alarms}), among them the one that starts the phase gate
 *   ({@link onPhaseTasksCompleted}).
 *
 * Let a function publish with {@link grantPublish}.
 */
export class ConvoyEvents extends Construct {
  /** The event bus. */
  readonly bus: EventBus;

  /** Every event with source `convoy`, kept for replays. */
  readonly archive: Archive;

  private readonly alarms: ConvoyAlarms | undefined;

  constructor(scope: Construct, id: string, props: ConvoyEventsProps = {}) {
    super(scope, id);
    const eventBusName = props.eventBusName ?? DEFAULT_EVENT_BUS_NAME;
    const archiveName = props.archiveName ?? `${eventBusName}-archive`;
    if (!ARCHIVE_NAME.test(archiveName)) {
      throw new Error(
        `ConvoyEvents ${id}: archive name "${archiveName}" must be 1 to 48 letters, digits, ., - or _; set archiveName`,
      );
    }
    this.alarms = props.alarms;

    this.bus = new EventBus(this, 'Bus', {
      eventBusName,
      description: 'Convoy domain events (source convoy); add rules of your own, see docs/events.md',
    });
    this.archive = this.bus.archive('Archive', {
      archiveName,
      description: 'Every Convoy domain event, for replays',
      eventPattern: { source: [CONVOY_EVENT_SOURCE] },
      retention: props.archiveRetention ?? DEFAULT_ARCHIVE_RETENTION,
    });
  }

  /**
   * Lets `fn` put events with source `convoy` on this bus only (`events:PutEvents`), and passes the bus's
   * name in `CONVOY_EVENT_BUS_NAME`.
   */
  grantPublish(fn: LambdaFunctionResource): Grant {
    fn.addEnvironment(EVENT_BUS_NAME_ENV, this.bus.eventBusName);
    return Grant.addToPrincipal({
      grantee: fn,
      actions: ['events:PutEvents'],
      resourceArns: [this.bus.eventBusArn],
      // Every entry of the request must carry Convoy's source: a function cannot pass for another producer.
      conditions: { 'ForAllValues:StringEquals': { 'events:source': [CONVOY_EVENT_SOURCE] } },
    });
  }

  /**
   * The rule that starts the phase-gate workflow: `Phase Tasks Completed` events go to `target`, which
   * starts the execution. Step Functions is not the rule's target because a target cannot choose the
   * execution's name, and Convoy names executions after project, phase and attempt so that a duplicate
   * start (EventBridge delivers at least once) is refused.
   */
  onPhaseTasksCompleted(target: IFunction): ConvoyEventRule {
    return this.addLambdaRule('PhaseTasksCompleted', {
      match: { detailType: DETAIL_TYPES['phase.tasks_completed'] },
      target,
      description: 'Starts the Convoy phase-gate workflow when every task of a phase is done',
    });
  }

  /** A rule on this bus that invokes `options.target` for the matching Convoy events. */
  addLambdaRule(id: string, options: ConvoyLambdaRuleOptions): ConvoyEventRule {
    const pattern = domainEventPattern(options.match);
    const deadLetterQueue = new Queue(this, `${id}DeadLetterQueue`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acceptDeadLetterQueue(deadLetterQueue, `the ${id} rule's target`);
    const rule = new Rule(this, `${id}Rule`, {
      eventBus: this.bus,
      description: options.description,
      eventPattern: {
        source: [...pattern.source],
        ...(pattern['detail-type'] ? { detailType: [...pattern['detail-type']] } : {}),
        ...(pattern.detail ? { detail: pattern.detail } : {}),
      },
      targets: [
        new LambdaFunction(options.target, {
          deadLetterQueue,
          retryAttempts: TARGET_RETRY_ATTEMPTS,
          maxEventAge: TARGET_MAX_EVENT_AGE,
        }),
      ],
    });
    if (!this.alarms) return { rule, deadLetterQueue };

    const deadLetterAlarm = this.alarms.add(this, `${id}DeadLetterAlarm`, {
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      description:
        `EventBridge could not deliver Convoy events to the target of the ${id} rule after its retries; ` +
        'they wait in its dead-letter queue (see docs/events.md)',
    });
    return { rule, deadLetterQueue, deadLetterAlarm };
  }
}
