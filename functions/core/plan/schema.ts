import * as z from 'zod';
import {
  CONDITION_PATTERN,
  DATE_PATTERN,
  DURATION_PATTERN,
  EVENT_TYPE_PATTERN,
  EVIDENCE_KINDS,
  EVIDENCE_PATTERN,
  GITHUB_REPO_PATTERN,
  GLOB_PATTERN,
  globProblem,
  ID_PATTERN,
  isCalendarDate,
  isTimeZone,
  JIRA_KEY_PATTERN,
  JIRA_PROJECT_PATTERN,
  LIMITS,
  parseCondition,
  SLACK_CHANNEL_PATTERN,
  type TASK_STATUSES,
  TIME_PATTERN,
  WEEKDAYS,
  type Weekday,
  wallClockMillis,
  workingMinutes,
} from './lexical.js';

/**
 * The plan format as one zod schema. It is the single source of truth for the structure of a plan:
 * the validator runs it, `convoy schema` prints it as JSON Schema, and the `Plan` type is inferred
 * from it. Cross-references (dangling ids, cycles) are checked in `references.ts`, because JSON
 * Schema cannot express them.
 */

function quoted(input: unknown): string {
  return typeof input === 'string' ? JSON.stringify(input) : String(input);
}

/** A string's start, for messages about strings too long to repeat whole. */
function shown(text: string): string {
  return text.length > 40 ? `${JSON.stringify(text.slice(0, 37))}...` : JSON.stringify(text);
}

/** The message for a string over `max` characters: how many there are, and how it starts. */
const tooLong = (max: number) => (issue: { input?: unknown }) =>
  `too long: ${String(issue.input).length} characters, at most ${max} (${shown(String(issue.input))})`;

/** A string of a lexical form (docs/plan-format.md, "Lexical rules"), at most `max` characters. */
function pattern(regex: RegExp, what: string, example: string, max: number = LIMITS.maxNameLength) {
  // A missing value falls through to the generic "required" message; a wrong type names the form.
  const typeError = (issue: { input?: unknown }) =>
    issue.input === undefined
      ? undefined
      : `expected a ${what} (${example}), got ${typeof issue.input} ${quoted(issue.input)}`;
  // A string too long is reported once, without running the pattern over it.
  return z
    .string({ error: typeError })
    .max(max, { error: tooLong(max), abort: true })
    .regex(regex, {
      error: (issue) => `invalid ${what} ${quoted(issue.input)} (expected ${example})`,
    });
}

/** Free text of at most `max` characters; `min: 1` when it may not be empty. */
const text = (max: number = LIMITS.maxTextLength, min = 0) => {
  const base = z.string();
  return (min > 0 ? base.min(min) : base).max(max, { error: tooLong(max) });
};

const id = (what = 'id') =>
  pattern(
    ID_PATTERN,
    what,
    'lower-case letters, digits and "-", starting with a letter, at most 63 characters',
  );

const duration = pattern(
  DURATION_PATTERN,
  'duration',
  'a number and a unit m, h, d or w, e.g. 30m, 2h, 1.5d, 2w',
);

// Refinements run even when the pattern failed; each checks only what the pattern cannot.
const wellFormed = (value: string) => DURATION_PATTERN.test(value);

/** An estimate: working time, more than zero and at most 260w (five years of working weeks). */
const estimate = duration
  .refine((value) => !wellFormed(value) || workingMinutes(value) > 0, { error: 'must be more than zero' })
  .refine((value) => !wellFormed(value) || workingMinutes(value) <= LIMITS.maxEstimateMinutes, {
    error: (issue) =>
      `estimate ${quoted(issue.input)} is too long: at most 260w (five years of working weeks, ${LIMITS.maxEstimateMinutes / 480}d)`,
  });

/** An SLA, heartbeat or window: wall-clock time, at most 365d; `positive` when zero makes no sense. */
const wallClock = (positive = false) =>
  duration
    .refine((value) => !positive || !wellFormed(value) || wallClockMillis(value) > 0, {
      error: 'must be more than zero',
    })
    .refine((value) => !wellFormed(value) || wallClockMillis(value) <= LIMITS.maxWallClockMinutes * 60_000, {
      error: (issue) => `duration ${quoted(issue.input)} is too long: at most 365d (one year)`,
    });

/** An agent's lease: wall-clock time, more than zero and at most 24h. */
const leaseDurationText = duration
  .refine((value) => !wellFormed(value) || wallClockMillis(value) > 0, { error: 'must be more than zero' })
  .refine((value) => !wellFormed(value) || wallClockMillis(value) <= LIMITS.maxLeaseMinutes * 60_000, {
    error: (issue) => `lease ${quoted(issue.input)} is too long: at most 24h`,
  });

/** A path glob of `resources[].paths` (docs/plan-format.md, "resources"). */
const glob = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? undefined
        : `expected a path glob, got ${typeof issue.input} ${quoted(issue.input)}`,
  })
  .max(LIMITS.maxGlobLength, { error: tooLong(LIMITS.maxGlobLength), abort: true })
  .regex(GLOB_PATTERN, {
    error: (issue) => `invalid path glob ${quoted(issue.input)}: ${globProblem(String(issue.input))}`,
  });

const date = pattern(DATE_PATTERN, 'date', 'YYYY-MM-DD')
  .refine((value) => !DATE_PATTERN.test(value) || isCalendarDate(value), {
    error: (issue) => `invalid date ${quoted(issue.input)} (no such day in the calendar)`,
  })
  .refine(
    (value) =>
      !DATE_PATTERN.test(value) ||
      !isCalendarDate(value) ||
      (value >= LIMITS.firstDate && value <= LIMITS.lastDate),
    {
      error: (issue) =>
        `date ${quoted(issue.input)} is out of range: Convoy plans from ${LIMITS.firstDate} to ${LIMITS.lastDate}`,
    },
  );

const timeOfDay = pattern(TIME_PATTERN, 'time of day', 'HH:MM on a 24-hour clock, e.g. "09:00"');

const weekday = z.enum(WEEKDAYS, {
  error: (issue) => `invalid weekday ${quoted(issue.input)} (expected one of ${WEEKDAYS.join(', ')})`,
});

const condition = pattern(
  CONDITION_PATTERN,
  'condition',
  '"<metric> <op> <number>" with op one of < <= > >= == !=, e.g. "tps >= 2_000_000"',
  LIMITS.maxNameLength + 100,
)
  .refine(
    (value) => !CONDITION_PATTERN.test(value) || parseCondition(value).metric.length <= LIMITS.maxNameLength,
    {
      error: `metric name too long: at most ${LIMITS.maxNameLength} characters`,
    },
  )
  .refine(
    (value) =>
      !CONDITION_PATTERN.test(value) || Math.abs(parseCondition(value).value) <= LIMITS.maxConditionValue,
    {
      error: (issue) =>
        `the number of condition ${quoted(issue.input)} is out of range: at most ${LIMITS.maxConditionValue} (2^53 − 1) in magnitude`,
    },
  );

/** The evidence a task needs before it is done (docs/plan-format.md, "Evidence for done"). */
const evidence = z
  .array(
    pattern(
      EVIDENCE_PATTERN,
      'evidence',
      `one of ${EVIDENCE_KINDS.join(', ')}, or a metric condition like "coverage.unit >= 80"`,
      LIMITS.maxNameLength + 100,
    ).refine(
      (value) =>
        !CONDITION_PATTERN.test(value) || Math.abs(parseCondition(value).value) <= LIMITS.maxConditionValue,
      {
        error: (issue) =>
          `the number of condition ${quoted(issue.input)} is out of range: at most ${LIMITS.maxConditionValue} (2^53 − 1) in magnitude`,
      },
    ),
  )
  .max(LIMITS.maxEvidence, {
    error: (issue) =>
      `too many evidence entries: ${(issue.input as unknown[]).length}, at most ${LIMITS.maxEvidence}`,
  })
  .refine((entries) => new Set(entries).size === entries.length, {
    error: (issue) => {
      const entries = issue.input as string[];
      return `evidence ${quoted(entries.find((entry, index) => entries.indexOf(entry) !== index))} is listed twice`;
    },
  });

const eventType = pattern(
  EVENT_TYPE_PATTERN,
  'event type',
  'dotted lower-case words, e.g. security.critical',
);

const slackChannel = pattern(
  SLACK_CHANNEL_PATTERN,
  'Slack channel',
  'a channel name like "#sprint-20" or an id',
);

const idList = (what: string) => z.array(id(what)).default([]);

const name = text(LIMITS.maxNameLength, 1).optional().describe('Display name; defaults to the id.');

/** Fills in `name` from the id, as docs/plan-format.md says for every named entity. */
const named = <T extends { id: string; name?: string | undefined }>(entity: T) => ({
  ...entity,
  name: entity.name ?? entity.id,
});

export const personSchema = z
  .strictObject({
    id: id('person id'),
    name,
    slack: z
      .string()
      .regex(/^[UW][A-Z0-9]{2,20}$/, {
        error: (issue) => `invalid Slack user id ${quoted(issue.input)} (expected an id like U0123ABCD)`,
      })
      .optional()
      .describe('Slack user id, for mentions and direct messages.'),
    email: z
      .email({ error: (issue) => `invalid email ${quoted(issue.input)}` })
      .max(254, { error: tooLong(254) })
      .optional(),
  })
  .transform(named);

/** A GitHub login: 1–39 characters, letters, digits and single hyphens, no hyphen first or last. */
const githubLogin = z.string().regex(/^(?=.{1,39}$)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/, {
  error: (issue) =>
    `invalid GitHub login ${quoted(issue.input)}: 1 to 39 letters, digits or single hyphens, not starting or ending with a hyphen`,
});

export const agentSchema = z
  .strictObject({
    id: id('agent id'),
    name,
    kind: z.enum(['ai', 'human']).default('ai'),
    role: text().optional().describe('Free text: what this agent does.'),
    owner: id('person id').describe('Person who answers for this agent.'),
    backup: id('person id').optional().describe('Person who takes over when the agent is down.'),
    channel: slackChannel.optional().describe("Slack channel for this agent's updates."),
    github: z
      .array(githubLogin)
      .min(1, { error: 'needs at least one GitHub login (leave github out when the agent has none)' })
      .max(LIMITS.maxGithubLogins, {
        error: (issue) =>
          `too many GitHub logins: ${(issue.input as unknown[]).length}, at most ${LIMITS.maxGithubLogins}`,
      })
      .optional()
      .describe(
        "GitHub logins this agent pushes as: a push or pull request by one of them is the agent's (conflict detection).",
      ),
    heartbeat: wallClock(true)
      .optional()
      .describe('Expected heartbeat interval (wall clock); two missed intervals in a row = agent.down.'),
    restartSla: wallClock().optional().describe('Time allowed to bring a down agent back (wall clock).'),
    lease: leaseDurationText
      .optional()
      .describe(
        'How long a claim or resource lease of this agent lives without a heartbeat (wall clock, at most 24h). Default: twice the heartbeat, else 30m.',
      ),
  })
  .transform(named);

export const taskSchema = z
  .strictObject({
    id: id('task id'),
    title: text(LIMITS.maxNameLength, 1).optional().describe('Defaults to the id.'),
    agent: id('agent id')
      .optional()
      .describe(
        'The agent the task is assigned to; without it, the task is claimed by an agent of its pool, or by any agent.',
      ),
    pool: z
      .array(id('agent id'))
      .min(1, {
        error: 'needs at least one agent (leave pool out to let any agent of the plan claim the task)',
      })
      .max(LIMITS.maxPoolSize, {
        error: (issue) =>
          `too many agents: ${(issue.input as unknown[]).length}, at most ${LIMITS.maxPoolSize}`,
      })
      .optional()
      .describe('Agents who may claim the task (besides its agent, if it has one).'),
    estimate: estimate.describe('Working time: 1d = 8h, 1w = 5d; more than zero, at most 260w.'),
    dependsOn: idList('task id').describe('Task ids of this phase or an earlier one.'),
    jira: pattern(JIRA_KEY_PATTERN, 'JIRA issue key', 'an upper-case key like PAY-102').optional(),
    touches: idList('resource id').describe('Shared resources this task changes.'),
    deliverables: z.array(text()).default([]),
    evidence: evidence
      .optional()
      .describe(
        "What must be there before the task is done: pr-merged, checks-passed, handoff, or a metric condition. Default: the plan's definitionOfDone; [] needs none.",
      ),
  })
  .transform((task) => ({ ...task, title: task.title ?? task.id }));

export const phaseSchema = z
  .strictObject({
    id: id('phase id'),
    name,
    dependsOn: idList('phase id').describe('Every task of this phase waits for every task of these phases.'),
    due: date.optional().describe('Target finish date; schedule slip is measured against it.'),
    gate: id('gate id').optional().describe('Gate evaluated when the tasks of this phase are done.'),
    tasks: z.array(taskSchema).default([]),
  })
  .transform(named);

export const gateSchema = z
  .strictObject({
    id: id('gate id'),
    name,
    criteria: z
      .array(
        z.strictObject({
          go: condition.describe('Must hold for GO.'),
          caution: condition.optional().describe('Looser bound: CAUTION instead of NO-GO while it holds.'),
        }),
      )
      .default([]),
    cautionWindow: wallClock()
      .default('1d')
      .describe('Extended validation before a CAUTION is re-evaluated.'),
    maxCautions: z
      .int()
      .min(0)
      .max(LIMITS.maxCautions)
      .default(2)
      .describe('CAUTIONs in a row before the gate is treated as NO-GO.'),
    approvers: idList('person id').describe('People who may override a NO-GO or accept a CAUTION.'),
  })
  .transform(named);

const target = id('target').describe('A person id, or owner / backup of the agent the escalation is about.');

export const escalationSchema = z
  .strictObject({
    id: id('rule id'),
    name,
    when: condition.optional().describe('A condition over metrics (exactly one of when / on).'),
    on: eventType.optional().describe('An event type (exactly one of when / on).'),
    notify: z.array(target).min(1, { error: 'needs at least one target' }),
    sla: wallClock().default('2h').describe('Time to resolve before the next level.'),
    levels: z
      .array(
        z.strictObject({
          notify: z.array(target).min(1, { error: 'needs at least one target' }),
          sla: wallClock().default('2h'),
        }),
      )
      .default([]),
    resolvedBy: eventType.optional().describe('Event type that resolves an event rule.'),
    jira: z
      .strictObject({
        project: pattern(
          JIRA_PROJECT_PATTERN,
          'JIRA project key',
          'upper-case letters and digits, e.g. PAY',
        ).describe('One of integrations.jira.projects.'),
        type: text(LIMITS.maxNameLength, 1)
          .default('Task')
          .describe('Issue type name, as the JIRA project has it.'),
      })
      .optional()
      .describe('Creates one JIRA issue when an escalation of this rule opens.'),
  })
  .transform(named);

export const JOBS = ['standup', 'sync', 'report', 'gate-review', 'weekly-summary'] as const;

export const scheduleSchema = z
  .strictObject({
    id: id('schedule id'),
    name,
    job: z.enum(JOBS),
    at: timeOfDay,
    days: z.array(weekday).min(1).optional().describe('Default: the project workdays.'),
    every: z
      .int()
      .min(1)
      .max(LIMITS.maxEvery)
      .optional()
      .describe('Every Nth working day counted from project.start.'),
    channel: slackChannel.optional().describe('Default: integrations.slack.channel.'),
  })
  .transform(named);

export const integrationsSchema = z.strictObject({
  jira: z
    .strictObject({
      site: z
        .url({ protocol: /^https?$/, error: (issue) => `invalid URL ${quoted(issue.input)}` })
        .max(2000, { error: tooLong(2000) })
        .optional(),
      projects: z
        .array(pattern(JIRA_PROJECT_PATTERN, 'JIRA project key', 'upper-case letters and digits, e.g. PAY'))
        .optional()
        .describe('Issue keys are only taken from these projects.'),
      statuses: z
        .strictObject({
          todo: text(LIMITS.maxNameLength, 1).optional(),
          in_progress: text(LIMITS.maxNameLength, 1).default('In Progress'),
          in_review: text(LIMITS.maxNameLength, 1).default('In Review'),
          done: text(LIMITS.maxNameLength, 1).default('Done'),
        })
        .default({ in_progress: 'In Progress', in_review: 'In Review', done: 'Done' }),
    })
    .optional(),
  github: z
    .strictObject({
      repos: z
        .array(pattern(GITHUB_REPO_PATTERN, 'GitHub repository', 'owner/name'))
        .optional()
        .describe('Default: events from any repository count.'),
      doneOn: z.enum(['merged', 'never']).default('merged'),
    })
    .optional(),
  slack: z
    .strictObject({
      channel: slackChannel.optional().describe('Default channel for scheduled posts.'),
      escalations: slackChannel.optional().describe('Default: channel.'),
    })
    .optional(),
});

export const projectSchema = z
  .strictObject({
    id: id('project id'),
    name,
    timezone: z.string().refine(isTimeZone, {
      error: (issue) =>
        `unknown time zone ${quoted(issue.input)} (expected an IANA name like America/New_York)`,
    }),
    start: date.describe('Baseline start: the first working day on or after it.'),
    workdays: z
      .array(weekday)
      .min(1, { error: 'needs at least one working day' })
      .default(['mon', 'tue', 'wed', 'thu', 'fri']),
    holidays: z.array(date).default([]),
  })
  .transform(named);

export const planSchema = z.strictObject({
  version: z.literal(1, {
    error: (issue) => `unsupported version ${quoted(issue.input)} (this Convoy reads version 1)`,
  }),
  project: projectSchema,
  people: z.array(personSchema).default([]),
  agents: z.array(agentSchema).min(1, { error: 'needs at least one agent' }),
  phases: z.array(phaseSchema).min(1, { error: 'needs at least one phase' }),
  gates: z.array(gateSchema).default([]),
  escalations: z.array(escalationSchema).default([]),
  schedules: z
    .array(scheduleSchema)
    .optional()
    .describe('Default: standup 09:00, sync 16:00, report 17:00, gate-review Fri 17:00.'),
  handoff: z
    .array(text(LIMITS.maxTextLength, 1))
    .default([])
    .describe('Checklist confirmed when a task is handed off or done.'),
  definitionOfDone: evidence
    .optional()
    .describe("The evidence every task needs before it is done, unless the task lists its own 'evidence'."),
  resources: z
    .array(
      z
        .strictObject({
          id: id('resource id'),
          name,
          owner: id('agent id'),
          paths: z
            .array(glob)
            .max(LIMITS.maxResourcePaths, {
              error: (issue) =>
                `too many paths: ${(issue.input as unknown[]).length}, at most ${LIMITS.maxResourcePaths}`,
            })
            .optional()
            .describe(
              'Path globs relative to the repository root that make up the resource, e.g. db/migrations/**.',
            ),
        })
        .transform(named),
    )
    .default([]),
  integrations: integrationsSchema.default({}),
});

export type PlanInput = z.input<typeof planSchema>;
type ParsedPlan = z.output<typeof planSchema>;
export type Person = z.output<typeof personSchema>;
export type Agent = z.output<typeof agentSchema>;
export type Task = z.output<typeof taskSchema>;
export type Gate = z.output<typeof gateSchema>;
export type Escalation = z.output<typeof escalationSchema>;
export type Job = (typeof JOBS)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type Phase = z.output<typeof phaseSchema>;
export type Resource = ParsedPlan['resources'][number];
export type Schedule = Omit<z.output<typeof scheduleSchema>, 'days'> & { days: Weekday[] };

/** A valid plan with every default applied. */
export type Plan = Omit<ParsedPlan, 'schedules'> & { schedules: Schedule[] };

/** The schedules a plan runs when it declares none (docs/plan-format.md, "schedules"). */
export const DEFAULT_SCHEDULES: readonly {
  id: string;
  name: string;
  job: Job;
  at: string;
  days?: Weekday[];
}[] = [
  { id: 'standup', name: 'standup', job: 'standup', at: '09:00' },
  { id: 'sync', name: 'sync', job: 'sync', at: '16:00' },
  { id: 'report', name: 'report', job: 'report', at: '17:00' },
  { id: 'gate-review', name: 'gate-review', job: 'gate-review', at: '17:00', days: ['fri'] },
];

/** Applies the defaults that depend on other fields (schedule days, the escalations channel). */
export function completePlan(parsed: ParsedPlan): Plan {
  const declared = parsed.schedules ?? DEFAULT_SCHEDULES.map((schedule) => ({ ...schedule }));
  const schedules = declared.map((schedule) => ({
    ...schedule,
    days: schedule.days ?? [...parsed.project.workdays],
  }));
  const slack = parsed.integrations.slack;
  const integrations =
    slack?.channel && !slack.escalations
      ? { ...parsed.integrations, slack: { ...slack, escalations: slack.channel } }
      : parsed.integrations;
  return { ...parsed, schedules, integrations };
}
