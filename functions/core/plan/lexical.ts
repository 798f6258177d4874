/**
 * The lexical rules of the plan format (docs/plan-format.md, "Lexical rules"): one place for every
 * pattern, so the validator, the JSON Schema and the runtime agree on what a duration or a
 * condition is.
 */

export const ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(m|h|d|w)$/;
export const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
export const TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
export const METRIC_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
/** Event types share the metric form: `agent.down`, `security.critical`, `deploy.finished`. */
export const EVENT_TYPE_PATTERN = METRIC_PATTERN;
export const CONDITION_PATTERN =
  /^\s*([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\s*(<=|>=|==|!=|<|>)\s*(-?\d(?:_?\d)*(?:\.\d(?:_?\d)*)?)\s*$/;
export const JIRA_PROJECT_PATTERN = /^[A-Z][A-Z0-9_]+$/;
export const JIRA_KEY_PATTERN = /^([A-Z][A-Z0-9_]+)-([1-9]\d*)$/;
export const GITHUB_REPO_PATTERN = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
export const SLACK_CHANNEL_PATTERN = /^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,})$/;
/**
 * A path glob of `resources[].paths`, relative to the repository root: letters, digits and
 * `. _ - + @` in names, `/` between segments, `*` (within a segment), `?` (one character) and `**`
 * (any number of segments, as a whole segment). No leading `/`, no empty, `.` or `..` segment.
 */
export const GLOB_PATTERN =
  /^(?:\*\*|(?!\.\.?(?:\/|$))(?:[A-Za-z0-9._+@?-]|\*(?!\*))+)(?:\/(?:\*\*|(?!\.\.?(?:\/|$))(?:[A-Za-z0-9._+@?-]|\*(?!\*))+))*$/;
const GLOB_CHARACTER = /^[A-Za-z0-9._+@*?/-]$/;

/**
 * The bounds of the plan format (docs/plan-format.md, "Bounds"): every number and string a plan holds
 * stays within what the analysis, JavaScript's numbers and DynamoDB's keys and items represent
 * exactly, so a plan `convoy validate` accepts is one every part of Convoy can run.
 */
export const LIMITS = {
  /** Dates (`project.start`, holidays, `due`) and the whole computed schedule lie within these. */
  firstDate: '2000-01-01',
  lastDate: '2100-12-31',
  /** An estimate: at most 260w, five years of working weeks. */
  maxEstimateMinutes: 260 * 5 * 8 * 60,
  /** A wall-clock duration (SLA, heartbeat, window): at most 365d. */
  maxWallClockMinutes: 365 * 24 * 60,
  /** A `name`, `title`, JIRA status or issue type, metric name or event type: it may become part of a key. */
  maxNameLength: 200,
  /** Free text: `role`, a deliverable, a handoff item. */
  maxTextLength: 2000,
  /** The number of a condition: exactly representable, as every stored number is. */
  maxConditionValue: Number.MAX_SAFE_INTEGER,
  /** A schedule's `every`: at most once a year's worth of working days. */
  maxEvery: 366,
  /** A gate's `maxCautions`. */
  maxCautions: 100,
  /** The agents of a task's `pool`. */
  maxPoolSize: 50,
  /** The globs of a resource's `paths`. */
  maxResourcePaths: 20,
  /** One glob of a resource's `paths`. */
  maxGlobLength: 200,
  /** An agent's `lease`: at most 24h. */
  maxLeaseMinutes: 24 * 60,
  /** The entries of a task's `evidence` or the plan's `definitionOfDone`. */
  maxEvidence: 10,
  /** The GitHub logins of an agent (`agents[].github`). */
  maxGithubLogins: 10,
} as const;

/** The entries of `tasks[].evidence` and `definitionOfDone` that are not metric conditions (docs/plan-format.md). */
export const EVIDENCE_KINDS = ['pr-merged', 'checks-passed', 'handoff'] as const;

/** An evidence entry: one of EVIDENCE_KINDS, or a metric condition (CONDITION_PATTERN). */
export const EVIDENCE_PATTERN = new RegExp(
  `^(?:${EVIDENCE_KINDS.join('|')}|${CONDITION_PATTERN.source.slice(1, -1)})$`,
);

/** The task lifecycle's statuses, in order (docs/plan-format.md). Here, not in schema.ts, so reading them loads no zod schema. */
export const TASK_STATUSES = ['todo', 'in_progress', 'in_review', 'done'] as const;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MINUTES_PER_WORKING_DAY = 8 * 60;
const WORKING_MINUTES = { m: 1, h: 60, d: MINUTES_PER_WORKING_DAY, w: 5 * MINUTES_PER_WORKING_DAY };
const WALL_CLOCK_MINUTES = { m: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 };

function durationParts(text: string): { amount: number; unit: 'm' | 'h' | 'd' | 'w' } {
  const match = DURATION_PATTERN.exec(text);
  if (!match) throw new RangeError(`invalid duration "${text}"`);
  return { amount: Number(match[1]), unit: match[2] as 'm' | 'h' | 'd' | 'w' };
}

/** An estimate in working minutes: `d` and `w` are working days (8h) and weeks (5d). */
export function workingMinutes(duration: string): number {
  const { amount, unit } = durationParts(duration);
  return Math.round(amount * WORKING_MINUTES[unit]);
}

/** An SLA, heartbeat or window in wall-clock milliseconds: `1d` is 24 hours here. */
export function wallClockMillis(duration: string): number {
  const { amount, unit } = durationParts(duration);
  return Math.round(amount * WALL_CLOCK_MINUTES[unit] * 60_000);
}

/** True for a real calendar date in `YYYY-MM-DD` form (so `2026-02-30` is not one). */
export function isCalendarDate(text: string): boolean {
  const match = DATE_PATTERN.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Why `glob` is not a path glob of `resources[].paths` (GLOB_PATTERN), or undefined when it is one:
 * the message for each way GLOB_PATTERN fails. Length is checked by the schema.
 */
export function globProblem(glob: string): string | undefined {
  if (glob.length === 0) return 'must not be empty';
  const bad = [...glob].find((char) => !GLOB_CHARACTER.test(char));
  if (bad !== undefined)
    return `character ${JSON.stringify(bad)} is not allowed (use letters, digits, . _ - + @, / between segments, and the wildcards * ? **)`;
  if (glob.startsWith('/')) return 'must be relative to the repository root (no leading "/")';
  const segments = glob.split('/');
  if (segments.some((segment) => segment === '..')) return 'must not contain a ".." segment';
  if (segments.some((segment) => segment === '.')) return 'must not contain a "." segment';
  if (segments.some((segment) => segment === ''))
    return glob.endsWith('/')
      ? 'must not end with "/" (write dir/** for a directory)'
      : 'must not contain "//"';
  if (segments.some((segment) => segment.includes('**') && segment !== '**'))
    return '"**" must be a whole segment, as in src/**/*.ts';
  return undefined;
}

const knownTimeZones = new Map<string, boolean>();

/** True for an IANA time zone name the runtime knows (`America/New_York`, `UTC`). */
export function isTimeZone(name: string): boolean {
  let known = knownTimeZones.get(name);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      known = /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(name);
    } catch {
      known = false;
    }
    knownTimeZones.set(name, known);
  }
  return known;
}

export type ComparisonOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed `<metric> <op> <number>` condition. */
export interface Condition {
  readonly metric: string;
  readonly op: ComparisonOperator;
  readonly value: number;
  /** The condition as written in the plan, for messages. */
  readonly text: string;
}

export function parseCondition(text: string): Condition {
  const match = CONDITION_PATTERN.exec(text);
  if (!match) throw new RangeError(`invalid condition "${text}"`);
  return {
    metric: match[1] as string,
    op: match[2] as ComparisonOperator,
    value: Number((match[3] as string).replaceAll('_', '')),
    text: text.trim(),
  };
}

/** Whether a metric value satisfies a condition; a missing value never does. */
export function holds(condition: Condition, value: number | undefined): boolean {
  if (value === undefined || Number.isNaN(value)) return false;
  switch (condition.op) {
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
    case '==':
      return value === condition.value;
    case '!=':
      return value !== condition.value;
  }
}
