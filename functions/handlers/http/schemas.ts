import { z } from 'zod';
import { RISKS } from '../../core/coordination/model.js';
// Direct module imports keep the YAML parsers out of bundles that never read a plan file.
import { EVENT_TYPE_PATTERN, ID_PATTERN, METRIC_PATTERN } from '../../core/plan/lexical.js';
import { TASK_STATUSES } from '../../core/plan/schema.js';

/** Request bodies and queries of the agent API. Unknown fields are errors, as in plan files. */

const note = z.string().max(4000);
const isoTime = z.iso.datetime({ offset: true });

export const heartbeatBody = z.strictObject({
  task: z.string().regex(ID_PATTERN).optional(),
  completion: z.number().min(0).max(100).optional(),
  risk: z.enum(RISKS as ['green', 'yellow', 'red']).optional(),
  note: note.optional(),
});

export const transitionBody = z.strictObject({ to: z.enum(TASK_STATUSES), note: note.optional() });

export const blockerBody = z.strictObject({ reason: z.string().trim().min(1, 'give a reason').max(4000) });

export const unblockBody = z.strictObject({ note: note.optional() });

export const handoffBody = z.strictObject({
  task: z.string().regex(ID_PATTERN),
  to: z.array(z.string().regex(ID_PATTERN)).max(100),
  checklist: z.record(z.string(), z.boolean()),
  notes: note.optional(),
});

const metric = z.strictObject({
  name: z.string().regex(METRIC_PATTERN, 'a metric name like coverage.unit or tps'),
  value: z.number().refine(Number.isFinite, 'must be a finite number'),
  at: isoTime.optional(),
});

export const metricsBody = z.union([metric, z.strictObject({ metrics: z.array(metric).min(1).max(100) })]);

export const eventBody = z.strictObject({
  type: z.string().regex(EVENT_TYPE_PATTERN, 'an event type like deploy.finished'),
  subject: z.string().min(1).max(200).optional(),
  note: note.optional(),
});

export const eventsQuery = z.strictObject({
  type: z.string().regex(EVENT_TYPE_PATTERN).optional(),
  since: isoTime.optional(),
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const reportPath = z.enum(['standup', 'sync', 'report', 'weekly-summary', 'weekly']);

export const reportQuery = z.strictObject({
  format: z.enum(['markdown', 'json', 'slack']).optional(),
  /** Where the Markdown's image link points (the CLI saves the chart beside the file). */
  chart: z
    .string()
    .regex(/^[\w./-]{1,200}$/)
    .optional(),
  since: isoTime.optional(),
});

export const chartQuery = z.strictObject({
  /** `latest`: the chart the last scheduled report kept, instead of one drawn now. */
  kept: z.enum(['latest']).optional(),
});

export const escalationsQuery = z.strictObject({
  status: z.enum(['open', 'acknowledged', 'resolved']).optional(),
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/** Acknowledge, resolve, reassign: a note for the audit trail is all they take. */
export const escalationActionBody = z.strictObject({ note: note.optional() });

export const gateEvaluateBody = z.strictObject({});

export const gateDecisionBody = z.strictObject({
  decision: z.enum(['advance', 'hold']),
  note: note.optional(),
});
