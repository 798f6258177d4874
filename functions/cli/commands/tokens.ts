import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCoordinationStore } from '../../adapters/dynamodb/coordination-store.js';
import { DEFAULT_TABLE_NAME } from '../../adapters/dynamodb/table-definition.js';
import { mintToken } from '../../handlers/http/auth.js';
import { keyOf } from '../../handlers/token-key.js';
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
  usage:
    'convoy tokens [list] | revoke ID  [--url URL] [--project ID] [--token TOKEN] [--json]\n' +
    '       convoy tokens create-admin --region R [--table T] [--secret NAME|ARN | --key-file FILE]',
  details: [
    'list (the default) shows the project’s agent and person tokens and every admin token, oldest first:',
    'id, role, subject, status and when it was created; never a token itself. Status: active;',
    'disabled (its agent or person is not in the current plan); invalid (not sealed with this',
    'Convoy’s token key, e.g. written into the database by hand: it never authenticates).',
    'revoke ID deletes a token: refused at once by the container that revoked it, by every other within',
    '30 s (convoy dev is one process: at once). Both need an admin token.',
    'New tokens: POST /v1/plans/{project}/agents/{agent}/tokens (or people/{person}), docs/api.md.',
    'create-admin mints an admin token for a deployed Convoy with your AWS credentials, which must read',
    'the token key (secret convoy/token-key) and write the table: the one way to the first admin token.',
    'It prints the token once; keep it in a password manager.',
    'Defaults come from the running convoy dev (.convoy/dev.json).',
  ],
  options: {
    ...connection,
    project: { type: 'string', value: 'ID', description: 'project id (default: convoy dev’s project)' },
    json: { type: 'boolean', description: 'print the JSON the API returns' },
    region: {
      type: 'string',
      value: 'R',
      description: 'create-admin: the AWS region (default: $AWS_REGION)',
    },
    table: {
      type: 'string',
      value: 'T',
      description: `create-admin: the state table (default ${DEFAULT_TABLE_NAME})`,
    },
    secret: {
      type: 'string',
      value: 'NAME|ARN',
      description: 'create-admin: the token key secret (default convoy/token-key)',
    },
    'key-file': {
      type: 'string',
      value: 'FILE',
      description: 'create-admin: read the token key from a file',
    },
    endpoint: {
      type: 'string',
      value: 'URL',
      description: 'create-admin: a DynamoDB endpoint (DynamoDB Local)',
    },
  },
  async run({ positionals, values }, io) {
    const [action = 'list', ...rest] = positionals;
    if (action === 'create-admin') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      return createAdmin(io, values);
    }
    if (action !== 'list' && action !== 'revoke')
      throw new UsageError(`unknown action ${action}; expected list, revoke or create-admin`);
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

/**
 * `create-admin`: an admin token minted here, sealed with the deployment's token key (read with the
 * caller's AWS credentials), stored in the state table. The token is printed once and kept nowhere.
 */
async function createAdmin(io: Io, values: Record<string, string | boolean | undefined>): Promise<number> {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const region = text('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('create-admin needs --region (or $AWS_REGION): where the stack is');
  if (text('secret') !== undefined && text('key-file') !== undefined)
    throw new UsageError('give --secret or --key-file, not both');
  const keyFile = text('key-file');
  const secret = text('secret') ?? 'convoy/token-key';
  const endpoint = text('endpoint');
  const tokenKey = async () => {
    if (keyFile !== undefined) return keyOf(await readUserKey(keyFile), keyFile);
    // Loaded only here: no other command needs it.
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    const response = await new SecretsManagerClient({ region }).send(
      new GetSecretValueCommand({ SecretId: secret }),
    );
    if (response.SecretString === undefined) throw new UsageError(`the secret ${secret} holds no string`);
    return keyOf(response.SecretString, `secret ${secret}`);
  };
  const client = new DynamoDBClient({ region, ...(endpoint ? { endpoint } : {}) });
  const store = new DynamoDbCoordinationStore(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    text('table') ?? DEFAULT_TABLE_NAME,
  );
  const style = styler(io.color);
  try {
    const { token, record } = await mintToken(
      { tokens: store, tokenKey },
      { role: 'admin' },
      new Date().toISOString(),
    );
    io.stdout(`${token}\n`);
    io.stderr(
      `${style('green', '✓')} admin token ${record.id} created; it is not shown again (revoke it with convoy tokens revoke ${record.id})\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    io.stderr(`${style('red', 'error:')} ${(error as Error).name}: ${(error as Error).message}\n`);
    return EXIT.failed;
  } finally {
    client.destroy();
  }
}

async function readUserKey(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the key file ${file}: ${(error as NodeJS.ErrnoException).code ?? ''}`);
  }
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
