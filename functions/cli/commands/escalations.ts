import type { Escalation, EscalationStatus } from '../../core/escalations/model.js';
import { ApiError, request, resolveTarget, type Target } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, type Io, type Style, styler, UsageError } from '../io.js';
import { connection } from './apply.js';

const STATUSES: readonly EscalationStatus[] = ['open', 'acknowledged', 'resolved'];

/** What each action is called on the command line, in the API path, and in what it prints. */
const ACTIONS = {
  ack: { path: 'ack', done: 'acknowledged', unchanged: 'was already acknowledged' },
  resolve: { path: 'resolve', done: 'resolved', unchanged: 'was already resolved' },
  reassign: { path: 'reassign', done: 'reassignment confirmed for', unchanged: 'was already reassigned' },
  snooze: { path: 'snooze', done: 'snoozed', unchanged: 'was already snoozed until then' },
} as const;

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--until`: an ISO 8601 time with its offset (`2026-12-07T09:00:00-05:00`, `…Z`), or a duration from
 * now (`30m`, `2h`, `1d`, `1h30m`). UsageError for anything else.
 */
export function parseUntil(text: string, now: Date): string {
  const duration = /^(?:\d+[mhdw])+$/.test(text) ? [...text.matchAll(/(\d+)([mhdw])/g)] : undefined;
  if (duration) {
    const millis = duration.reduce(
      (sum, [, n, unit]) => sum + Number(n) * (UNITS[unit as string] as number),
      0,
    );
    if (millis > 0) return new Date(now.getTime() + millis).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const at = new Date(text);
    if (!Number.isNaN(at.getTime())) return at.toISOString();
  }
  throw new UsageError(
    `--until must be a time with its offset (2026-12-07T09:00:00-05:00) or a duration from now (30m, 2h, 1d), got ${text}`,
  );
}

/** The API's page size ceiling; a longer list is read page by page. */
const PAGE_LIMIT = 200;

export const escalationsCommand: Command = {
  name: 'escalations',
  usage:
    'convoy escalations [list [--status S] [--limit N]] | ack ID | snooze ID --until ISO|2h | resolve ID | reassign ID  [--note TEXT] [--url URL] [--project ID] [--token TOKEN] [--json]',
  details: [
    'list (the default) shows the newest first: id, rule, subject, level, status, age and targets.',
    'ack, snooze, resolve and reassign act as the token’s holder: a person the escalation reached',
    '(the agent’s owner for reassign) or an admin; --note says why, in the audit trail.',
    'snooze keeps an escalation unresolved but quiet until --until (at most 30 days): no reminders,',
    'no level changes, and its rule opens no other one for the same subject; then it is posted again.',
    'Resolving an escalation whose condition still holds opens a new one at the next check: snooze it instead.',
    'Defaults come from the running convoy dev (.convoy/dev.json).',
  ],
  options: {
    ...connection,
    project: { type: 'string', value: 'ID', description: 'project id (default: convoy dev’s project)' },
    status: { type: 'string', value: 'S', description: 'list only open, acknowledged or resolved ones' },
    limit: { type: 'string', value: 'N', description: 'list at most N escalations (default 50)' },
    note: {
      type: 'string',
      value: 'TEXT',
      description: 'why, kept in the audit trail (ack, snooze, resolve, reassign)',
    },
    until: {
      type: 'string',
      value: 'ISO|2h',
      description: 'snooze until this time, or for this long from now (30m, 2h, 1d)',
    },
    json: { type: 'boolean', description: 'print the JSON the API returns' },
  },
  async run({ positionals, values }, io) {
    const [action = 'list', ...rest] = positionals;
    if (action !== 'list' && !(action in ACTIONS))
      throw new UsageError(`unknown action ${action}; expected list, ack, snooze, resolve or reassign`);
    const status = typeof values.status === 'string' ? values.status : undefined;
    if (status !== undefined && !STATUSES.includes(status as EscalationStatus))
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got ${status}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be a whole number of at least 1, got ${String(values.limit)}`);
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      if (values.note !== undefined)
        throw new UsageError('--note goes with ack, snooze, resolve or reassign');
    } else {
      if (rest.length !== 1)
        throw new UsageError(`name exactly one escalation: convoy escalations ${action} ID`);
      if (status !== undefined || values.limit !== undefined)
        throw new UsageError('--status and --limit go with list');
    }
    if (action === 'snooze' && typeof values.until !== 'string')
      throw new UsageError('say until when: convoy escalations snooze ID --until 2h (or an ISO time)');
    if (action !== 'snooze' && values.until !== undefined) throw new UsageError('--until goes with snooze');
    const until = typeof values.until === 'string' ? parseUntil(values.until, new Date()) : undefined;
    const target = await resolveTarget(values);
    if (!target.project) throw new UsageError('no --project given and no running convoy dev to take it from');
    const style = styler(io.color);
    const base = `/v1/plans/${encodeURIComponent(target.project)}/escalations`;
    try {
      if (action === 'list') {
        const { escalations, more } = await list(target, base, status, limit);
        if (values.json) io.stdout(`${JSON.stringify({ escalations }, null, 2)}\n`);
        else io.stdout(renderEscalations(escalations, new Date(), style, more));
        return EXIT.ok;
      }
      return await act(io, target, base, action as keyof typeof ACTIONS, rest[0] as string, values, until);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.stderr(`${style('red', 'error:')} ${error.status} ${error.message}\n`);
      return EXIT.failed;
    }
  },
};

/** Reads pages until `limit` escalations or the last page; `more` says that some were left out. */
async function list(target: Target, base: string, status: string | undefined, limit: number) {
  const escalations: Escalation[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({
      ...(status ? { status } : {}),
      limit: String(Math.min(PAGE_LIMIT, limit - escalations.length)),
      ...(cursor ? { cursor } : {}),
    });
    const page: { escalations: Escalation[]; cursor: string | null } = await request(
      target,
      'GET',
      `${base}?${query}`,
    );
    escalations.push(...page.escalations);
    cursor = page.cursor;
  } while (cursor && escalations.length < limit);
  return { escalations, more: cursor !== null };
}

async function act(
  io: Io,
  target: Target,
  base: string,
  action: keyof typeof ACTIONS,
  id: string,
  values: Record<string, string | boolean | undefined>,
  until?: string,
): Promise<number> {
  const note = typeof values.note === 'string' ? values.note : undefined;
  const body = { ...(until === undefined ? {} : { until }), ...(note === undefined ? {} : { note }) };
  const result = await request<{ escalation: Escalation; changed: boolean }>(
    target,
    'POST',
    `${base}/${encodeURIComponent(id)}/${ACTIONS[action].path}`,
    { text: JSON.stringify(body), type: 'application/json' },
  );
  if (values.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  }
  const style = styler(io.color);
  const { escalation } = result;
  io.stdout(
    result.changed
      ? `${style('green', '✓')} ${ACTIONS[action].done} ${escalation.id} (${escalation.rule}: ${escalation.subject}), now ${escalation.status} at level ${escalation.level}${
          escalation.snoozedUntil ? `, snoozed until ${escalation.snoozedUntil}` : ''
        }\n`
      : `${escalation.id} ${ACTIONS[action].unchanged}; nothing changed\n`,
  );
  return EXIT.ok;
}

const STATUS_STYLE: Record<EscalationStatus, Style> = {
  open: 'red',
  acknowledged: 'yellow',
  resolved: 'green',
};

/** `45s`, `12m`, `3h 5m`, `2d 4h`: how long ago, for a terminal. */
export function age(from: string, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}

/** The escalations as a table a person reads in a terminal, newest first as the API lists them. */
export function renderEscalations(
  escalations: readonly Escalation[],
  now: Date,
  style: (s: Style, t: string) => string,
  more = false,
): string {
  if (escalations.length === 0) return 'no escalations\n';
  const rows = escalations.map((escalation) => [
    escalation.id,
    escalation.rule,
    escalation.subject,
    String(escalation.level),
    // Unresolved but quiet: say so, and until when is in the JSON and `convoy status`.
    escalation.snoozedUntil ? `${escalation.status}, snoozed` : escalation.status,
    age(escalation.openedAt, now),
    escalation.targets.join(', ') || '-',
  ]);
  const header = ['ID', 'RULE', 'SUBJECT', 'LEVEL', 'STATUS', 'AGE', 'TARGETS'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: readonly string[], paint: (cell: string, column: number) => string) =>
    cells
      .map((cell, column) => {
        const padded = column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number);
        return paint(padded, column);
      })
      .join('  ')
      .trimEnd();
  const out = [line(header, (cell) => style('bold', cell))];
  for (const [index, row] of rows.entries()) {
    const status = (escalations[index] as Escalation).status;
    out.push(line(row, (cell, column) => (column === 4 ? style(STATUS_STYLE[status], cell) : cell)));
  }
  if (more) out.push(style('dim', '… more escalations; raise --limit to see them'));
  return `${out.join('\n')}\n`;
}
