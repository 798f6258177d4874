import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../../core/coordination/model.js';
import type { TokenRecord, TokenStore } from '../../core/ports.js';

/** A new API token: 32 random bytes, prefixed so a leaked one is easy to recognise and scan for. */
export function createToken(): string {
  return `cvy_${randomBytes(32).toString('base64url')}`;
}

/** Tokens are stored only as this hash; the token itself is shown once, when created. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

const cache = new Map<string, { record: TokenRecord | undefined; until: number }>();
const CACHE_MS = 30_000;

/**
 * The actor behind `Authorization: Bearer <token>`. Lookups are cached briefly per container so a
 * busy agent does not cost a read per request.
 */
export async function authenticate(
  authorization: string | undefined,
  tokens: TokenStore,
  now = Date.now(),
): Promise<{ actor: Actor; record: TokenRecord }> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new UnauthorizedError('missing credentials: send "Authorization: Bearer <token>"');
  const hash = hashToken(match[1] as string);
  let entry = cache.get(hash);
  if (!entry || entry.until < now) {
    entry = { record: await tokens.findToken(hash), until: now + CACHE_MS };
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, entry);
  }
  const record = entry.record;
  if (!record) throw new UnauthorizedError('the token is not valid');
  const actor: Actor =
    record.role === 'admin' ? { kind: 'admin' } : { kind: record.role, id: record.subject as string };
  return { actor, record };
}
