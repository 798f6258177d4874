import type { Clock } from '../core/ports.js';

/**
 * The clock of `convoy dev`: it starts at the real time and runs `speed` times faster, so a demo sees a
 * day of schedules, monitors and SLAs in minutes. Every timer of the local runtime waits on it.
 */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  private readonly start: number;

  constructor(
    readonly speed = 1,
    start: Date = new Date(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`clock speed must be a number > 0, got ${speed}`);
    this.start = start.getTime();
  }

  now(): Date {
    return new Date(this.start + (Date.now() - this.realStart) * this.speed);
  }

  /** Real milliseconds until the clock shows `instant` (0 when it has passed). */
  realMsUntil(instant: Date): number {
    return Math.max(0, (instant.getTime() - this.now().getTime()) / this.speed);
  }

  /** Real milliseconds for a span of clock time. */
  realMs(clockMs: number): number {
    return clockMs / this.speed;
  }
}
