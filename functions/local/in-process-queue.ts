import type { WorkQueue } from '../core/ports.js';

export interface InProcessQueueOptions<T> {
  readonly consume: (message: T) => Promise<void>;
  /** Tries before a message is given up (SQS's maxReceiveCount). @default 5 */
  readonly maxAttempts?: number;
  /** First retry delay, doubled each time. @default 1000 */
  readonly retryDelayMs?: number;
  readonly onDeadLetter?: (message: T, error: unknown) => void;
}

/**
 * The local stand-in for an SQS queue and its worker: `send` returns at once and the consumer runs
 * soon after; a failed message is retried with backoff, at least once, like SQS with a redrive policy.
 */
export class InProcessQueue<T> implements WorkQueue<T> {
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: InProcessQueueOptions<T>) {}

  async send(message: T): Promise<void> {
    if (this.stopped) throw new Error('the queue is stopped');
    const work = this.run(message).finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  private async run(message: T): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      await new Promise((resolve) => setImmediate(resolve));
      try {
        await this.options.consume(message);
        return;
      } catch (error) {
        if (attempt >= maxAttempts || this.stopped) {
          this.options.onDeadLetter?.(message, error);
          return;
        }
        await new Promise((resolve) =>
          setTimeout(resolve, (this.options.retryDelayMs ?? 1000) * 2 ** (attempt - 1)),
        );
      }
    }
  }

  /** Resolves when every message sent so far has been handled (or given up). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async stop(): Promise<void> {
    await this.idle();
    this.stopped = true;
  }
}
