import type { RateLimiter } from '../../core/ports.js';

/** The token bucket of DynamoDbRateLimiter in one process: each token comes back a window after it was taken. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly capacity: number;
  private readonly windowMs: number;
  private taken: number[] = [];

  constructor(options: { capacity?: number; windowMs?: number } = {}) {
    this.capacity = options.capacity ?? 100;
    this.windowMs = options.windowMs ?? 60_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1 || this.capacity > 1_000)
      throw new RangeError(
        `rate limit capacity must be a whole number from 1 to 1000, got ${this.capacity}: ` +
          'for a higher rate, use a shorter window',
      );
    if (!(this.windowMs > 0))
      throw new RangeError(
        `rate limit window must be a positive number of milliseconds, got ${this.windowMs}`,
      );
  }

  async tryAcquire(now: Date): Promise<number> {
    const at = now.getTime();
    const out = this.taken.filter((taken) => taken > at - this.windowMs).sort((a, b) => a - b);
    if (out.length >= this.capacity)
      return Math.max(1, (out[out.length - this.capacity] as number) + this.windowMs - at);
    this.taken = [...out, at];
    return 0;
  }
}
