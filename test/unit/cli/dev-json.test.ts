import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../functions/cli/client.js';

const dirs: string[] = [];
function stateDir(devJson: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-dev-json-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'dev.json'), JSON.stringify(devJson));
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the running convoy dev in .convoy/dev.json', () => {
  it('is taken while its process runs', async () => {
    // Prepare
    const dir = stateDir({ url: 'http://127.0.0.1:3999', project: 'demo', pid: process.pid });

    // Act
    const target = await resolveTarget({}, dir);

    // Assess
    expect(target).toMatchObject({ url: 'http://127.0.0.1:3999', project: 'demo' });
  });

  it('is not taken when its process is gone (a convoy dev killed with -9), and the error says so', async () => {
    // Prepare: the pid of a process that has exited.
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const pid = Number(exited.stdout);
    const dir = stateDir({ url: 'http://127.0.0.1:3999', project: 'demo', pid });

    // Act
    const resolving = resolveTarget({}, dir);

    // Assess
    await expect(resolving).rejects.toThrow(
      `no --url given, and the convoy dev that .convoy/dev.json names (pid ${pid}) is not running; start one with \`convoy dev\` or pass --url`,
    );
  });
});
