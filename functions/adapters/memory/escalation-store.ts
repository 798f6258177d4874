import type { AuditEvent } from '../../core/coordination/model.js';
import type { DomainEvent } from '../../core/domain-events.js';
import type { Escalation, EscalationStatus } from '../../core/escalations/model.js';
import type { OutboxCommand } from '../../core/integrations/model.js';
import type { EscalationPage, EscalationStore, EscalationWrite } from '../../core/ports.js';
import type { MemoryAuditTrail } from './audit-trail.js';
import { MemoryEventStream } from './event-stream.js';
import type { MemoryOutbox } from './outbox.js';
import {
  compareKeys,
  copy,
  decodeCursor,
  encodeCursor,
  MAX_TRANSACTION_ITEMS,
  transact,
  type Write,
} from './table.js';

/** Items a filtered page of DynamoDbEscalationStore reads per round trip; it decides where pages end. */
const FILTERED_READ = 100;

const CONFLICT = 'an escalation changed while this decision was being made';

interface Escalations {
  /** Unresolved, by dedup key: at most one per rule and subject. */
  readonly open: Map<string, Escalation>;
  /** Resolved, by id. */
  readonly resolved: Map<string, Escalation>;
}

/**
 * Escalations in memory, as DynamoDbEscalationStore keeps them: an unresolved one under its dedup
 * key (so opening is also the lock on its rule and subject), a resolved one under its id. A save
 * writes its changes, audit events and outbox entries in one transaction.
 */
export class MemoryEscalationStore implements EscalationStore {
  private readonly projects = new Map<string, Escalations>();

  constructor(
    private readonly trail: MemoryAuditTrail,
    private readonly outbox: MemoryOutbox,
    /** Where the changes' domain events are written (the coordination store's, to share one stream). */
    private readonly stream: MemoryEventStream = new MemoryEventStream(),
  ) {}

  /** By dedup key. */
  async unresolvedEscalations(project: string): Promise<Escalation[]> {
    return [...this.of(project).open.entries()]
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([, escalation]) => copy(escalation));
  }

  async saveEscalations(
    project: string,
    changes: readonly EscalationWrite[],
    events: readonly AuditEvent[] = [],
    notices?: {
      readonly entries: readonly { id: string; project: string; command: OutboxCommand }[];
      readonly now: Date;
    },
    published: readonly DomainEvent[] = [],
  ): Promise<void> {
    const now = notices?.now.getTime() ?? 0;
    const queued = (notices?.entries ?? []).map((entry, index) =>
      this.outbox.put(entry, new Date(now).toISOString(), new Date(now + index).toISOString()),
    );
    const writes = [
      ...changes.flatMap((change) => this.writesOf(project, change)),
      ...queued,
      ...published.map((event) => this.stream.put(event)),
    ];
    if (writes.length > MAX_TRANSACTION_ITEMS)
      throw new Error(
        `${changes.length} escalation changes need ${writes.length} writes; one transaction holds at most ${MAX_TRANSACTION_ITEMS}`,
      );
    // The audit events ride in the same transaction while they fit; any beyond follow right after.
    const room = MAX_TRANSACTION_ITEMS - writes.length;
    const eventPuts = events.map((event) => this.trail.put(project, event));
    transact([...writes, ...eventPuts.slice(0, room)], CONFLICT);
    for (let start = room; start < eventPuts.length; start += MAX_TRANSACTION_ITEMS)
      transact(eventPuts.slice(start, start + MAX_TRANSACTION_ITEMS), CONFLICT);
  }

  async getEscalation(project: string, id: string): Promise<Escalation | undefined> {
    const { open, resolved } = this.of(project);
    const found = [...open.values()].find((escalation) => escalation.id === id) ?? resolved.get(id);
    return found && copy(found);
  }

  /**
   * Newest first by opening time (then id). Pages end where DynamoDbEscalationStore's end: open or
   * acknowledged ones are paged from the whole unresolved set, the others are read from the index
   * `FILTERED_READ` at a time when filtered, and a page that fills up exactly still has a cursor
   * when its read did.
   */
  async listEscalations(
    project: string,
    query: { status?: EscalationStatus; limit: number; cursor?: string },
  ): Promise<EscalationPage> {
    const after = query.cursor === undefined ? undefined : decodePosition(query.cursor, project);
    const { open, resolved } = this.of(project);
    if (query.status === 'open' || query.status === 'acknowledged') {
      const items = [...open.values()]
        .filter((escalation) => escalation.status === query.status)
        .filter((escalation) => after === undefined || orderOf(escalation) < after)
        .sort((a, b) => (orderOf(a) < orderOf(b) ? 1 : -1));
      return page(items.slice(0, query.limit), items.length > query.limit);
    }
    const newestFirst = [...open.values(), ...resolved.values()]
      .filter((escalation) => after === undefined || compareKeys(orderOf(escalation), after) < 0)
      .sort((a, b) => compareKeys(orderOf(b), orderOf(a)));
    if (query.status === undefined)
      return page(newestFirst.slice(0, query.limit), newestFirst.length >= query.limit);
    // Filtered: each read takes the next FILTERED_READ items (or `limit`, if more) and keeps the matches.
    const read = Math.max(FILTERED_READ, query.limit);
    const found: Escalation[] = [];
    for (let start = 0; ; start += read) {
      const chunk = newestFirst.slice(start, start + read);
      const matches = chunk.filter((escalation) => escalation.status === query.status);
      const wanted = query.limit - found.length;
      found.push(...matches.slice(0, wanted));
      if (matches.length > wanted) return page(found, true);
      // A read that took all it asked for says there may be more, even when there is none.
      const more = chunk.length === read;
      if (!more) return page(found, false);
      if (found.length === query.limit) return page(found, true);
    }
  }

  private writesOf(project: string, { escalation, expectedVersion }: EscalationWrite): Write[] {
    if (escalation.project !== project)
      throw new Error(`escalation ${escalation.id} belongs to ${escalation.project}, not ${project}`);
    const { open, resolved } = this.of(project);
    const key = escalation.dedupKey;
    const openItem = `escalation\n${project}\nOPEN#${key}`;
    const resolvedItem = `escalation\n${project}\nRESOLVED#${escalation.id}`;
    const stillThisOne = () =>
      open.get(key)?.version === expectedVersion && open.get(key)?.id === escalation.id;
    if (escalation.status === 'resolved') {
      // A resolved escalation is final: it leaves the unresolved set for good.
      const put: Write = {
        item: resolvedItem,
        holds: () => !resolved.has(escalation.id),
        apply: () => resolved.set(escalation.id, copy(escalation)),
      };
      if (expectedVersion === 0) return [put];
      return [{ item: openItem, holds: stillThisOne, apply: () => open.delete(key) }, put];
    }
    const put = (holds: () => boolean): Write => ({
      item: openItem,
      holds,
      apply: () => open.set(key, copy(escalation)),
    });
    if (expectedVersion === 0)
      return [
        put(() => !open.has(key)),
        // A retried opening that already went through must not open a second time.
        { item: resolvedItem, holds: () => !resolved.has(escalation.id), apply: () => undefined },
      ];
    return [put(stillThisOne)];
  }

  private of(project: string): Escalations {
    let escalations = this.projects.get(project);
    if (!escalations) {
      escalations = { open: new Map(), resolved: new Map() };
      this.projects.set(project, escalations);
    }
    return escalations;
  }
}

/** Where an escalation sorts: by opening time, then id. */
const orderOf = (escalation: Escalation) => `${escalation.openedAt}#${escalation.id}`;

function page(escalations: readonly Escalation[], more: boolean): EscalationPage {
  const last = escalations.at(-1);
  return {
    escalations: escalations.map(copy),
    ...(more && last ? { cursor: encodeCursor({ project: last.project, after: orderOf(last) }) } : {}),
  };
}

function decodePosition(cursor: string, project: string): string {
  const position = decodeCursor<Record<string, string>>(
    cursor,
    (candidate) =>
      Object.keys(candidate).sort().join(',') === 'after,project' && candidate.project === project,
    ' for this project',
  );
  return position.after as string;
}
