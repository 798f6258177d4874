import { reassignmentsFrom, type StatusView, statusView } from '../core/coordination/status.js';
import { NotFoundError } from '../core/errors.js';
import { gateOverview } from '../core/gates/service.js';
import type { Dependencies } from './dependencies.js';

/**
 * The full status of a project as `GET …/status` answers it and the MCP server's `plan_status` tool and
 * `convoy://status` resource read it: one snapshot, the open escalations, every gate, reassignments.
 */
export async function loadStatusView(deps: Dependencies, project: string): Promise<StatusView> {
  const [snapshot, escalations, reassigned] = await Promise.all([
    deps.store.snapshot(project),
    deps.escalations.unresolvedEscalations(project),
    // Reassignments are rare: the newest 200 cover every task a project ever reassigned.
    deps.store.listEvents(project, { type: 'task.reassigned', limit: 200 }),
  ]);
  if (!snapshot)
    throw new NotFoundError(`project ${project} has no plan; apply one with PUT /v1/plans/${project}`);
  const gates = await gateOverview(deps, project);
  return statusView(snapshot, deps.clock.now(), {
    escalations,
    gates,
    reassignments: reassignmentsFrom(reassigned.events),
  });
}
