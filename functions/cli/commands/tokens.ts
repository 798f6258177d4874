import { ApiError, request, resolveTarget, type Target } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, type Io, type Style, styler, UsageError } from '../io.js';
import { connection } from './apply.js';

/** A token as `GET /v1/plans/{project}/tokens` lists it: never the token itself. */
export interface ListedToken {
  readonly id: string;
  readonly role: 'admin' | 'agent' | 'person';
  readonly project?: string;
  readonly subject?: string;
  readonly createdAt: string;
  readonly status: 'active' | 'disabled' | 'invalid';
}

const STATUS_STYLE: Readonly<Record<ListedToken['status'], Style>> = {
  active: 'green',
  disabled: 'yellow',
  invalid: 'red',
};

export const tokensCommand: Command = {
  name: 'tokens',
  summary: 'List the API tokens of a project by id, or revoke one',
  usage: 'convoy tokens [list] | revoke ID  [--url URL] [--project ID] [--token TOKEN] [--json]',
  details: [
    'list (the default) shows the project’s agent and person tokens and every admin token, oldest first:',
    'id, role, subject, status and when it was created; never a token itself. Status: active;',
    'disabled (its agent or person is not in the current plan); invalid (not sealed with this',
    'Convoy’s token key, e.g. written into the database by hand: it never authenticates).',
    'revoke ID deletes a token: refused at once by the container that revoked it, by every other within',
    '30 s (convoy dev is one process: at once). Both need an admin token.',
    'New tokens: POST /v1/plans/{project}/agents/{agent}/tokens (or people/{person}), docs/api.md.',
    'Defaults come from the running convoy dev (.convoy/dev.json).',
  ],
  options: {
    ...connection,
    project: { type: 'string', value: 'ID', description: 'project id (default: convoy dev’s project)' },
    json: { type: 'boolean', description: 'print the JSON the API returns' },
  },
  async run({ positionals, values }, io) {
    const [action = 'list', ...rest] = positionals;
    if (action !== 'list' && action !== 'revoke')
      throw new UsageError(`unknown action ${action}; expected list or revoke`);
    if (action === 'list' && rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    if (action === 'revoke' && rest.length !== 1)
      throw new UsageError(
        'name exactly one token id: convoy tokens revoke ID (convoy tokens list shows them)',
      );
    const target = await resolveTarget(values);
    if (!target.project) throw new UsageError('no --project given and no running convoy dev to take it from');
    const base = `/v1/plans/${encodeURIComponent(target.project)}/tokens`;
    try {
      if (action === 'list') return await list(io, target, base, values.json === true);
      return await revoke(io, target, base, rest[0] as string, values.json === true);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.stderr(`${styler(io.color)('red', 'error:')} ${error.status} ${error.message}\n`);
      return EXIT.failed;
    }
  },
};

async function list(io: Io, target: Target, base: string, json: boolean): Promise<number> {
  const result = await request<{ tokens: ListedToken[] }>(target, 'GET', base);
  io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : renderTokens(result.tokens, styler(io.color)));
  return EXIT.ok;
}

async function revoke(io: Io, target: Target, base: string, id: string, json: boolean): Promise<number> {
  const result = await request<{ revoked: Omit<ListedToken, 'status'> }>(
    target,
    'DELETE',
    `${base}/${encodeURIComponent(id)}`,
  );
  const { revoked } = result;
  io.stdout(
    json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `${styler(io.color)('green', '✓')} revoked token ${revoked.id} (${revoked.role}${revoked.subject ? ` ${revoked.subject}` : ''}, created ${revoked.createdAt})\n`,
  );
  return EXIT.ok;
}

/** The tokens as a table a person reads in a terminal. */
export function renderTokens(tokens: readonly ListedToken[], style: (s: Style, t: string) => string): string {
  if (tokens.length === 0) return 'no tokens\n';
  const header = ['ID', 'ROLE', 'SUBJECT', 'STATUS', 'CREATED'];
  const rows = tokens.map((token) => [
    token.id,
    token.role,
    token.subject ?? '-',
    token.status,
    token.createdAt,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: readonly string[], paint: (cell: string, column: number) => string) =>
    cells
      .map((cell, column) =>
        paint(column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number), column),
      )
      .join('  ')
      .trimEnd();
  const out = [line(header, (cell) => style('bold', cell))];
  for (const [index, row] of rows.entries()) {
    const status = (tokens[index] as ListedToken).status;
    out.push(line(row, (cell, column) => (column === 3 ? style(STATUS_STYLE[status], cell) : cell)));
  }
  return `${out.join('\n')}\n`;
}
