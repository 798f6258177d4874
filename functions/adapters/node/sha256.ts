import { createHash } from 'node:crypto';

/**
 * The first `length` hex digits of the SHA-256 of `parts`, hashed one after the other: how Convoy
 * shortens a name that must stay stable and fit a limit (gate execution names, schedule names, a
 * cache folder) and fingerprints a request (idempotency keys). Never for secrets: tokens and
 * webhook signatures use HMACs. The pure core, which has no Node, fingerprints with `core/hash.ts`.
 */
export function sha256Hex(parts: string | readonly (string | Uint8Array)[], length = 64): string {
  const hash = createHash('sha256');
  for (const part of typeof parts === 'string' ? [parts] : parts) hash.update(part);
  return hash.digest('hex').slice(0, length);
}
