import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '../../local/processes.js';
import type { Command } from '../command.js';
import { EXIT, styler, UsageError } from '../io.js';

/**
 * The dashboard's address, signed in: the admin token (and the project) in the URL fragment, which a
 * browser never sends to a server; the app moves it into sessionStorage and out of the address bar.
 */
export function dashboardUrl(base: string, token: string, project?: string): string {
  const fragment = new URLSearchParams({ token, ...(project ? { project } : {}) });
  return `${base.replace(/\/+$/, '')}/#${fragment}`;
}

/** The command that opens a URL in the desktop's browser, per platform. */
export function openCommand(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd built-in; its first quoted argument is the window title.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')] };
  return { command: 'xdg-open', args: [url] };
}

/** Opens `url` in a browser if the desktop can; says nothing when it cannot (no display, no opener). */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const { command, args } = openCommand(platform, url);
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the URL is printed anyway
  }
}

/**
 * The signed-in dashboard URL of the convoy dev that `stateDir/dev.json` names; an Error saying what
 * to do when none runs or its admin token cannot be read.
 */
export async function localDashboardUrl(stateDir = '.convoy'): Promise<string> {
  let dev: { url?: string; project?: string; tokensFile?: string; pid?: number };
  try {
    dev = JSON.parse(await readFile(join(stateDir, 'dev.json'), 'utf8'));
  } catch {
    throw new Error(
      `no running convoy dev found in ${join(stateDir, 'dev.json')}; start one with \`npm start\` or \`convoy dev\``,
    );
  }
  if (!dev.url || (typeof dev.pid === 'number' && !isAlive(dev.pid)))
    throw new Error(
      `the convoy dev that ${join(stateDir, 'dev.json')} names${dev.pid ? ` (pid ${dev.pid})` : ''} is not running; start it with \`npm start\` or \`convoy dev\``,
    );
  let admin: string | undefined;
  try {
    admin = (JSON.parse(await readFile(dev.tokensFile ?? '', 'utf8')) as { admin?: string }).admin;
  } catch {
    admin = undefined;
  }
  if (!admin)
    throw new Error(
      `cannot read the admin token from ${dev.tokensFile ?? 'tokens.json'}; open ${dev.url}/ and paste a token`,
    );
  return dashboardUrl(dev.url, admin, dev.project);
}

export const dashboardCommand: Command = {
  name: 'dashboard',
  usage: 'convoy dashboard [--no-open]',
  details: [
    'Prints the dashboard URL of the convoy dev that .convoy/dev.json names, with its admin token in the',
    'URL fragment (#token=…), and opens it in the browser (xdg-open, open or start). The fragment is never',
    'sent to the server; the dashboard keeps the token in the tab’s sessionStorage and removes it from the',
    'address bar at once. Anyone else signs in by pasting a person or admin token.',
  ],
  options: {
    'no-open': { type: 'boolean', description: 'print the URL without opening a browser' },
  },
  async run({ positionals, values }, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    let url: string;
    try {
      url = await localDashboardUrl();
    } catch (error) {
      io.stderr(`${styler(io.color)('red', 'error:')} ${(error as Error).message}\n`);
      return EXIT.failed;
    }
    io.stdout(`${url}\n`);
    if (!values['no-open']) openInBrowser(url);
    return EXIT.ok;
  },
};
