import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../functions/cli/index.js';
import { MINIMAL_PLAN } from '../../fixtures/plans.js';
import { convoy } from '../../support/cli.js';
import { tempDir } from '../../support/temp.js';

let dir: string;
let good: string;
let bad: string;

beforeAll(() => {
  dir = tempDir('convoy-cli-');
  good = join(dir, 'good.yaml');
  bad = join(dir, 'bad.yaml');
  writeFileSync(good, MINIMAL_PLAN);
  writeFileSync(bad, MINIMAL_PLAN.replace('    owner: pm\n  - id: beta', '    owner: pmm\n  - id: beta'));
});

describe('convoy validate', () => {
  it('exits 0 and confirms each file when all plans are valid', async () => {
    // Act
    const result = await convoy('validate', good, 'examples/proto-refactor.yaml');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✓ ${good}: valid (2 phases, 3 tasks, 2 agents)`);
    expect(result.stdout).toContain('✓ examples/proto-refactor.yaml: valid');
  });

  it('exits 1 and prints FILE:LINE:COL: path: message when any plan is invalid', async () => {
    // Act
    const result = await convoy('validate', good, bad);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${bad}:10:12: agents[0].owner: unknown person "pmm" (did you mean "pm"?)`,
    );
    expect(result.stderr).toContain(`✗ ${bad}: 1 problem`);
  });

  it('exits 2 with a hint when called without files, with an unknown option or on a missing file', async () => {
    // Act
    const none = await convoy('validate');
    const option = await convoy('validate', '--strict', good);
    const missing = await convoy('validate', join(dir, 'nope.yaml'));

    // Assess
    expect(none).toMatchObject({ code: 2, stderr: expect.stringContaining('name at least one plan file') });
    expect(option).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--strict'") });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read ${join(dir, 'nope.yaml')}: no such file`);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('convoy plan', () => {
  it('prints phases with dates, waves, the critical path and warnings', async () => {
    // Act
    const result = await convoy('plan', good);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2026-01-05 → 2026-01-07 · 3d working · America/New_York');
    expect(result.stdout).toMatch(/phase-1\s+2026-01-05 → 2026-01-06\s+2 tasks/);
    expect(result.stdout).toMatch(/Waves \(2\)\n\s+0\s+2 ·\s+task-1a, task-1b\n\s+1\s+1 ·\s+task-2a/);
    expect(result.stdout).toMatch(
      /Critical path \(3d\)\n\s+task-1b\s+beta\s+2026-01-05 → 2026-01-06\s+2d\n\s+task-2a/,
    );
    expect(result.stdout).toContain('Warnings (0)\n  none');
  });

  it('prints the JSON of docs/plan-format.md with --json', async () => {
    // Act
    const result = await convoy('plan', good, '--json');

    // Assess
    const analysis = JSON.parse(result.stdout);
    expect(analysis).toMatchObject({
      project: 'demo',
      durationDays: 3,
      start: '2026-01-05',
      finish: '2026-01-07',
      criticalPath: ['task-1b', 'task-2a'],
      waves: [['task-1a', 'task-1b'], ['task-2a']],
      maxParallel: 2,
      warnings: [],
    });
    expect(analysis.tasks['task-1a']).toMatchObject({
      start: '2026-01-05',
      finish: '2026-01-05',
      earliestStart: 0,
      earliestFinish: 1,
      slackDays: 1,
    });
  });

  it('exits 1 with the validation errors for an invalid plan, and suggests --json for --jsn', async () => {
    // Act
    const invalid = await convoy('plan', bad);
    const typo = await convoy('plan', good, '--jsn');

    // Assess
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('agents[0].owner: unknown person "pmm"');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(did you mean "--json"?)');
  });
});

describe('convoy', () => {
  it('shows help for the CLI and for every command', async () => {
    // Act
    const top = await convoy('--help');
    const commands = await Promise.all(['validate', 'plan', 'schema'].map((name) => convoy(name, '--help')));

    // Assess
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/validate\s+Check plan files/);
    for (const help of commands) {
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: convoy \w+/);
      expect(help.stdout).toContain('-h, --help');
    }
  });

  it('gives each command listed its own help, from the module it loads on demand', async () => {
    // Act
    const helps = await Promise.all(COMMANDS.map((entry) => convoy(entry.name, '--help')));
    const topics = await Promise.all(COMMANDS.map((entry) => convoy('help', entry.name)));

    // Assess
    COMMANDS.forEach((entry, i) => {
      expect(helps[i]?.code).toBe(0);
      expect(helps[i]?.stdout).toMatch(new RegExp(`^Usage: convoy ${entry.name}\\b`));
      expect(helps[i]?.stdout).toContain(`\n\n${entry.summary}\n`);
      expect(topics[i]?.stdout).toBe(helps[i]?.stdout);
    });
  });

  it('suggests the closest command for a typo and exits 2', async () => {
    // Act
    const result = await convoy('valdate', good);

    // Assess
    expect(result).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "valdate" (did you mean "validate"?)'),
    });
  });
});
