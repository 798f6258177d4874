import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { convoy } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const PLAN = `version: 1
project: { id: reports, name: Report Project, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm, name: Pat Manager }]
agents:
  - { id: alpha, name: Agent Alpha, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, title: Build the API, agent: alpha, estimate: 1d }
      - { id: docs, title: Write the docs, agent: alpha, estimate: 1d, dependsOn: [api] }
`;

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
  await api.apply(PLAN);
  await api.call('POST', '/v1/plans/reports/tasks/api/transitions', { body: { to: 'in_progress' } });
  await api.call('POST', '/v1/plans/reports/tasks/api/blocker', {
    body: { reason: 'waiting for credentials_v2 > 1 day' },
  });
});

afterAll(async () => {
  await api.close();
});

async function get(path: string, token: string | null = api.admin) {
  const response = await fetch(`${api.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

describe('GET /v1/plans/{project}/reports/{kind}', () => {
  it('renders the daily report as Markdown with the blocked task and its reason', async () => {
    // Act
    const response = await get('/v1/plans/reports/reports/report');

    // Assess
    expect(response.status).toBe(200);
    expect(response.type).toContain('text/markdown');
    const markdown = response.bytes.toString('utf8');
    expect(markdown).toContain('Report Project');
    expect(markdown).toContain('waiting for credentials');
  });

  it('gives the document as JSON and as a Slack message, for any token of the project', async () => {
    // Prepare
    const agent = await api.token('agent', 'reports', 'alpha');

    // Act
    const json = await api.call('GET', '/v1/plans/reports/reports/standup?format=json', { token: agent });
    const slack = await api.call<{ blocks: unknown[] }>(
      'GET',
      '/v1/plans/reports/reports/weekly?format=slack',
      {
        token: agent,
      },
    );

    // Assess
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ kind: 'standup', project: { id: 'reports' } });
    expect(slack.status).toBe(200);
    expect(slack.body.blocks.length).toBeGreaterThan(0);
    expect(slack.body.blocks.length).toBeLessThanOrEqual(50);
  });

  it('answers 400 naming the path for an unknown report and 401 without a token', async () => {
    // Act
    const unknown = await api.call<{ error: { message: string } }>('GET', '/v1/plans/reports/reports/retro');
    const anonymous = await get('/v1/plans/reports/reports/report', null);

    // Assess
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('path.kind');
    expect(anonymous.status).toBe(401);
  });
});

describe('GET /v1/plans/{project}/charts/burndown.png', () => {
  it('draws the burndown now, and 404s for a kept one before any report kept it', async () => {
    // Act
    const drawn = await get('/v1/plans/reports/charts/burndown.png');
    const kept = await get('/v1/plans/reports/charts/burndown.png?kept=latest');

    // Assess
    expect(drawn.status).toBe(200);
    expect(drawn.type).toBe('image/png');
    const png = PNG.sync.read(drawn.bytes);
    expect([png.width, png.height]).toEqual([800, 400]);
    expect(kept.status).toBe(404);
  });
});

describe('convoy report', () => {
  it('prints a report and writes it with its chart beside it', async () => {
    // Prepare
    const dir = tempDir('convoy-report-');
    const target = ['--url', api.url, '--project', 'reports', '--token', api.admin];

    // Act
    const printed = await convoy('report', 'standup', ...target);
    const saved = await convoy('report', 'report', ...target, '--out', join(dir, 'daily.md'));
    const unknown = await convoy('report', 'retro', ...target);

    // Assess
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('Agent Alpha');
    // The terminal gets plain text: what people wrote as they wrote it, no Markdown escapes or markup.
    expect(printed.stdout).toContain('waiting for credentials_v2 > 1 day');
    expect(printed.stdout).not.toMatch(/\\|\*\*|^#/m);
    expect(saved.code).toBe(0);
    const markdown = await readFile(join(dir, 'daily.md'), 'utf8');
    expect(markdown).toContain('daily.png');
    const png = PNG.sync.read(await readFile(join(dir, 'daily.png')));
    expect(png.width).toBe(800);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown report retro');
  });
});
