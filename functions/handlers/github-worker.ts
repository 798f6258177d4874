import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type GithubDelivery, handleGithubDelivery } from '../core/integrations/github-events.js';
import { integrations } from './dependencies.js';
import { logger } from './logger.js';

/**
 * Applies queued GitHub deliveries. A delivery that fails is reported back as a batch item failure,
 * so SQS retries only it; after the queue's maxReceiveCount it lands in the dead-letter queue
 * (alarmed). Deliveries are idempotent to apply, because SQS delivers at least once.
 */
export const handler = middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { github } = await integrations();
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const delivery = JSON.parse(record.body) as GithubDelivery;
      const outcome = await handleGithubDelivery(github, delivery);
      logger.info('github delivery applied', { delivery: delivery.id, event: delivery.event, ...outcome });
    } catch (error) {
      logger.error('github delivery failed; SQS will retry it', {
        messageId: record.messageId,
        error: (error as Error).message,
      });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}).use(injectLambdaContext(logger));
