import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { domainEventOfRecord } from '../adapters/dynamodb/domain-event-stream.js';
import type { DomainEvent } from '../core/domain-events.js';
import { deliverDomainEvents } from '../core/integrations/publisher.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';

/**
 * The publisher: the table's stream (filtered to inserted domain event items of this region) invokes
 * it with a batch in table order; it puts the events on the EventBridge bus and runs their followers.
 * A failure answers with the first record not delivered (ReportBatchItemFailures): Lambda retries
 * from there, halving the batch (bisect), and after the last retry sends the batch's description to
 * the on-failure queue; the records stay in the stream for 24 hours.
 */
export const makePublisherHandler = (deps: HandlerDependencies) =>
  middy(async (stream: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const events: { event: DomainEvent; sequence: string }[] = [];
    for (const record of stream.Records) {
      const event = domainEventOfRecord(record as Parameters<typeof domainEventOfRecord>[0]);
      if (event) events.push({ event, sequence: record.dynamodb?.SequenceNumber as string });
    }
    if (!deps.events) throw new Error('the publisher has no event bus (CONVOY_EVENT_BUS_NAME is not set)');
    let delivered = 0;
    try {
      delivered = await deliverDomainEvents(
        { ...deps, events: deps.events },
        events.map(({ event }) => event),
        (line) => deps.logger.warn(line),
      );
    } catch (error) {
      deps.logger.error('the bus refused the batch', { error: error as Error, events: events.length });
    }
    const failed = events[delivered];
    deps.logger.info('published', { delivered, of: events.length });
    return { batchItemFailures: failed ? [{ itemIdentifier: failed.sequence }] : [] };
  }).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makePublisherHandler);
