import type { IdempotencyClaim, IdempotencyStore } from '../../core/ports.js';

interface IdempotencyRecord {
  readonly state: 'in_progress' | 'done';
  readonly fingerprint: string;
  /** The outcome as JSON, so what is read back is a copy. */
  readonly outcome?: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** Idempotency records in memory; one whose time is up counts as absent, as in DynamoDB. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  async claim(key: string, fingerprint: string, now: Date, holdSeconds: number): Promise<IdempotencyClaim> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const record = this.records.get(key);
    if (!record || record.expiresAt < nowSeconds) {
      this.records.set(key, { state: 'in_progress', fingerprint, expiresAt: nowSeconds + holdSeconds });
      return { state: 'new' };
    }
    if (record.state !== 'done') return { state: 'in_progress' };
    return { state: 'done', fingerprint: record.fingerprint, outcome: JSON.parse(record.outcome as string) };
  }

  async complete(
    key: string,
    fingerprint: string,
    outcome: unknown,
    now: Date,
    keepSeconds: number,
  ): Promise<void> {
    this.records.set(key, {
      state: 'done',
      fingerprint,
      outcome: JSON.stringify(outcome),
      expiresAt: Math.floor(now.getTime() / 1000) + keepSeconds,
    });
  }

  async release(key: string): Promise<void> {
    this.records.delete(key);
  }
}
