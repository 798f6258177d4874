import type { DomainEvent } from '../../core/domain-events.js';
import { copy, type Write } from './table.js';

/**
 * The in-memory stand-in for the state table's stream, as far as domain events go: the domain event
 * items the stores' transactions write, and the order they were inserted in. Putting an event whose
 * id is stored already inserts nothing (DynamoDB writes no INSERT record for it, and the publisher
 * reads inserts only).
 */
export class MemoryEventStream {
  private readonly stored = new Set<string>();
  private readonly inserted: DomainEvent[] = [];
  private delivered = 0;

  /** The put of a domain event item, part of a store's transaction. */
  put(event: DomainEvent): Write {
    return {
      item: `domain-event\n${event.id}`,
      apply: () => {
        if (this.stored.has(event.id)) return;
        this.stored.add(event.id);
        this.inserted.push(copy(event));
      },
    };
  }

  /** The events inserted and not yet acknowledged, oldest first. */
  pending(): DomainEvent[] {
    return this.inserted.slice(this.delivered).map(copy);
  }

  /** Moves past the first `count` pending events: they were delivered. */
  acknowledge(count: number): void {
    this.delivered = Math.min(this.inserted.length, this.delivered + count);
  }
}
