import { MemoryAuditTrail } from './audit-trail.js';
import { MemoryChartArchive } from './chart-archive.js';
import { MemoryCoordinationStore } from './coordination-store.js';
import { MemoryEscalationStore } from './escalation-store.js';
import { MemoryGateStore } from './gate-store.js';
import { MemoryIdempotencyStore } from './idempotency-store.js';
import { MemoryOutbox } from './outbox.js';
import { MemoryTokenStore } from './token-store.js';

export { MemoryAuditTrail } from './audit-trail.js';
export { MemoryChartArchive } from './chart-archive.js';
export { MemoryCoordinationStore } from './coordination-store.js';
export { MemoryEscalationStore } from './escalation-store.js';
export { MemoryEventStream } from './event-stream.js';
export { MemoryGateStore } from './gate-store.js';
export { MemoryIdempotencyStore } from './idempotency-store.js';
export { MemoryOutbox } from './outbox.js';
export { MemoryRateLimiter } from './rate-limiter.js';
export { MemoryTokenStore } from './token-store.js';

/** Every store of one in-memory "table": what one store's transaction writes, the others see. */
export interface MemoryStores {
  readonly store: MemoryCoordinationStore;
  readonly escalations: MemoryEscalationStore;
  readonly gates: MemoryGateStore;
  readonly outbox: MemoryOutbox;
  readonly tokens: MemoryTokenStore;
  readonly idempotency: MemoryIdempotencyStore;
  readonly charts: MemoryChartArchive;
}

/** A fresh, empty set of in-memory stores sharing one audit trail and one outbox. */
export function memoryStores(): MemoryStores {
  const trail = new MemoryAuditTrail();
  const outbox = new MemoryOutbox();
  const store = new MemoryCoordinationStore(trail, outbox);
  return {
    store,
    // One stream for all: the publisher delivers the events of every store's transactions in order.
    escalations: new MemoryEscalationStore(trail, outbox, store.stream),
    gates: new MemoryGateStore(store.stream),
    outbox,
    tokens: new MemoryTokenStore(trail),
    idempotency: new MemoryIdempotencyStore(),
    charts: new MemoryChartArchive(),
  };
}
