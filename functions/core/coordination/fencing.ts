import { ConflictError, LeaseLostError } from '../errors.js';
import { shortHash } from '../hash.js';
import type { Actor, LeaseSet, ResourceLease, TaskState } from './model.js';

/** A lease id: `L` and 16 hex digits, derived from a time-ordered random id. */
export const newLeaseId = (ids: { next(at: string): string }, at: string) => `L${shortHash(ids.next(at))}`;

/**
 * Fencing: an agent may write on a task another agent holds, or one whose claim it lost, only with
 * the claim's current lease id. People (owners, backups, approvers) and admins steer, and may act
 * without one; so may Convoy itself and the integrations, whose changes come from GitHub and JIRA.
 * A claim that expired still fences until the monitor releases the task, but its own holder's lease
 * id keeps working until then: nobody else can have taken it.
 *
 * @throws LeaseLostError when an agent's write does not carry the current lease id.
 */
export function assertHoldsLease(
  task: TaskState,
  actor: Actor,
  lease: string | undefined,
  planAgent: string | undefined,
): void {
  if (actor.kind !== 'agent') return;
  const claim = task.claim;
  if (!claim) {
    // An agent names a lease for a task nobody holds: its claim ended (released, expired, done).
    if (lease !== undefined && planAgent !== actor.id)
      throw new LeaseLostError(
        `lease ${lease} on task ${task.id} is no longer held: the task is ${task.status} and unclaimed; claim it again`,
      );
    return;
  }
  if (lease === claim.lease) return;
  const holder = claim.agent === actor.id ? 'you' : claim.agent;
  throw new LeaseLostError(
    lease === undefined
      ? `task ${task.id} is claimed by ${holder} (lease until ${claim.expiresAt}); a write on it needs the claim's lease id`
      : `lease ${lease} on task ${task.id} is no longer current: ${holder} ${holder === 'you' ? 'hold' : 'holds'} it with another lease until ${claim.expiresAt}`,
    { agent: claim.agent, expiresAt: claim.expiresAt },
  );
}

/**
 * An agent may start a task the plan does not assign to it only through a claim (which moves it to
 * in_progress with a lease): moving it by hand would bypass the race-safe claim.
 */
export function assertClaimedBeforeStart(
  task: TaskState,
  actor: Actor,
  planAgent: string | undefined,
  to: string,
): void {
  if (actor.kind !== 'agent' || planAgent === actor.id || task.claim || to !== 'in_progress') return;
  if (task.status !== 'todo') return;
  throw new ConflictError(
    `task ${task.id} is not assigned to ${actor.id} by the plan: claim it first; a claim moves it to in_progress and gives the lease its writes need`,
  );
}

/** A lease set without the leases a task's claim took, and the leases it dropped. */
export function withoutTaskLeases(
  set: LeaseSet,
  task: string,
  holder: string,
): { kept: ResourceLease[]; dropped: ResourceLease[] } {
  const kept: ResourceLease[] = [];
  const dropped: ResourceLease[] = [];
  for (const lease of set.leases)
    (lease.task === task && lease.holder === holder ? dropped : kept).push(lease);
  return { kept, dropped };
}
