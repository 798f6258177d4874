import { z } from 'zod';
import { RISKS } from '../../core/coordination/model.js';
// Direct module imports keep the YAML parsers out of bundles that never read a plan file.
import { EVENT_TYPE_PATTERN, ID_PATTERN, METRIC_PATTERN } from '../../core/plan/lexical.js';
import { TASK_STATUSES } from '../../core/plan/schema.js';

/**
 * Request bodies and queries of the agent API. Unknown fields are errors, as in plan files. Every
 * number and string is bounded here to what the code and DynamoDB can hold, so a value the schema
 * accepts is one the store accepts (docs/api.md, "Bounds"); `validate` (api.ts) also refuses strings
 * that are not well-formed Unicode, in every body, query and path.
 */

/**
 * The largest magnitude of a stored number: the SDK's marshaller refuses a number beyond
 * Number.MAX_SAFE_INTEGER (it could not read it back exactly), well inside DynamoDB's 1e126.
 */
export const MAX_NUMBER = Number.MAX_SAFE_INTEGER;
/** The smallest non-zero magnitude DynamoDB stores (its numbers range over 1e-130 .. 1e126). */
export const MIN_NUMBER_MAGNITUDE = 1e-130;

/**
 * A number DynamoDB stores and the SDK reads back as the same JavaScript number, within `min`..`max`
 * (JSON's 1e400 parses to Infinity: that is "not finite", not a type error).
 */
const storableNumber = (min: number, max: number) =>
  z
    .number({
      error: (issue) =>
        typeof issue.input === 'number' && !Number.isFinite(issue.input)
          ? 'must be a finite number'
          : undefined,
    })
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`)
    .refine(
      (value) => value === 0 || Math.abs(value) >= MIN_NUMBER_MAGNITUDE,
      'must be 0 or at least 1e-130 in magnitude (the smallest number DynamoDB stores)',
    );

/** Names that become part of a DynamoDB key (at most 1,024 bytes for a sort key): 200 characters. */
export const MAX_NAME_LENGTH = 200;

/**
 * Path parameters (project, agent, task, gate, person, escalation id): each ends up in a key, so at
 * most 200 characters; an unknown but well-formed one is a 404 with a did-you-mean.
 */
export const pathParams = z.record(z.string(), z.string().min(1).max(MAX_NAME_LENGTH));

const note = z.string().max(4000);
const isoTime = z.iso.datetime({ offset: true });

export const heartbeatBody = z.strictObject({
  task: z.string().regex(ID_PATTERN).optional(),
  completion: storableNumber(0, 100).optional(),
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
  /** An admin's override of the handoff rules (task status, targets that depend on the task). */
  override: z.boolean().optional(),
});

export const handoffChecklistQuery = z.strictObject({ task: z.string().regex(ID_PATTERN).optional() });

const metric = z.strictObject({
  name: z.string().max(MAX_NAME_LENGTH).regex(METRIC_PATTERN, 'a metric name like coverage.unit or tps'),
  value: storableNumber(-MAX_NUMBER, MAX_NUMBER),
  at: isoTime.optional(),
});

export const metricsBody = z.union([metric, z.strictObject({ metrics: z.array(metric).min(1).max(100) })]);

export const eventBody = z.strictObject({
  type: z.string().max(MAX_NAME_LENGTH).regex(EVENT_TYPE_PATTERN, 'an event type like deploy.finished'),
  subject: z.string().min(1).max(200).optional(),
  note: note.optional(),
});

export const eventsQuery = z.strictObject({
  type: z.string().max(MAX_NAME_LENGTH).regex(EVENT_TYPE_PATTERN).optional(),
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

/** Snooze: until when (a time within 30 days), and why. */
export const escalationSnoozeBody = z.strictObject({ until: isoTime, note: note.optional() });

export const gateEvaluateBody = z.strictObject({});

export const gateDecisionBody = z.strictObject({
  decision: z.enum(['advance', 'hold']),
  note: note.optional(),
});
