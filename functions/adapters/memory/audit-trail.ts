import type { AuditEvent } from '../../core/coordination/model.js';
import { copy, partitionOf, type SortedItems, type Write } from './table.js';

/**
 * Every project's audit events by id (which starts with the time), shared by the stores whose
 * transactions record events: the coordination store, the escalation store and the token store.
 */
export class MemoryAuditTrail {
  private readonly projects = new Map<string, SortedItems<AuditEvent>>();

  /** The events of a project, ordered by id. */
  of(project: string): SortedItems<AuditEvent> {
    return partitionOf(this.projects, project);
  }

  /** The write of one event: it never overwrites one with the same id. */
  put(project: string, event: AuditEvent): Write {
    const events = this.of(project);
    return {
      item: `event\n${project}\n${event.id}`,
      holds: () => !events.has(event.id),
      apply: () => events.set(event.id, copy(event)),
    };
  }
}
