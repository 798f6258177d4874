import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { addDays, WorkingCalendar, weekdayOf } from '../core/plan/calendar.js';
import type { Plan } from '../core/plan/index.js';

/** The file in the data folder that keeps each project's demo start across restarts. */
export const DEMO_START_FILE = 'demo-start.json';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A plan moved in time: its own start and the start it runs with. */
export interface DemoShift {
  readonly project: string;
  /** `project.start` as the plan file writes it. */
  readonly planStart: string;
  /** The start it runs with. */
  readonly start: string;
}

/** Whether `value` is a `--start` Convoy accepts: `today` or a calendar date `YYYY-MM-DD`. */
export function isDemoStart(value: string): boolean {
  if (value === 'today') return true;
  const millis = DATE.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  return !Number.isNaN(millis) && new Date(millis).toISOString().startsWith(value);
}

/**
 * Moves a plan so that it begins on `start`, which the caller makes a working day: the start becomes
 * `start`, every holiday moves by the same number of calendar days, and every phase due date moves
 * so that the phase keeps the same number of working days before it (a due date on a weekend lands
 * on the working day before its new place). Nothing else in a plan is a date.
 */
export function shiftPlan(plan: Plan, start: string): Plan {
  const before = new WorkingCalendar(plan.project);
  const delta = dayNumber(start) - dayNumber(before.start);
  const project = {
    ...plan.project,
    start,
    holidays: plan.project.holidays.map((holiday) => addDays(holiday, delta)),
  };
  const after = new WorkingCalendar(project);
  const moveDue = (due: string) => {
    // Working days from the first one up to and including the due date.
    const working = before.offsetOf(addDays(due, 1));
    return working === 0 ? after.start : after.dateAt(working - 1);
  };
  return {
    ...plan,
    project,
    phases: plan.phases.map((phase) =>
      phase.due === undefined ? phase : { ...phase, due: moveDue(phase.due) },
    ),
  };
}

/**
 * The same move on the plan's text, for `convoy apply` of a file whose dates `convoy dev` moved:
 * only the date scalars change, comments and layout stay (JSON stays JSON).
 */
export function shiftPlanText(text: string, plan: Plan, start: string, json: boolean): string {
  const shifted = shiftPlan(plan, start);
  const edits: [readonly (string | number)[], string][] = [
    [['project', 'start'], shifted.project.start],
    ...shifted.project.holidays.map((holiday, index): [(string | number)[], string] => [
      ['project', 'holidays', index],
      holiday,
    ]),
    ...shifted.phases.flatMap((phase, index): [(string | number)[], string][] =>
      phase.due === undefined ? [] : [[['phases', index, 'due'], phase.due]],
    ),
  ];
  if (json) {
    const data = JSON.parse(text) as Record<string, unknown>;
    for (const [path, value] of edits) setPath(data, path, value);
    return `${JSON.stringify(data, null, 2)}\n`;
  }
  const document = parseDocument(text);
  for (const [path, value] of edits) if (document.hasIn(path)) document.setIn(path, value);
  return document.toString();
}

function setPath(data: Record<string, unknown>, path: readonly (string | number)[], value: string): void {
  let node: unknown = data;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown> | undefined)?.[key];
  const last = path.at(-1) as string | number;
  if (node !== null && typeof node === 'object' && last in node)
    (node as Record<string | number, unknown>)[last] = value;
}

/** Options of {@link applyDemoStart}. */
export interface DemoStartOptions {
  /** `today` or `YYYY-MM-DD`. */
  readonly start: string;
  /** Where the chosen start is kept ({@link DEMO_START_FILE}). */
  readonly dataDir: string;
  /** Now, on the dev clock. */
  readonly today: Date;
}

/**
 * `convoy dev --start`: `today` moves the plan to begin today (the next working day on a day off) on
 * the first run and keeps that start in the data folder, so a restart finds the plan where it left it;
 * a date moves it there and keeps that. A plan whose own start changed since is moved afresh.
 *
 * @throws RangeError when `start` is neither `today` nor a calendar date
 */
export async function applyDemoStart(
  plan: Plan,
  options: DemoStartOptions,
): Promise<{ plan: Plan; shift: DemoShift; lines: string[] }> {
  if (!isDemoStart(options.start))
    throw new RangeError(`--start must be "today" or a date YYYY-MM-DD, got "${options.start}"`);
  const file = join(options.dataDir, DEMO_START_FILE);
  const kept = await readKept(file);
  const project = plan.project.id;
  const previous = kept[project];
  let start: string;
  let why: string;
  if (options.start !== 'today') {
    start = firstWorkingDay(plan, options.start);
    why = start === options.start ? 'as --start asked' : `the first working day from ${options.start}`;
  } else if (previous !== undefined && previous.planStart === plan.project.start) {
    start = previous.start;
    why = `kept from the first run (${DEMO_START_FILE})`;
  } else {
    const today = localDate(options.today, plan.project.timezone);
    start = firstWorkingDay(plan, today);
    why = start === today ? 'today' : `the next working day after ${today}`;
  }
  const shifted = shiftPlan(plan, start);
  const shift: DemoShift = { project, planStart: plan.project.start, start };
  if (previous?.start !== start || previous.planStart !== plan.project.start) {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${JSON.stringify({ ...kept, [project]: shift }, null, 2)}\n`, { mode: 0o600 });
  }
  const lines = [
    `demo start: plan ${project} starts ${describe(start)} instead of ${plan.project.start}: ${why}`,
    ...plan.phases.flatMap((phase, index) => {
      const due = shifted.phases[index]?.due;
      return phase.due === undefined || due === undefined
        ? []
        : [`  phase ${phase.id} due ${describe(due)} (the plan says ${phase.due})`];
    }),
    ...(plan.project.holidays.length > 0
      ? [`  holidays moved with it: ${shifted.project.holidays.join(', ')}`]
      : []),
  ];
  return { plan: shifted, shift, lines };
}

async function readKept(file: string): Promise<Record<string, DemoShift>> {
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return kept !== null && typeof kept === 'object' ? (kept as Record<string, DemoShift>) : {};
  } catch {
    return {};
  }
}

/** The first working day on or after `date`, by the plan's workdays (and its holidays moved to there). */
function firstWorkingDay(plan: Plan, date: string): string {
  let day = date;
  for (let step = 0; step < 7 && !plan.project.workdays.includes(weekdayOf(day)); step++)
    day = addDays(day, 1);
  return day;
}

/** The calendar date of `now` in a time zone, `YYYY-MM-DD`. */
function localDate(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

function describe(date: string): string {
  const weekday = weekdayOf(date);
  return `${weekday.charAt(0).toUpperCase()}${weekday.slice(1)} ${date}`;
}

function dayNumber(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

/**
 * For `convoy apply` to the running `convoy dev`: when that dev moved this plan (`--start`), the same
 * move applied to the file's text, so a re-apply keeps the demo's dates; otherwise the text as is.
 */
export async function shiftLikeRunningDev(
  text: string,
  plan: Plan,
  json: boolean,
  stateDir = '.convoy',
): Promise<{ text: string; start?: string }> {
  let shift: Partial<DemoShift> | undefined;
  try {
    shift = (JSON.parse(await readFile(join(stateDir, 'dev.json'), 'utf8')) as { demoStart?: DemoShift })
      .demoStart;
  } catch {
    return { text };
  }
  if (shift?.project !== plan.project.id || shift.planStart !== plan.project.start || !shift.start)
    return { text };
  return { text: shiftPlanText(text, plan, shift.start, json), start: shift.start };
}
