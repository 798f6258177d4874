import { formatPlanError, type Plan, parsePlan } from '../../core/plan/index.js';
import { formatInstant } from '../../core/reports/dates.js';
import { instantsAt, nextFireTimes } from '../../core/schedules/index.js';
import type { Command } from '../command.js';
import { EXIT, readUserFile, type Style, styler, UsageError } from '../io.js';

const DEFAULT_COUNT = 5;
const MAX_COUNT = 1000;

// An instant with its zone designator, or a date alone (the start of that day in the project time zone).
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `convoy schedule --json`: the next fire times of each schedule, as ISO 8601 UTC instants. */
export interface ScheduleListing {
  readonly schedules: { readonly id: string; readonly job: string; readonly next: string[] }[];
}

export const scheduleCommand: Command = {
  name: 'schedule',
  usage: 'convoy schedule FILE [--from ISO] [--count N] [--json]',
  details: [
    'Schedules run at their local time in the project time zone, on their days, never on non-working',
    'days or holidays, and not before the first working day. A local time that does not exist when',
    'daylight saving starts is skipped that day; one that occurs twice when it ends runs once.',
    'Exits 1 when the plan is invalid (the problems are printed as by `convoy validate`).',
  ],
  options: {
    from: {
      type: 'string',
      value: 'ISO',
      description:
        'list runs after this instant, e.g. 2026-03-06T09:00:00-05:00, or after the start of a date (default: now)',
    },
    count: {
      type: 'string',
      value: 'N',
      description: `how many runs to list per schedule (default ${DEFAULT_COUNT})`,
    },
    json: {
      type: 'boolean',
      description: 'print {"schedules": [{"id", "job", "next": [ISO 8601 UTC, ...]}]}',
    },
  },
  async run({ positionals, values }, io) {
    const [file, ...rest] = positionals;
    if (file === undefined) throw new UsageError('name the plan file whose schedules to show');
    if (rest.length > 0) throw new UsageError(`shows one plan at a time; got ${positionals.length} files`);
    const count = readCount(values.count);
    const from = readFrom(values.from);
    const result = parsePlan(await readUserFile(io, file), { file });
    if (!result.ok) {
      for (const error of result.errors) io.stderr(`${formatPlanError(error)}\n`);
      return EXIT.failed;
    }
    const { plan } = result;
    const { after, shown } = from(plan.project.timezone);
    const listing: ScheduleListing = {
      schedules: plan.schedules.map((schedule) => ({
        id: schedule.id,
        job: schedule.job,
        next: nextFireTimes(plan, schedule, after, count).map((fire) => fire.toISOString()),
      })),
    };
    io.stdout(
      values.json
        ? `${JSON.stringify(listing, null, 2)}\n`
        : renderSchedules(plan, shown, listing, styler(io.color)),
    );
    return EXIT.ok;
  },
};

function readCount(raw: unknown): number {
  if (raw === undefined) return DEFAULT_COUNT;
  const text = String(raw).trim();
  const count = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(count >= 1 && count <= MAX_COUNT))
    throw new UsageError(`--count must be a whole number from 1 to ${MAX_COUNT}, got "${String(raw)}"`);
  return count;
}

/** Where a listing starts: runs strictly after `after`; `shown` is what the header says. */
interface Start {
  readonly after: Date;
  readonly shown: Date;
}

/** Checks `--from` before the plan is read; a date alone needs the plan's time zone to become an instant. */
function readFrom(raw: unknown): (timeZone: string) => Start {
  if (raw === undefined) {
    const now = new Date();
    return () => ({ after: now, shown: now });
  }
  const text = String(raw).trim();
  const invalid = () =>
    new UsageError(
      `--from must be an ISO 8601 instant with a zone (e.g. 2026-03-06T09:00:00Z or 2026-03-06T09:00:00-05:00) ` +
        `or a date (2026-03-06), got "${String(raw)}"`,
    );
  if (DATE.test(text)) {
    if (
      Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ||
      new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) !== text
    )
      throw invalid();
    return (timeZone) => {
      const midnight = startOfDay(text, timeZone);
      // Just before the day's first instant, so a run at that very time is listed.
      return { after: new Date(midnight.getTime() - 1), shown: midnight };
    };
  }
  const instant = INSTANT.test(text) ? new Date(text) : undefined;
  if (!instant || Number.isNaN(instant.getTime())) throw invalid();
  return () => ({ after: instant, shown: instant });
}

/** The first instant of `date` in `timeZone`: midnight, or the end of a gap that swallowed it. */
function startOfDay(date: string, timeZone: string): Date {
  for (let minute = 0; minute < 24 * 60; minute += 15) {
    const time = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    const [first] = instantsAt(date, time, timeZone);
    if (first) return first;
  }
  return new Date(`${date}T00:00:00Z`);
}

/** `Fri 6 Mar 09:00 EST`: the one date style people read (core/reports/dates.ts), the year shown when not `from`'s. */
const formatLocal = (instant: Date, timeZone: string, from: Date) => formatInstant(instant, timeZone, from);

/** `2026-03-06T14:00Z`: the seconds of a fire time are always zero. */
function formatUtc(instant: Date): string {
  return `${instant.toISOString().slice(0, 16)}Z`;
}

/** The human-readable listing `convoy schedule` prints. */
export function renderSchedules(
  plan: Plan,
  from: Date,
  listing: ScheduleListing,
  style: (s: Style, t: string) => string,
): string {
  const zone = plan.project.timezone;
  const out: string[] = [];
  out.push(`${style('bold', plan.project.name)} ${style('dim', `(${plan.project.id})`)}`);
  out.push(`  ${zone} · from ${formatLocal(from, zone, from)} (${formatUtc(from)})`);
  for (const [i, schedule] of plan.schedules.entries()) {
    const next = listing.schedules[i]?.next ?? [];
    const channel = schedule.channel ?? plan.integrations.slack?.channel;
    const cadence = schedule.every && schedule.every > 1 ? ` · every ${schedule.every} working days` : '';
    out.push('', `${style('bold', schedule.id)} ${style('dim', `job ${schedule.job}`)}`);
    out.push(
      `  ${schedule.at} ${zone} on ${schedule.days.join(', ')}${cadence} · ${channel ?? style('dim', 'no channel')}`,
    );
    if (next.length === 0) out.push(`  ${style('yellow', 'never runs again')}`);
    for (const text of next) {
      const fire = new Date(text);
      out.push(`  ${formatLocal(fire, zone, from)}   ${style('dim', formatUtc(fire))}`);
    }
  }
  return `${out.join('\n')}\n`;
}
