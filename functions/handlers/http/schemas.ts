import * as z from 'zod';
import { RISKS } from '../../core/coordination/model.js';
// Direct module imports keep the YAML parsers out of bundles that never read a plan file.
import {
  DURATION_PATTERN,
  EVENT_TYPE_PATTERN,
  ID_PATTERN,
  LIMITS,
  METRIC_PATTERN,
  TASK_STATUSES,
  wallClockMillis,
} from '../../core/plan/lexical.js';

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

export const transitionBody = z.strictObject({
  to: z.enum(TASK_STATUSES),
  note: note.optional(),
  /** The owner's or an admin's move to done without (all) its evidence; the note says why (docs/api.md). */
  override: z.boolean().optional(),
});

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

/** `GET …/metrics/{name}`: the metric's name, as `POST …/metrics` takes it. */
export const metricPath = metric.shape.name;

/** The most points `GET …/metrics/{name}` answers at once (the newest ones). */
export const MAX_METRIC_POINTS = 1_000;

export const metricHistoryQuery = z.strictObject({
  since: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_METRIC_POINTS).optional(),
});

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

/**
 * A claim's lease id, as a claim answers it (`lease.id`): the fencing token of writes on a claimed task.
 * Only its form is checked here; whether it is the current one is the use case's 409 `lease_lost`.
 */
const leaseId = z
  .string()
  .regex(/^L[0-9A-Za-z]{1,64}$/, 'a lease id like L0123456789abcdef, as the claim answered it');

/** Transitions, blockers and handoffs carry the claim's lease (or send it as `If-Match`). */
export const fencedTransitionBody = transitionBody.extend({ lease: leaseId.optional() });
export const fencedBlockerBody = blockerBody.extend({ lease: leaseId.optional() });
export const fencedUnblockBody = unblockBody.extend({ lease: leaseId.optional() });
export const fencedHandoffBody = handoffBody.extend({ lease: leaseId.optional() });

/** `POST …/agents/{agent}/claim`: that task, or (none named) the next ready one. */
export const claimBody = z.strictObject({ task: z.string().regex(ID_PATTERN).optional() });

/** `POST …/tasks/{task}/release`: the holder passes its lease; owners, backups and admins need none. */
export const releaseBody = z.strictObject({ lease: leaseId.optional() });

/** `DELETE …/leases/{id}`: the lease id in the path. */
export const leasePath = leaseId;

const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = LIMITS.maxLeaseMinutes * 60;
const ttlProblem = `a lease lives ${MIN_TTL_SECONDS} s (1m) to ${MAX_TTL_SECONDS} s (24h): give whole seconds or a wall-clock duration like 30m or 2h`;

/** A lease's time to live: whole seconds, or a wall-clock duration (`30m`, `2h`, `1d` = 24 hours). */
const ttl = z.union([z.number(), z.string().max(20)]).transform((value, context) => {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (DURATION_PATTERN.test(value)) seconds = wallClockMillis(value) / 1000;
  else {
    context.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a duration: ${ttlProblem}`,
    });
    return z.NEVER;
  }
  if (!Number.isInteger(seconds) || seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) {
    context.addIssue({ code: 'custom', message: `${ttlProblem}, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return seconds;
});

/** `POST …/leases`: a resource of the plan or path globs, exclusive or shared, for a while, maybe for a task. */
export const leaseBody = z
  .strictObject({
    resource: z.string().regex(ID_PATTERN, 'a resource id of the plan').optional(),
    paths: z
      .array(z.string().min(1).max(LIMITS.maxGlobLength))
      .min(1)
      .max(LIMITS.maxResourcePaths)
      .optional(),
    mode: z.enum(['exclusive', 'shared']),
    ttl: ttl.optional(),
    task: z.string().regex(ID_PATTERN).optional(),
  })
  .refine((body) => (body.resource === undefined) !== (body.paths === undefined), {
    message: 'name exactly one of resource (a resource id of the plan) or paths (path globs like src/api/**)',
  });

const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

/** `GET …/tasks`: filters, all optional and combined. */
export const tasksQuery = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  phase: z.string().regex(ID_PATTERN).optional(),
  agent: z.string().regex(ID_PATTERN).optional(),
  ready: booleanQuery.optional(),
});

/** `DELETE …/leases/{id}`: nothing but the id in the path. */
export const releaseLeaseBody = z.strictObject({});
