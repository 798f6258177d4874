import { type CoordinationPorts, recordEvent, transitionTask } from '../coordination/commands.js';
import type { Actor } from '../coordination/model.js';
import { ConflictError } from '../errors.js';
import { TASK_STATUSES, type TaskStatus } from '../plan/schema.js';

const JIRA: Actor = { kind: 'integration', id: 'jira' };

export interface JiraStatusChange {
  /** The issue key, e.g. PAY-102. */
  readonly issue: string;
  /** The JIRA status name the issue moved to. */
  readonly status: string;
}

export interface JiraOutcome {
  readonly moved: { project: string; task: string; to: TaskStatus }[];
  readonly recorded: { project: string; task: string; reason: string }[];
}

/**
 * An issue's status changed in JIRA: every task linked to it follows, through the plan's status map
 * read backwards. The move is made as `integration:jira`, so Convoy does not send it back to JIRA
 * (no ping-pong). A status with no mapping, or a move the lifecycle forbids, is recorded as activity.
 */
export async function handleJiraStatusChange(
  ports: CoordinationPorts,
  change: JiraStatusChange,
): Promise<JiraOutcome> {
  const outcome: JiraOutcome = { moved: [], recorded: [] };
  const key = change.issue.toUpperCase();
  for (const project of await ports.store.listProjects()) {
    const stored = await ports.store.currentPlan(project);
    const plan = stored?.plan;
    if (!plan?.integrations.jira) continue;
    const statuses = plan.integrations.jira.statuses;
    const to = TASK_STATUSES.find(
      (status) => statuses[status]?.toLowerCase() === change.status.toLowerCase(),
    );
    const tasks = plan.phases
      .flatMap((phase) => phase.tasks)
      .filter((task) => task.jira?.toUpperCase() === key);
    for (const task of tasks) {
      const note = `${key} moved to "${change.status}" in JIRA`;
      if (!to) {
        await recordEvent(ports, {
          project,
          type: 'jira.status_changed',
          subject: task.id,
          note: `${note}; no Convoy status maps to it`,
          actor: JIRA,
        });
        outcome.recorded.push({ project, task: task.id, reason: 'unmapped status' });
        continue;
      }
      try {
        const result = await transitionTask(ports, { project, task: task.id, to, note, actor: JIRA });
        if (result.changed) outcome.moved.push({ project, task: task.id, to });
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        await recordEvent(ports, {
          project,
          type: 'jira.status_changed',
          subject: task.id,
          note: `${note}; not followed: ${error.message}`,
          actor: JIRA,
        });
        outcome.recorded.push({ project, task: task.id, reason: error.message });
      }
    }
  }
  return outcome;
}
