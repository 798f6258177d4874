import type { OutboxCommand, OutboxEntry } from '../../core/integrations/model.js';
import type { Outbox } from '../../core/ports.js';
import { compareKeys, copy, type Write } from './table.js';

interface Stored {
  readonly entry: OutboxEntry;
  readonly dead: boolean;
}

/** The outbox in memory, as DynamoDbOutbox keeps it: pending by `<notBefore>#<id>`, dead letters apart. */
export class MemoryOutbox implements Outbox {
  private readonly entries = new Map<string, Stored>();

  /** Whether any entry waits to run (due now or later). */
  get isEmpty(): boolean {
    for (const stored of this.entries.values()) if (!stored.dead) return false;
    return true;
  }

  /**
   * Every entry is due at once; entries of one call get `createdAt` one millisecond apart, in the
   * order given. An id already present, pending or dead, is left as it is.
   */
  async enqueue(
    entries: readonly { id: string; project: string; command: OutboxCommand }[],
    now: Date,
  ): Promise<number> {
    let added = 0;
    entries.forEach((entry, index) => {
      if (this.entries.has(entry.id)) return;
      this.put(entry, now.toISOString(), new Date(now.getTime() + index).toISOString()).apply();
      added++;
    });
    return added;
  }

  async due(now: Date, limit: number): Promise<OutboxEntry[]> {
    if (limit < 1) return [];
    // As the index query: every `<notBefore>#<id>` before the bare ISO time of the next millisecond.
    const after = new Date(now.getTime() + 1).toISOString();
    const bounded = /^\d{4}-/.test(after);
    return this.list(false)
      .filter((entry) => !bounded || compareKeys(sortKey(entry), after) < 0)
      .slice(0, limit);
  }

  async complete(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async retryLater(id: string, attempts: number, notBefore: Date, error: string): Promise<void> {
    this.updatePending(id, false, { attempts, notBefore: notBefore.toISOString(), lastError: error });
  }

  /** The dead letter's `notBefore` becomes the time it died, which is what dead letters sort by. */
  async deadLetter(id: string, attempts: number, error: string, now: Date): Promise<void> {
    this.updatePending(id, true, { attempts, notBefore: now.toISOString(), lastError: error });
  }

  async deadLetters(): Promise<OutboxEntry[]> {
    return this.list(true);
  }

  /** The unconditional put of a new entry, due at `notBefore` (also part of other stores' transactions). */
  put(
    entry: { id: string; project: string; command: OutboxCommand },
    notBefore: string,
    createdAt: string,
  ): Write {
    return {
      item: `outbox\n${entry.id}`,
      apply: () =>
        this.entries.set(entry.id, {
          entry: {
            id: entry.id,
            project: entry.project,
            command: copy(entry.command),
            attempts: 0,
            notBefore,
            createdAt,
          },
          dead: false,
        }),
    };
  }

  /** Changes an entry only while it is pending: one another worker completed stays gone. */
  private updatePending(
    id: string,
    dead: boolean,
    change: { attempts: number; notBefore: string; lastError: string },
  ): void {
    const stored = this.entries.get(id);
    if (stored && !stored.dead) this.entries.set(id, { entry: { ...stored.entry, ...change }, dead });
  }

  private list(dead: boolean): OutboxEntry[] {
    return [...this.entries.values()]
      .filter((stored) => stored.dead === dead)
      .map((stored) => stored.entry)
      .sort((a, b) => compareKeys(sortKey(a), sortKey(b)))
      .map(copy);
  }
}

const sortKey = (entry: OutboxEntry) => `${entry.notBefore}#${entry.id}`;
