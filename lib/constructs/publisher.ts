import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DOMAIN_EVENT_PREFIX } from '../../functions/adapters/dynamodb/keys.js';
import { WORKERS } from '../../functions/handlers/routes.js';
import type { ConvoyAlarms } from './alarms.js';
import { AppFunction } from './app-function.js';
import type { ConvoyEvents } from './events.js';
import { acceptDeadLetterQueue } from './nag-suppressions.js';

/** Properties of {@link ConvoyPublisher}. */
export interface ConvoyPublisherProps {
  /** The state table that owns the stream (the primary region's: it carries every replica's writes). */
  readonly table: ITableV2;
  /** The bus the domain events go to. */
  readonly events: ConvoyEvents;
  /** Where the alarm on the failure queue goes. @default - no alarm */
  readonly alarms?: ConvoyAlarms;
}

/** How often a failing batch is tried again (halved each time) before it goes to the failure queue. */
export const PUBLISHER_RETRY_ATTEMPTS = 10;

/**
 * The publisher of the transactional outbox: use cases write their domain events into the state table
 * in the transaction of the change they report, and the table's stream invokes this function with the
 * inserted event items (a filter on the stream drops every other record before Lambda is invoked).
 * It puts them on the Convoy bus and runs their followers.
 *
 * A Lambda function on the stream rather than an EventBridge Pipe: the events need code between the
 * stream and the bus (a DynamoDB image is not the event's JSON; a pipe's input template cannot turn
 * the stored map back into it), and the followers (phases settling, escalation rules) read and write
 * the table. A failure reports the first record not delivered; Lambda retries from there, halving the
 * batch (bisect), and after {@link PUBLISHER_RETRY_ATTEMPTS} tries sends the batch's place in the
 * stream to an SQS queue (the records stay in the stream for 24 hours) with an alarm on its depth.
 */
export class ConvoyPublisher extends Construct {
  readonly function: AppFunction;
  readonly failureQueue: Queue;

  constructor(scope: Construct, id: string, props: ConvoyPublisherProps) {
    super(scope, id);
    this.function = new AppFunction(this, 'Function', {
      entryName: 'publisher',
      description: WORKERS.publisher.description,
    });
    this.function.bindTable(props.table, 'readwrite');
    props.events.grantPublish(this.function);
    this.failureQueue = new Queue(this, 'FailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acceptDeadLetterQueue(this.failureQueue, 'the publisher (batches it could not deliver)');
    this.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(0),
        // One batch at a time per shard keeps the events of a shard in table order.
        parallelizationFactor: 1,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: PUBLISHER_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.failureQueue),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { pk: { S: FilterRule.beginsWith(DOMAIN_EVENT_PREFIX) } } },
          }),
        ],
      }),
    );
    props.alarms?.add(this, 'FailureAlarm', {
      metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      description:
        'The publisher could not deliver domain events after its retries: their place in the table stream waits in the failure queue (docs/events.md)',
    });
  }
}
