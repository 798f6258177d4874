import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter, memoryStores } from '../../functions/adapters/memory/index.js';
import { MINIMAL_PLAN, validPlan } from '../fixtures/plans.js';
import { describeStoreContract } from './stores.js';

describeStoreContract('in-memory stores', async () => {
  const limiters = new Map<string, MemoryRateLimiter>();
  const stores = memoryStores();
  return {
    ...stores,
    publishedEvent: async (id) => stores.store.stream.pending().find((event) => event.id === id),
    limiter: ({ name, ...options }) => {
      // One bucket per name, as the DynamoDB limiter shares one item per name.
      const limiter = limiters.get(name) ?? new MemoryRateLimiter(options);
      limiters.set(name, limiter);
      return limiter;
    },
  };
});

describe('MemoryCoordinationStore', () => {
  // Not in the contract: DynamoDbCoordinationStore hands every reader the plan object it caches.
  it('gives each reader a plan of its own', async () => {
    // Prepare
    const { store } = memoryStores();
    const plan = validPlan(MINIMAL_PLAN);
    const event = { id: '1', type: 'plan.applied', at: '2026-01-05T09:00:00.000Z', actor: 'admin' };
    await store.savePlan('demo', plan, 0, { at: event.at, by: 'admin', event });

    // Act
    plan.phases.length = 0;
    const read = await store.currentPlan('demo');
    read?.plan.phases.pop();

    // Assess
    expect((await store.snapshot('demo'))?.plan.plan.phases).toHaveLength(2);
  });
});
