import { wallClockMillis } from './lexical.js';
import type { Agent } from './schema.js';

/** How long a claim or lease lives without a heartbeat when the agent names neither lease nor heartbeat. */
export const DEFAULT_LEASE_MILLIS = 30 * 60_000;

/**
 * How long a claim or resource lease taken by `agent` lives without a heartbeat, in milliseconds
 * (docs/plan-format.md, `agents[].lease`): the agent's `lease`, else twice its `heartbeat`, else 30 minutes.
 */
export function leaseDuration(agent: Pick<Agent, 'lease' | 'heartbeat'>): number {
  if (agent.lease !== undefined) return wallClockMillis(agent.lease);
  if (agent.heartbeat !== undefined) return 2 * wallClockMillis(agent.heartbeat);
  return DEFAULT_LEASE_MILLIS;
}
