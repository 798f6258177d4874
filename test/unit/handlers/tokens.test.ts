import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredPlan } from '../../../functions/core/coordination/model.js';
import type { StoredToken, TokenStore } from '../../../functions/core/ports.js';
import { readConfig } from '../../../functions/handlers/config.js';
import {
  type AuthPorts,
  authenticate,
  CACHE_MS,
  mintToken,
  revokeToken,
  UnauthorizedError,
} from '../../../functions/handlers/http/auth.js';
import { ensureTokenKeyFile, tokenKeyFrom } from '../../../functions/handlers/token-key.js';

/** The token table of one deployment, shared by every container (each `ports` below). */
class MemoryTokens implements TokenStore {
  readonly items = new Map<string, StoredToken>();
  async saveToken(token: StoredToken) {
    this.items.set(token.id, token);
  }
  async findToken(id: string) {
    return this.items.get(id);
  }
  async listTokens() {
    return [...this.items.values()];
  }
  async deleteToken(id: string) {
    return this.items.delete(id);
  }
}

const plan = { plan: { agents: [{ id: 'alpha' }], people: [{ id: 'pm' }] } } as unknown as StoredPlan;

function ports(tokens: TokenStore, key: Uint8Array): AuthPorts {
  return { tokens, tokenKey: async () => key, store: { currentPlan: async () => plan } };
}

const bearer = (token: string) => `Bearer ${token}`;

describe('token revocation and the token cache', () => {
  it('refuses a revoked token at once where it was revoked, and elsewhere once the cache time has passed', async () => {
    // Prepare
    const tokens = new MemoryTokens();
    const deps = ports(tokens, randomBytes(32));
    const now = Date.now();
    const here = await mintToken(
      deps,
      { role: 'agent', project: 'p', subject: 'alpha' },
      '2026-01-05T00:00:00Z',
    );
    const elsewhere = await mintToken(
      deps,
      { role: 'person', project: 'p', subject: 'pm' },
      '2026-01-05T00:00:00Z',
    );
    await authenticate(bearer(here.token), deps, now);
    await authenticate(bearer(elsewhere.token), deps, now);

    // Act: one is revoked through this container, the other's item deleted by another container
    await revokeToken(deps, here.record.id);
    await tokens.deleteToken(elsewhere.record.id);

    // Assess
    await expect(authenticate(bearer(here.token), deps, now + 1)).rejects.toThrow(UnauthorizedError);
    await expect(authenticate(bearer(elsewhere.token), deps, now + 1)).resolves.toMatchObject({
      actor: { kind: 'person', id: 'pm' },
    });
    await expect(authenticate(bearer(elsewhere.token), deps, now + CACHE_MS + 1)).rejects.toThrow(
      'the token is not valid',
    );
  });

  it('refuses tokens sealed under another key: a new key invalidates every token', async () => {
    // Prepare
    const tokens = new MemoryTokens();
    const { token } = await mintToken(
      ports(tokens, randomBytes(32)),
      { role: 'admin' },
      '2026-01-05T00:00:00Z',
    );

    // Act
    const result = authenticate(bearer(token), ports(tokens, randomBytes(32)));

    // Assess
    await expect(result).rejects.toThrow(UnauthorizedError);
  });
});

describe('forged token records', () => {
  it('refuses records whose digests are not hex strings, whatever they hold, without failing', async () => {
    // Prepare
    const tokens = new MemoryTokens();
    const deps = ports(tokens, randomBytes(32));
    const { token, record } = await mintToken(deps, { role: 'admin' }, '2026-01-05T00:00:00Z');
    const real = (await tokens.findToken(record.id)) as StoredToken;
    const forgeries = [
      { ...real, verifier: `é${real.verifier.slice(1)}` },
      { ...real, verifier: 42 as unknown as string },
      { ...real, seal: `${real.seal.slice(0, -1)}é` },
      { ...real, seal: undefined as unknown as string },
    ];

    // Act and assess
    for (const [index, forged] of forgeries.entries()) {
      await tokens.saveToken(forged);
      await expect(
        authenticate(bearer(token), deps, Date.now() + (index + 1) * 2 * CACHE_MS),
      ).rejects.toThrow(UnauthorizedError);
    }
  });
});

describe('the token key', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('is created on first start readable by its owner only, kept across starts, and closed again if opened up', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'convoy-key-'));
    const file = join(dir, 'data', 'token-key');

    // Act
    const first = await ensureTokenKeyFile(file);
    await chmod(file, 0o644);
    const second = await ensureTokenKeyFile(file);
    const fromConfig = await tokenKeyFrom(
      readConfig({ CONVOY_TABLE_NAME: 't', CONVOY_TOKEN_KEY_FILE: file }),
    )();

    // Assess
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(Buffer.from(second)).toEqual(Buffer.from(first));
    expect(Buffer.from(fromConfig)).toEqual(Buffer.from(first));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file that is too short, naming the file and never its content', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'convoy-key-'));
    const file = join(dir, 'token-key');
    await writeFile(file, 'short-secret\n');

    // Act
    const result = ensureTokenKeyFile(file);

    // Assess
    await expect(result).rejects.toThrow(`${file}: the token key must be at least 32 characters`);
    await expect(ensureTokenKeyFile(file)).rejects.not.toThrow('short-secret');
    expect(await readFile(file, 'utf8')).toBe('short-secret\n');
  });

  it('says which settings name the key when none does', async () => {
    await expect(tokenKeyFrom(readConfig({ CONVOY_TABLE_NAME: 't' }))()).rejects.toThrow(
      'no token key is configured: set CONVOY_TOKEN_KEY_ARN (deployed) or CONVOY_TOKEN_KEY_FILE',
    );
  });
});
