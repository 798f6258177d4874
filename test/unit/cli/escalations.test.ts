import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { age } from '../../../functions/cli/commands/escalations.js';
import type { Escalation } from '../../../functions/core/escalations/model.js';
import { convoy } from '../../support/cli.js';
import { tempDir } from '../../support/temp.js';

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000 - 30_000).toISOString();

function escalation(overrides: Partial<Escalation>): Escalation {
  return {
    id: 'security:20260105T100000000Z:1f3a9c2e',
    project: 'demo',
    rule: 'security',
    kind: 'event',
    subject: 'cve-1',
    dedupKey: 'security:cve-1',
    status: 'open',
    level: 1,
    targets: ['lead'],
    openedAt: minutesAgo(125),
    levelSince: minutesAgo(125),
    dueAt: minutesAgo(-60),
    occurrences: 1,
    reason: 'security.critical',
    history: [],
    version: 1,
    ...overrides,
  };
}

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** A stand-in for the Convoy API: records each request and answers with the next canned reply. */
let server: Server;
let url: string;
let seen: Seen[];
let replies: { status: number; body: unknown }[];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        authorization: request.headers.authorization,
        body,
      });
      const reply = replies.shift() ?? { status: 500, body: { error: { message: 'no reply queued' } } };
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  replies = [];
});

const target = () => ['--url', url, '--project', 'demo', '--token', 'cvy_person'];

describe('convoy escalations list', () => {
  it('prints id, rule, subject, level, status, age and targets, following cursors', async () => {
    // Prepare
    replies.push(
      {
        status: 200,
        body: {
          escalations: [
            escalation({ targets: ['lead', 'cto'] }),
            escalation({
              id: 'tps-low:20260105T090000000Z:aa11bb22',
              rule: 'tps-low',
              subject: 'tps',
              status: 'acknowledged',
              level: 2,
              targets: ['cto'],
              openedAt: minutesAgo(3 * 24 * 60 + 4 * 60),
            }),
          ],
          cursor: 'next-page',
        },
      },
      {
        status: 200,
        body: {
          escalations: [
            escalation({ subject: 'cve-0', targets: [] }),
            escalation({ subject: 'cve-9', snoozedUntil: minutesAgo(-120), snoozedBy: 'person:lead' }),
          ],
          cursor: null,
        },
      },
    );

    // Act
    const result = await convoy('escalations', ...target());

    // Assess
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(seen.map((request) => [request.method, request.url, request.authorization])).toEqual([
      ['GET', '/v1/plans/demo/escalations?limit=50', 'Bearer cvy_person'],
      ['GET', '/v1/plans/demo/escalations?limit=48&cursor=next-page', 'Bearer cvy_person'],
    ]);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+RULE\s+SUBJECT\s+LEVEL\s+STATUS\s+AGE\s+TARGETS$/);
    expect(lines[1]).toMatch(
      /^security:20260105T100000000Z:1f3a9c2e\s+security\s+cve-1\s+1\s+open\s+2h 5m\s+lead, cto$/,
    );
    expect(lines[2]).toMatch(/^tps-low:\S+\s+tps-low\s+tps\s+2\s+acknowledged\s+3d 4h\s+cto$/);
    expect(lines[3]).toMatch(/cve-0\s+1\s+open\s+2h 5m\s+-$/);
    expect(lines[4]).toMatch(/cve-9\s+1\s+open, snoozed\s+2h 5m\s+lead$/);
    expect(lines).toHaveLength(5);
  });

  it('asks for one status and stops at --limit, saying that more remain', async () => {
    // Prepare
    replies.push({
      status: 200,
      body: { escalations: [escalation({ status: 'resolved' })], cursor: 'more' },
    });

    // Act
    const result = await convoy('escalations', 'list', '--status', 'resolved', '--limit', '1', ...target());

    // Assess
    expect(result.code).toBe(0);
    expect(seen.map((request) => request.url)).toEqual([
      '/v1/plans/demo/escalations?status=resolved&limit=1',
    ]);
    expect(result.stdout).toContain('resolved');
    expect(result.stdout).toContain('… more escalations; raise --limit to see them');
  });

  it('prints the JSON with --json and a sentence when there are none', async () => {
    // Prepare
    replies.push(
      { status: 200, body: { escalations: [escalation({})], cursor: null } },
      { status: 200, body: { escalations: [], cursor: null } },
    );

    // Act
    const json = await convoy('escalations', '--json', ...target());
    const none = await convoy('escalations', 'list', ...target());

    // Assess
    expect(JSON.parse(json.stdout).escalations[0]).toMatchObject({ id: escalation({}).id });
    expect(none.stdout).toBe('no escalations\n');
  });

  it('takes the URL, project and admin token of the running convoy dev by default', async () => {
    // Prepare
    const dir = tempDir('convoy-escalations-');
    mkdirSync(join(dir, '.convoy'));
    const tokensFile = join(dir, '.convoy', 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ admin: 'cvy_admin' }));
    writeFileSync(
      join(dir, '.convoy', 'dev.json'),
      JSON.stringify({ url, project: 'dev-project', tokensFile }),
    );
    replies.push({ status: 200, body: { escalations: [], cursor: null } });
    const cwd = process.cwd();
    const token = process.env.CONVOY_TOKEN;
    delete process.env.CONVOY_TOKEN;

    // Act
    process.chdir(dir);
    try {
      await convoy('escalations');
    } finally {
      process.chdir(cwd);
      if (token !== undefined) process.env.CONVOY_TOKEN = token;
    }

    // Assess
    expect(seen.map((request) => [request.url, request.authorization])).toEqual([
      ['/v1/plans/dev-project/escalations?limit=50', 'Bearer cvy_admin'],
    ]);
  });
});

describe('convoy escalations ack / resolve / reassign', () => {
  it('acknowledges an escalation by id and says what changed', async () => {
    // Prepare
    replies.push({
      status: 200,
      body: { changed: true, escalation: escalation({ status: 'acknowledged' }) },
    });

    // Act
    const result = await convoy('escalations', 'ack', 'security:20260105T100000000Z:1f3a9c2e', ...target());

    // Assess
    expect(result.code).toBe(0);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/plans/demo/escalations/security%3A20260105T100000000Z%3A1f3a9c2e/ack',
        authorization: 'Bearer cvy_person',
        body: '{}',
      },
    ]);
    expect(result.stdout).toBe(
      '✓ acknowledged security:20260105T100000000Z:1f3a9c2e (security: cve-1), now acknowledged at level 1\n',
    );
  });

  it('resolves with a note, and confirms a reassignment', async () => {
    // Prepare
    replies.push(
      { status: 200, body: { changed: true, escalation: escalation({ status: 'resolved' }) } },
      { status: 200, body: { changed: false, escalation: escalation({}) } },
    );

    // Act
    const resolved = await convoy('escalations', 'resolve', 'e-1', '--note', 'patched', ...target());
    const reassigned = await convoy('escalations', 'reassign', 'e-1', ...target());

    // Assess
    expect(seen.map((request) => [request.url, request.body])).toEqual([
      ['/v1/plans/demo/escalations/e-1/resolve', '{"note":"patched"}'],
      ['/v1/plans/demo/escalations/e-1/reassign', '{}'],
    ]);
    expect(resolved.stdout).toContain('✓ resolved security:20260105T100000000Z:1f3a9c2e');
    expect(reassigned.stdout).toBe(
      'security:20260105T100000000Z:1f3a9c2e was already reassigned; nothing changed\n',
    );
  });

  it('prints the API’s refusal and exits 1', async () => {
    // Prepare
    replies.push({
      status: 409,
      body: { error: { code: 'conflict', message: 'escalation e-1 is already resolved (by admin)' } },
    });

    // Act
    const result = await convoy('escalations', 'resolve', 'e-1', ...target());

    // Assess
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: 409 escalation e-1 is already resolved (by admin)\n',
    });
  });

  it.each([
    [['close', 'e-1'], 'unknown action close; expected list, ack, snooze, resolve or reassign'],
    [['ack'], 'name exactly one escalation: convoy escalations ack ID'],
    [['list', '--status', 'closed'], '--status must be one of open, acknowledged, resolved, got closed'],
    [['list', '--limit', '0'], '--limit must be a whole number of at least 1, got 0'],
    [['list', '--note', 'x'], '--note goes with ack, snooze, resolve or reassign'],
    [['ack', 'e-1', '--status', 'open'], '--status and --limit go with list'],
  ])('refuses %j with a usage error', async (args, message) => {
    // Act
    const result = await convoy('escalations', ...args, ...target());

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${message}`);
    expect(seen).toEqual([]);
  });
});

describe('age', () => {
  it('reads like a duration a person says', () => {
    const now = new Date('2026-01-10T12:00:00Z');
    expect(age('2026-01-10T11:59:15Z', now)).toBe('45s');
    expect(age('2026-01-10T11:48:00Z', now)).toBe('12m');
    expect(age('2026-01-10T09:00:00Z', now)).toBe('3h');
    expect(age('2026-01-10T08:55:00Z', now)).toBe('3h 5m');
    expect(age('2026-01-08T08:00:00Z', now)).toBe('2d 4h');
    expect(age('2026-01-11T08:00:00Z', now)).toBe('0s');
  });
});
