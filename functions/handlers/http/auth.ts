import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../../core/coordination/model.js';
import type { Plan } from '../../core/plan/index.js';
import type {
  CoordinationStore,
  StoredToken,
  TokenAudit,
  TokenRecord,
  TokenStore,
} from '../../core/ports.js';
import { UnauthorizedError } from './errors.js';

/**
 * The key API tokens are sealed with: HMAC-SHA256 keys only the Convoy process holds (a file beside
 * tokens.json locally, a Secrets Manager secret deployed; functions/handlers/token-key.ts). Whoever can
 * write to the table but does not hold it can neither mint a token nor change one's role or subject.
 */
export type TokenKey = () => Promise<Uint8Array>;

/** What minting, checking and revoking tokens need. */
export interface TokenPorts {
  readonly tokens: TokenStore;
  /** @default - none: every use of a token fails with a configuration error */
  readonly tokenKey?: TokenKey;
}

/** What authenticating a request needs: the token, and the plan its agent or person must still be in. */
export interface AuthPorts extends TokenPorts {
  readonly store: Pick<CoordinationStore, 'currentPlan'>;
}

export type TokenClaims = Pick<TokenRecord, 'role' | 'project' | 'subject'>;

/** `cvy_<id>_<secret>`: the prefix makes a leaked token easy to scan for, the id names it in lists. */
const TOKEN_FORMAT = /^cvy_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

/** A token's public id: 16 hex digits. */
export const TOKEN_ID_FORMAT = /^[0-9a-f]{16}$/;

export { UnauthorizedError };

const missingKey: TokenKey = () =>
  Promise.reject(
    new Error('no token key is configured: set CONVOY_TOKEN_KEY_ARN (deployed) or CONVOY_TOKEN_KEY_FILE'),
  );

/** HMAC-SHA256 of the parts, JSON-encoded so no two different lists of parts collide. */
function mac(key: Uint8Array, parts: readonly unknown[]): string {
  return createHmac('sha256', key).update(JSON.stringify(parts)).digest('hex');
}

const verifierOf = (key: Uint8Array, token: string) => mac(key, ['convoy-token/v1', token]);

const sealOf = (key: Uint8Array, record: Omit<StoredToken, 'seal'>) =>
  mac(key, [
    'convoy-token-record/v1',
    record.id,
    record.role,
    record.project ?? null,
    record.subject ?? null,
    record.createdAt,
    record.verifier,
  ]);

/** A stored digest (anything, if forged) against the expected hex, in constant time. */
function sameHex(stored: unknown, expected: string): boolean {
  if (typeof stored !== 'string') return false;
  const [actual, wanted] = [Buffer.from(stored, 'utf8'), Buffer.from(expected, 'utf8')];
  return actual.length === wanted.length && timingSafeEqual(actual, wanted);
}

/** Whether a stored token's claims are the ones Convoy sealed (not written or changed by anyone else). */
function sealed(key: Uint8Array, stored: StoredToken): boolean {
  return sameHex(stored.seal, sealOf(key, stored));
}

const recordOf = ({ id, role, project, subject, createdAt }: StoredToken): TokenRecord => ({
  id,
  role,
  ...(project !== undefined ? { project } : {}),
  ...(subject !== undefined ? { subject } : {}),
  createdAt,
});

/**
 * A new token for these claims, stored as its HMAC and a seal over its claims: the token itself is
 * returned once and kept nowhere. `audit` is written in the same transaction.
 */
export async function mintToken(
  ports: TokenPorts,
  claims: TokenClaims,
  createdAt: string,
  audit?: (record: TokenRecord) => TokenAudit,
): Promise<{ token: string; record: TokenRecord }> {
  const key = await (ports.tokenKey ?? missingKey)();
  const id = randomBytes(8).toString('hex');
  const token = `cvy_${id}_${randomBytes(32).toString('base64url')}`;
  const record: TokenRecord = {
    id,
    role: claims.role,
    ...(claims.role !== 'admin' ? { project: claims.project, subject: claims.subject } : {}),
    createdAt,
  };
  const unsealed = { ...record, verifier: verifierOf(key, token) };
  await ports.tokens.saveToken({ ...unsealed, seal: sealOf(key, unsealed) }, audit?.(record));
  return { token, record };
}

/** The record of a token Convoy minted and nobody revoked; undefined for anything else. Not cached. */
export async function verifyToken(ports: TokenPorts, token: string): Promise<TokenRecord | undefined> {
  const id = TOKEN_FORMAT.exec(token)?.[1];
  if (id === undefined) return undefined;
  const key = await (ports.tokenKey ?? missingKey)();
  const stored = await ports.tokens.findToken(id);
  return stored && matches(key, stored, id, token) ? recordOf(stored) : undefined;
}

function matches(key: Uint8Array, stored: StoredToken, id: string, token: string): boolean {
  return stored.id === id && sameHex(stored.verifier, verifierOf(key, token)) && sealed(key, stored);
}

/**
 * Stored tokens by id, read in the last 30 s: a busy agent costs no read per request. A token revoked
 * through this container is forgotten at once; one revoked elsewhere within {@link CACHE_MS}.
 */
const cache = new Map<string, { stored: StoredToken | undefined; until: number }>();
export const CACHE_MS = 30_000;

/** Drops a token from this container's cache, so its revocation takes effect here at once. */
export function forgetToken(id: string): void {
  cache.delete(id);
}

/**
 * The actor behind `Authorization: Bearer <token>`: a token Convoy minted (its HMAC and sealed claims
 * check out under the token key), not revoked, whose agent or person is still in its project's plan.
 */
export async function authenticate(
  authorization: string | undefined,
  ports: AuthPorts,
  now = Date.now(),
): Promise<{ actor: Actor; record: TokenRecord }> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new UnauthorizedError('missing credentials: send "Authorization: Bearer <token>"');
  const token = match[1] as string;
  const id = TOKEN_FORMAT.exec(token)?.[1];
  if (id === undefined) throw new UnauthorizedError('the token is not valid');
  const key = await (ports.tokenKey ?? missingKey)();
  let entry = cache.get(id);
  if (!entry || entry.until < now) {
    entry = { stored: await ports.tokens.findToken(id), until: now + CACHE_MS };
    if (cache.size > 10_000) cache.clear();
    cache.set(id, entry);
  }
  const stored = entry.stored;
  if (!stored || !matches(key, stored, id, token))
    throw new UnauthorizedError('the token is not valid (unknown or revoked)');
  const record = recordOf(stored);
  if (record.role === 'admin') return { actor: { kind: 'admin' }, record };
  const project = record.project as string;
  const subject = record.subject as string;
  if (!inPlan((await ports.store.currentPlan(project))?.plan, record)) {
    throw new UnauthorizedError(
      `the token is not valid: ${record.role} ${subject} is no longer in the plan of project ${project}`,
    );
  }
  return { actor: { kind: record.role, id: subject }, record };
}

/** Whether an agent or person token's subject is in its project's plan (admin tokens always are). */
function inPlan(plan: Plan | undefined, record: TokenRecord): boolean {
  if (record.role === 'admin') return true;
  const members = (record.role === 'agent' ? plan?.agents : plan?.people) ?? [];
  return members.some((member) => member.id === record.subject);
}

/**
 * - `active`: authenticates;
 * - `disabled`: its agent or person is not in the project's current plan (it works again if they return);
 * - `invalid`: its claims are not sealed with this deployment's token key (written into the table by
 *   something other than Convoy, altered, or minted under another key): it never authenticates.
 */
export type TokenStatus = 'active' | 'disabled' | 'invalid';

/** A project's tokens and the admin tokens, oldest first, with their status; never the tokens themselves. */
export async function listTokens(
  ports: AuthPorts,
  project: string,
): Promise<(TokenRecord & { status: TokenStatus })[]> {
  const key = await (ports.tokenKey ?? missingKey)();
  const stored = await ports.tokens.listTokens(project);
  const plan = (await ports.store.currentPlan(project))?.plan;
  return stored.map((token) => {
    const record = recordOf(token);
    if (!sealed(key, token)) return { ...record, status: 'invalid' };
    return { ...record, status: inPlan(plan, record) ? 'active' : 'disabled' };
  });
}

/**
 * Deletes a token (with `audit`, in one transaction) and forgets it here, so this container refuses it
 * from now on; other containers within {@link CACHE_MS}. False when there was no such token.
 */
export async function revokeToken(ports: TokenPorts, id: string, audit?: TokenAudit): Promise<boolean> {
  const deleted = await ports.tokens.deleteToken(id, audit);
  forgetToken(id);
  return deleted;
}
