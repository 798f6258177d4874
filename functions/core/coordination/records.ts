import { NotFoundError } from '../errors.js';
import type { CoordinationStore } from '../ports.js';
import { type Actor, type AuditEvent, describeActor, type StoredPlan } from './model.js';

/**
 * The project's current plan, for a use case that cannot go on without one.
 *
 * @throws NotFoundError when no plan was ever applied to the project.
 */
export async function requirePlan(
  ports: { readonly store: Pick<CoordinationStore, 'currentPlan'> },
  project: string,
): Promise<StoredPlan> {
  const stored = await ports.store.currentPlan(project);
  if (!stored) throw new NotFoundError(`project ${project} has no plan`);
  return stored;
}

/**
 * One entry of the audit trail, written by `actor` at `at`: its id sorts by `at` (`ids` makes it),
 * and the actor is named as the trail names actors (`describeActor`).
 */
export function auditEvent(
  ports: { readonly ids: { next(at: string): string } },
  at: string,
  actor: Actor,
  fields: Omit<AuditEvent, 'id' | 'at' | 'actor'>,
): AuditEvent {
  return { id: ports.ids.next(at), at, actor: describeActor(actor), ...fields };
}
