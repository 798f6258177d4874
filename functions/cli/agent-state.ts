import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What `convoy agent` remembers between runs, on this machine only: the lease of each task it claimed
 * (so later writes on the task send it), and who a token acts as (so each command does not ask).
 *
 * One small file per entry under `$XDG_STATE_HOME/convoy/` (default `~/.local/state/convoy/`), written
 * whole and renamed into place: several agents on one machine, each running `convoy agent`, never lose
 * each other's entries the way a shared file rewritten by two processes at once would. The directory is
 * 0700 and the files 0600: a lease id fences writes on a task, so only its holder should read it.
 */
export interface RememberedLease {
  readonly url: string;
  readonly project: string;
  readonly agent: string;
  readonly task: string;
  readonly lease: string;
  readonly expiresAt?: string;
}

/** Who a token acts as, as the server's whoami said: never the token itself, only its public id. */
export interface RememberedIdentity {
  readonly kind: 'agent' | 'person' | 'admin';
  readonly id?: string;
  readonly project: string;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME?.trim() ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'convoy');
}

const fileName = (...parts: readonly string[]) =>
  `${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}.json`;

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    // missing, or unreadable: as if nothing were remembered
    return undefined;
  }
}

async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, join(dir, name));
}

export class AgentState {
  constructor(readonly dir: string = stateDir()) {}

  private get leases() {
    return join(this.dir, 'leases');
  }

  async lease(url: string, project: string, task: string): Promise<RememberedLease | undefined> {
    return readJson(join(this.leases, fileName(url, project, task)));
  }

  async remember(entry: RememberedLease): Promise<void> {
    await writeJson(this.leases, fileName(entry.url, entry.project, entry.task), entry);
  }

  async forget(url: string, project: string, task: string): Promise<void> {
    await rm(join(this.leases, fileName(url, project, task)), { force: true });
  }

  /** The leases remembered for this agent of this project on this server. */
  async leasesOf(url: string, project: string, agent: string): Promise<RememberedLease[]> {
    let names: string[];
    try {
      names = (await readdir(this.leases)).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
    } catch {
      return [];
    }
    const entries = await Promise.all(
      names.map((name) => readJson<RememberedLease>(join(this.leases, name))),
    );
    return entries
      .filter((entry): entry is RememberedLease => entry !== undefined)
      .filter((entry) => entry.url === url && entry.project === project && entry.agent === agent)
      .sort((a, b) => a.task.localeCompare(b.task));
  }

  async identity(url: string, tokenId: string): Promise<RememberedIdentity | undefined> {
    return readJson(join(this.dir, 'whoami', fileName(url, tokenId)));
  }

  async rememberIdentity(url: string, tokenId: string, identity: RememberedIdentity): Promise<void> {
    await writeJson(join(this.dir, 'whoami'), fileName(url, tokenId), identity);
  }
}
