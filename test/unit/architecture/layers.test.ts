import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp.js';

/**
 * The layer rules `npm run lint` enforces (.dependency-cruiser.cjs, docs/architecture.md "Layers"),
 * run by the same CLI and config as lint: on a throwaway tree holding one deliberate breach of each
 * rule, never on the real tree, and then on the real tree, which passes.
 */

const root = resolve(import.meta.dirname, '../../..');
const config = join(root, '.dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
  readonly cycle?: readonly { readonly name: string }[];
}

async function cruise(cwd: string): Promise<Violation[]> {
  // Exit code 1 when there are violations: the JSON report is on stdout either way.
  const result = await promisify(execFile)(
    process.execPath,
    [depcruise, 'functions', 'lib', 'bin', '--config', config, '--output-type', 'json'],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    if (!error.stdout) throw new Error(`depcruise failed: ${error.stderr}`);
    return { stdout: error.stdout };
  });
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** The (from, to, rule) of each violation, cycles as the modules they go through. */
function describeViolations(violations: readonly Violation[]): string[] {
  return violations
    .map(({ from, to, rule, cycle }) =>
      cycle
        ? `${rule.name}: ${[from, ...cycle.map((step) => step.name)].join(' → ')}`
        : `${rule.name}: ${from} → ${to}`,
    )
    .sort();
}

const commands = 'functions/core/coordination/commands.ts';
const hooks = 'functions/core/escalations/hooks.ts';

/** Whether the config still excuses a cycle of just these modules (its list of cycles being removed). */
function isExcused(...modules: string[]): boolean {
  const { forbidden } = createRequire(import.meta.url)(config) as {
    forbidden: { name: string; to: { via?: { pathNot?: string } } }[];
  };
  return forbidden.some((rule) => {
    const group = rule.to.via?.pathNot;
    return (
      rule.name === 'no-cycle' &&
      group !== undefined &&
      modules.every((module) => new RegExp(group).test(module))
    );
  });
}

describe('the layers npm run lint enforces', () => {
  let violations: string[];

  beforeAll(async () => {
    const dir = tempDir('convoy-layers-');
    const files: Record<string, string> = {
      'package.json': JSON.stringify({ type: 'module' }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true },
      }),
      // Allowed: core → core, core → its parsing libraries, adapter → core, handler → adapter.
      'functions/core/ports.ts': 'export interface Clock { now(): Date }\n',
      'functions/core/plan.ts':
        "import { z } from 'zod';\nimport { parse } from 'yaml';\nimport type { Clock } from './ports.js';\n" +
        'export const plan = (text: string, clock: Clock) => z.string().parse(parse(text)) + clock.now();\n',
      'functions/adapters/dynamodb/store.ts':
        "import type { Clock } from '../../core/ports.js';\nexport const clock: Clock = { now: () => new Date() };\n",
      'functions/handlers/api.ts':
        "import { clock } from '../adapters/dynamodb/store.js';\nexport const handler = () => clock.now();\n",
      // Breaches, one per rule.
      'functions/core/uses-adapter.ts':
        "import { clock } from '../adapters/dynamodb/store.js';\nexport const now = () => clock.now();\n",
      'functions/core/uses-aws.ts':
        "import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport type Client = DynamoDBClient;\n",
      'functions/core/reads-files.ts':
        "import { readFileSync } from 'node:fs';\nexport const read = (path: string) => readFileSync(path, 'utf8');\n",
      'functions/core/hashes.ts':
        "import { createHash } from 'crypto';\nexport const hash = (text: string) => createHash('sha1').update(text).digest('hex');\n",
      'functions/adapters/slack/poster.ts':
        "import { handler } from '../../handlers/api.js';\nexport const post = () => handler();\n",
      // A cycle of type-only imports: it counts too.
      'lib/stack.ts':
        "import type { Props } from './props.js';\nexport interface Stack { readonly props: Props }\n",
      'lib/props.ts':
        "import type { Stack } from './stack.js';\nexport interface Props { readonly parent?: Stack }\n",
      // commands.ts ↔ hooks.ts is one of the cycles being removed (excused while the config lists
      // it); hooks.ts ↔ rules.ts leaves that pair, so it is reported.
      'functions/core/coordination/commands.ts':
        "import { hook } from '../escalations/hooks.js';\nexport const command = () => hook;\n",
      'functions/core/escalations/hooks.ts':
        "import { command } from '../coordination/commands.js';\nimport { rule } from './rules.js';\n" +
        'export const hook = () => [command, rule];\n',
      'functions/core/escalations/rules.ts':
        "import { hook } from './hooks.js';\nexport const rule = () => hook;\n",
      'bin/app.ts': "import { handler } from '../functions/handlers/api.js';\nhandler();\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    violations = describeViolations(await cruise(dir));
  });

  it('keeps the core to itself and its parsing libraries', () => {
    expect(violations).toContain(
      'core-imports-only-core: functions/core/uses-adapter.ts → functions/adapters/dynamodb/store.ts',
    );
    expect(violations).toContainEqual(
      expect.stringMatching(
        /^core-imports-only-core: functions\/core\/uses-aws\.ts → .*node_modules\/@aws-sdk\//,
      ),
    );
    expect(violations.filter((line) => line.includes('functions/core/plan.ts'))).toEqual([]);
  });

  it('keeps Node out of the core, with or without the node: prefix', () => {
    // dependency-cruiser names a builtin without its prefix: `node:fs` is reported as `fs`.
    expect(violations).toContain('core-without-node: functions/core/reads-files.ts → fs');
    expect(violations).toContain('core-without-node: functions/core/hashes.ts → crypto');
  });

  it('keeps adapters from importing handlers', () => {
    expect(violations).toContain(
      'adapters-not-handlers: functions/adapters/slack/poster.ts → functions/handlers/api.ts',
    );
  });

  it('finds import cycles, type-only ones included, and excuses only the listed ones', () => {
    // A cycle is reported once, from one of its modules.
    const cycles = violations.filter((line) => line.startsWith('no-cycle: '));
    expect(cycles).toContainEqual(
      expect.stringMatching(/^no-cycle: lib\/(props|stack)\.ts → lib\/(props|stack)\.ts → /),
    );
    expect(cycles).toContainEqual(
      expect.stringMatching(/^no-cycle: .*functions\/core\/escalations\/rules\.ts/),
    );
    const excusedPair = cycles.filter((line) => line.includes(commands) && !line.includes('rules.ts'));
    expect(excusedPair.length > 0).toBe(!isExcused(commands, hooks));
  });

  it('reports nothing for the allowed imports', () => {
    // core → core and its parsers, adapter → core, handler → adapter, bin → handler.
    const allowed = [
      'functions/core/plan.ts',
      'functions/adapters/dynamodb/store.ts',
      'functions/handlers/api.ts',
      'bin/app.ts',
    ];
    expect(violations.filter((line) => allowed.some((path) => line.includes(`: ${path} → `)))).toEqual([]);
    expect(violations.filter((line) => line.startsWith('resolvable'))).toEqual([]);
  });

  it('passes on the real tree', async () => {
    expect(describeViolations(await cruise(root))).toEqual([]);
  });
});
