import type { SQSClient } from '@aws-sdk/client-sqs';
import type { WorkQueue } from '../../core/ports.js';

/** A WorkQueue on SQS: messages as JSON; retries and the dead-letter queue are the queue's redrive policy. */
export class SqsWorkQueue<T> implements WorkQueue<T> {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(message: T): Promise<void> {
    // The SDK module loads on the first send, not with the function (see sfn-gate-workflow.ts).
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }),
    );
  }
}
