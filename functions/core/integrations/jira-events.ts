import * as z from 'zod';
import { type CoordinationPorts, recordEvent, transitionTask } from '../coordination/commands.js';
import type { Actor } from '../coordination/model.js';
import { ConflictError } from '../errors.js';
import { TASK_STATUSES } from '../plan/lexical.js';
import type { TaskStatus } from '../plan/schema.js';
import { toWellFormed } from '../unicode.js';

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

/** JIRA's names are short; a longer one is not JIRA's (and would not fit an audit event's key). */
const name = z.string().max(255).transform(toWellFormed);

/**
 * An own property only: a changelog item without `toString` must not find Object.prototype's.
 * Objects are copied without a prototype before zod reads them.
 */
const own = (value: unknown) =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.assign(Object.create(null) as object, value)
    : value;

/**
 * The parts of a JIRA webhook Convoy reads, shape-checked (everything else passes through unread):
 * a payload of another shape is refused with the field at fault, never half-read.
 */
export const jiraWebhookPayload = z.looseObject({
  webhookEvent: z.string().optional(),
  issue: z
    .looseObject({
      key: name.optional(),
      fields: z.looseObject({ status: z.looseObject({ name: name.nullish() }).nullish() }).nullish(),
    })
    .nullish(),
  changelog: z
    .looseObject({
      items: z
        .array(z.preprocess(own, z.looseObject({ field: z.string().nullish(), toString: name.nullish() })))
        .nullish(),
    })
    .nullish(),
});

/** The status change a JIRA webhook carries, if it carries one. */
export function jiraStatusChange(payload: z.output<typeof jiraWebhookPayload>): JiraStatusChange | undefined {
  const change = payload.changelog?.items?.find((item) => item.field === 'status');
  const issue = payload.issue?.key;
  // An item without `toString` of its own would otherwise read Object.prototype's.
  const to = change && Object.hasOwn(change, 'toString') ? change.toString : undefined;
  const status = to ?? payload.issue?.fields?.status?.name;
  return issue && change && status ? { issue, status } : undefined;
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
