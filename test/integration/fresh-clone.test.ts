import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A newcomer clones the repository into a folder with nothing beside it (no shared folder, no .convoy,
 * no dist) and runs the README's commands. The clone is of the last commit, as CI's is; it borrows
 * this checkout's node_modules rather than running `npm ci` again (CI's own run does that).
 */
describe('a fresh clone with nothing beside it', () => {
  let parent: string;
  let clone: string;
  // This node first on PATH, so npx and the scripts in the clone run on the same Node.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, CI: 'true' };
  const inClone = (command: string, args: string[]) =>
    run(command, args, { cwd: clone, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'convoy-fresh-'));
    clone = join(parent, 'convoy');
    await run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone]);
    await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  }, 120_000);

  afterAll(async () => {
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it('has nothing beside it', async () => {
    expect(await readdir(parent)).toEqual(['convoy']);
    expect(existsSync(join(clone, '.convoy'))).toBe(false);
  });

  it('passes the lint and the type check', async () => {
    // Act
    const lint = await inClone('npm', ['run', 'lint', '--silent']);

    // Assess: a failure rejects with the command's output
    expect(lint.stderr).not.toMatch(/error/i);
  }, 300_000);

  it('runs an integration test that needs the vendored JIRA contract and DynamoDB Local', async () => {
    // Act
    const result = await inClone('npx', ['vitest', 'run', 'test/integration/jira.test.ts', '--reporter=dot']);

    // Assess
    expect(stripVTControlCharacters(`${result.stdout}${result.stderr}`)).toMatch(
      /Test Files\s+1 passed \(1\)/,
    );
  }, 300_000);
});
