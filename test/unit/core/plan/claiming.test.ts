import { Ajv2020 } from 'ajv/dist/2020.js';
import { CORE_SCHEMA, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  formatPlanError,
  GLOB_PATTERN,
  globProblem,
  leaseDuration,
  parsePlan,
  planJsonSchema,
} from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN, planErrors, validPlan } from '../../../fixtures/plans.js';

/**
 * The plan format of issue #13: tasks without an agent, pools of agents who may claim them,
 * resources made of path globs, and how long an agent's claims live without a heartbeat.
 */

/** The minimal plan with task-1a's `agent: alpha` line replaced by `lines`. */
const task1a = (lines: string) => {
  const from = '        agent: alpha\n        estimate: 1d\n      - id: task-1b';
  if (!MINIMAL_PLAN.includes(from)) throw new Error('fixture changed');
  return MINIMAL_PLAN.replace(from, `${lines}        estimate: 1d\n      - id: task-1b`);
};

/** The minimal plan with agent alpha given extra `lines`. */
const alphaWith = (lines: string) =>
  MINIMAL_PLAN.replace('  - id: alpha\n    owner: pm\n', `  - id: alpha\n    owner: pm\n${lines}`);

const withResource = (paths: string) =>
  `${MINIMAL_PLAN}resources:\n  - id: db\n    owner: alpha\n    paths: ${paths}\n`;

/** The formatted errors of a plan that must be invalid. */
function errors(text: string): string[] {
  const result = parsePlan(text, { file: 'plan.yaml' });
  if (result.ok) throw new Error('expected the plan to be invalid, but it parsed');
  return result.errors.map(formatPlanError);
}

describe('the plan format for claims and leases', () => {
  it('reads a task with no agent, a task with a pool, a resource with paths and an agent lease', () => {
    // Prepare
    const text = `${alphaWith('    heartbeat: 10m\n    lease: 45m\n').replace(
      '        agent: beta\n        estimate: 2d',
      '        pool: [alpha, beta]\n        estimate: 2d',
    )}resources:\n  - id: db\n    owner: alpha\n    paths: ["db/migrations/**", "src/db/*.ts"]\n`;
    const open = task1a('');

    // Act
    const plan = validPlan(text);
    const openPlan = validPlan(open);

    // Assess
    expect(plan.agents[0]).toMatchObject({ id: 'alpha', heartbeat: '10m', lease: '45m' });
    expect(plan.phases[0]?.tasks[1]).toMatchObject({ id: 'task-1b', pool: ['alpha', 'beta'] });
    expect(plan.phases[0]?.tasks[1]).not.toHaveProperty('agent');
    expect(plan.resources[0]).toEqual({
      id: 'db',
      name: 'db',
      owner: 'alpha',
      paths: ['db/migrations/**', 'src/db/*.ts'],
    });
    expect(openPlan.phases[0]?.tasks[0]).not.toHaveProperty('agent');
    expect(openPlan.phases[0]?.tasks[0]).not.toHaveProperty('pool');
  });

  it('reads a task with both an agent and a pool: the agent by default, the pool may claim too', () => {
    // Act
    const plan = validPlan(task1a('        agent: alpha\n        pool: [beta]\n'));

    // Assess
    expect(plan.phases[0]?.tasks[0]).toMatchObject({ agent: 'alpha', pool: ['beta'] });
  });

  it('names an unknown pool agent with a did-you-mean, and a repeated one, at their line and column', () => {
    // Act
    const found = errors(task1a('        pool: [alpha, betta, alpha]\n'));

    // Assess
    expect(found).toEqual([
      'plan.yaml:17:23: phases[0].tasks[0].pool[1]: unknown agent "betta" (did you mean "beta"?)',
      'plan.yaml:17:30: phases[0].tasks[0].pool[2]: agent "alpha" is listed twice',
    ]);
  });

  it.each([
    [
      'an empty pool',
      task1a('        pool: []\n'),
      'plan.yaml:17:15: phases[0].tasks[0].pool: needs at least one agent (leave pool out to let any agent of the plan claim the task)',
    ],
    [
      'a pool that is not a list',
      task1a('        pool: alpha\n'),
      'plan.yaml:17:15: phases[0].tasks[0].pool: expected a list, got string "alpha"',
    ],
    [
      'a lease over 24h',
      alphaWith('    lease: 25h\n'),
      'plan.yaml:11:12: agents[0].lease: lease "25h" is too long: at most 24h',
    ],
    [
      'a zero lease',
      alphaWith('    lease: 0m\n'),
      'plan.yaml:11:12: agents[0].lease: must be more than zero',
    ],
    [
      'a lease that is no duration',
      alphaWith('    lease: soon\n'),
      'plan.yaml:11:12: agents[0].lease: invalid duration "soon" (expected a number and a unit m, h, d or w, e.g. 30m, 2h, 1.5d, 2w)',
    ],
    [
      'an absolute path',
      withResource('["/etc/passwd"]'),
      'plan.yaml:31:13: resources[0].paths[0]: invalid path glob "/etc/passwd": must be relative to the repository root (no leading "/")',
    ],
    [
      'a path leaving the repository',
      withResource('["db/../../secrets"]'),
      'plan.yaml:31:13: resources[0].paths[0]: invalid path glob "db/../../secrets": must not contain a ".." segment',
    ],
    [
      'a ** inside a segment',
      withResource('["src/**.ts"]'),
      'plan.yaml:31:13: resources[0].paths[0]: invalid path glob "src/**.ts": "**" must be a whole segment, as in src/**/*.ts',
    ],
    [
      'a character outside the glob set',
      withResource('["src/{a,b}.ts"]'),
      'plan.yaml:31:13: resources[0].paths[0]: invalid path glob "src/{a,b}.ts": character "{" is not allowed (use letters, digits, . _ - + @, / between segments, and the wildcards * ? **)',
    ],
    [
      'an empty path',
      withResource('[""]'),
      'plan.yaml:31:13: resources[0].paths[0]: invalid path glob "": must not be empty',
    ],
    [
      'a path of 201 characters',
      withResource(`["${'a'.repeat(201)}"]`),
      `plan.yaml:31:13: resources[0].paths[0]: too long: 201 characters, at most 200 ("${'a'.repeat(37)}"...)`,
    ],
    [
      '21 paths',
      withResource(`[${Array.from({ length: 21 }, (_, i) => `p${i}`).join(', ')}]`),
      'plan.yaml:31:12: resources[0].paths: too many paths: 21, at most 20',
    ],
  ])('rejects %s with a message at its line', (_what, text, message) => {
    expect(errors(text)).toEqual([message]);
  });

  it('rejects a pool of 51 agents of the plan, at the pool', () => {
    // Prepare
    const ids = Array.from({ length: 51 }, (_, i) => `a${i}`);
    const text = task1a(`        pool: [${ids.join(', ')}]\n`).replace(
      'agents:\n',
      `agents:\n${ids.map((id) => `  - { id: ${id}, owner: pm }\n`).join('')}`,
    );

    // Act
    const found = planErrors(text);

    // Assess
    expect(found).toEqual(['phases[0].tasks[0].pool: too many agents: 51, at most 50']);
  });

  it('accepts exactly 50 pool agents, 20 paths of 200 characters and a 24h lease', () => {
    // Prepare
    const agents = Array.from({ length: 50 }, (_, i) => `  - { id: a${i}, owner: pm }\n`).join('');
    const pool = `        pool: [${Array.from({ length: 50 }, (_, i) => `a${i}`).join(', ')}]\n`;
    const paths = `[${Array.from({ length: 20 }, (_, i) => `"${String(i).padEnd(200, 'x')}"`).join(', ')}]`;
    const text = withResource(paths)
      .replace('agents:\n', `agents:\n${agents}`)
      .replace(
        '        agent: alpha\n        estimate: 1d\n      - id: task-1b',
        `${pool}        estimate: 1d\n      - id: task-1b`,
      )
      .replace('  - id: alpha\n    owner: pm\n', '  - id: alpha\n    owner: pm\n    lease: 24h\n');

    // Act
    const plan = validPlan(text);

    // Assess
    expect(plan.phases[0]?.tasks[0]?.pool).toHaveLength(50);
    expect(plan.resources[0]?.paths).toHaveLength(20);
  });
});

describe('path globs', () => {
  const good = [
    'db/migrations/**',
    '**',
    'src/api/*.ts',
    'a/**/b',
    '@types/node/*.d.ts',
    'v?.md',
    '..a',
    'a..b',
  ];
  const bad = [
    '',
    '/x',
    'a/../b',
    '..',
    './a',
    'a/.',
    'a//b',
    'a/',
    'src/**.ts',
    '***',
    'a b',
    'a\\b',
    'x{y}',
  ];

  it('GLOB_PATTERN (the JSON Schema pattern) and globProblem (the messages) agree', () => {
    for (const glob of good)
      expect({ glob, ok: GLOB_PATTERN.test(glob), why: globProblem(glob) }).toEqual({
        glob,
        ok: true,
        why: undefined,
      });
    for (const glob of bad) {
      expect({ glob, ok: GLOB_PATTERN.test(glob) }).toEqual({ glob, ok: false });
      expect(globProblem(glob), glob).toEqual(expect.any(String));
    }
  });
});

describe('leaseDuration', () => {
  it('is the agent lease, else twice its heartbeat, else 30 minutes, in milliseconds', () => {
    expect(leaseDuration({ lease: '45m', heartbeat: '10m' })).toBe(45 * 60_000);
    expect(leaseDuration({ heartbeat: '10m' })).toBe(20 * 60_000);
    expect(leaseDuration({ heartbeat: '1.5h' })).toBe(3 * 3_600_000);
    expect(leaseDuration({})).toBe(30 * 60_000);
    expect(leaseDuration({ lease: '1d' })).toBe(24 * 3_600_000);
  });

  it('reads the agents of a parsed plan', () => {
    // Prepare
    const plan = validPlan(alphaWith('    heartbeat: 5m\n'));

    // Act
    const durations = plan.agents.map(leaseDuration);

    // Assess: alpha heartbeats every 5m, beta names neither.
    expect(durations).toEqual([10 * 60_000, 30 * 60_000]);
  });
});

describe('the JSON Schema of the new fields', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(planJsonSchema());
  const read = (text: string) => load(text, { schema: CORE_SCHEMA });

  it('accepts a task without an agent, a pool, paths and a lease', () => {
    // Prepare
    const text = `${alphaWith('    lease: 1h\n')
      .replace('        agent: beta\n', '        pool: [alpha, beta]\n')
      .replace(
        '        agent: alpha\n        estimate: 1d\n      - id: task-2a',
        '        estimate: 1d\n      - id: task-2a',
      )}resources:\n  - id: db\n    owner: alpha\n    paths: ["db/**"]\n`;

    // Act
    const accepted = validate(read(text));

    // Assess
    expect(parsePlan(text).ok).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
    expect(accepted).toBe(true);
  });

  it.each([
    ['an absolute path', withResource('["/etc"]'), 'pattern'],
    ['a ".." segment', withResource('["a/../b"]'), 'pattern'],
    ['21 paths', withResource(`[${Array.from({ length: 21 }, (_, i) => `p${i}`).join(', ')}]`), 'maxItems'],
    ['an empty pool', task1a('        pool: []\n'), 'minItems'],
    ['a malformed lease', alphaWith('    lease: 1 hour\n'), 'pattern'],
  ])('rejects %s, as the validator does', (_what, text, keyword) => {
    // Act
    const accepted = validate(read(text));

    // Assess
    expect(parsePlan(text).ok).toBe(false);
    expect(accepted).toBe(false);
    expect(validate.errors?.map((error) => error.keyword)).toContain(keyword);
  });
});
