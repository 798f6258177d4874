import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardUrl, localDashboardUrl, openCommand } from '../../../functions/cli/commands/dashboard.js';

const dirs: string[] = [];
function stateDir(devJson: Record<string, unknown> | null, tokens?: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-dashboard-'));
  dirs.push(dir);
  if (tokens) writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens));
  if (devJson)
    writeFileSync(
      join(dir, 'dev.json'),
      JSON.stringify({ tokensFile: join(dir, 'tokens.json'), ...devJson }),
    );
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('convoy dashboard', () => {
  it('puts the admin token and the project in the fragment, which browsers never send', () => {
    expect(dashboardUrl('http://127.0.0.1:3000/', 'cvy_00ff_a+b/c=', 'sprint 20')).toBe(
      'http://127.0.0.1:3000/#token=cvy_00ff_a%2Bb%2Fc%3D&project=sprint+20',
    );
    expect(new URL(dashboardUrl('http://127.0.0.1:3000', 't')).pathname).toBe('/');
  });

  it('opens the URL of the running convoy dev with its admin token', async () => {
    const dir = stateDir(
      { url: 'http://127.0.0.1:3999', project: 'demo', pid: process.pid },
      { admin: 'cvy_0123456789abcdef_secret', agents: {}, people: {} },
    );
    expect(await localDashboardUrl(dir)).toBe(
      'http://127.0.0.1:3999/#token=cvy_0123456789abcdef_secret&project=demo',
    );
  });

  it('says to start convoy dev when none runs, or the one recorded has stopped', async () => {
    await expect(localDashboardUrl(stateDir(null))).rejects.toThrow(
      /no running convoy dev found .*npm start/,
    );
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const gone = stateDir({ url: 'http://127.0.0.1:3999', pid: Number(exited.stdout) }, { admin: 't' });
    await expect(localDashboardUrl(gone)).rejects.toThrow(`(pid ${exited.stdout}) is not running`);
    const noToken = stateDir({ url: 'http://127.0.0.1:3999', pid: process.pid });
    await expect(localDashboardUrl(noToken)).rejects.toThrow('cannot read the admin token');
  });

  it('opens with the platform’s opener', () => {
    expect(openCommand('linux', 'http://x/#a')).toEqual({ command: 'xdg-open', args: ['http://x/#a'] });
    expect(openCommand('darwin', 'http://x/#a')).toEqual({ command: 'open', args: ['http://x/#a'] });
    expect(openCommand('win32', 'http://x/#token=a&project=b')).toEqual({
      command: 'cmd',
      args: ['/c', 'start', '""', 'http://x/#token=a^&project=b'],
    });
  });
});
