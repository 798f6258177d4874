import type { OutboxCommand, OutboxEntry } from '../../core/integrations/model.js';
import type { Outbox } from '../../core/ports.js';

/**
 * The outbox of a simulation, in memory, with the port's semantics: an id already pending is left as
 * it is, entries come out oldest first, a completed one is gone. Nothing in a simulation is sent
 * anywhere, and a simulated day posts a hundred messages or more: a round trip to DynamoDB Local to
 * queue, list and delete each would be much of the run's time and change nothing it shows.
 */
export class MemoryOutbox implements Outbox {
  private readonly pending = new Map<string, OutboxEntry>();
  private readonly dead: OutboxEntry[] = [];

  /** Whether a drain would find anything. */
  get isEmpty(): boolean {
    return this.pending.size === 0;
  }

  async enqueue(
    entries: readonly { id: string; project: string; command: OutboxCommand }[],
    now: Date,
  ): Promise<number> {
    let added = 0;
    entries.forEach((entry, index) => {
      if (this.pending.has(entry.id)) return;
      this.pending.set(entry.id, {
        ...entry,
        attempts: 0,
        notBefore: now.toISOString(),
        createdAt: new Date(now.getTime() + index).toISOString(),
      });
      added++;
    });
    return added;
  }

  async due(now: Date, limit: number): Promise<OutboxEntry[]> {
    return [...this.pending.values()]
      .filter((entry) => Date.parse(entry.notBefore) <= now.getTime())
      .sort((a, b) => a.notBefore.localeCompare(b.notBefore) || a.createdAt.localeCompare(b.createdAt))
      .slice(0, limit);
  }

  async complete(id: string): Promise<void> {
    this.pending.delete(id);
  }

  async retryLater(id: string, attempts: number, notBefore: Date, error: string): Promise<void> {
    const entry = this.pending.get(id);
    if (entry)
      this.pending.set(id, { ...entry, attempts, notBefore: notBefore.toISOString(), lastError: error });
  }

  async deadLetter(id: string, attempts: number, error: string, now: Date): Promise<void> {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    this.dead.push({ ...entry, attempts, notBefore: now.toISOString(), lastError: error });
  }

  async deadLetters(): Promise<OutboxEntry[]> {
    return [...this.dead];
  }
}
