import { verify } from '@octokit/webhooks-methods';

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) against every configured secret, so a
 * secret can be rotated with both valid for a while. Octokit compares in constant time. Runs before
 * the body is parsed: nothing unauthenticated is ever interpreted.
 */
export async function verifyGithubSignature(
  secrets: readonly string[],
  rawBody: string,
  signature: string | undefined,
): Promise<SignatureCheck> {
  if (secrets.length === 0)
    return { ok: false, reason: 'no GitHub webhook secret is configured (CONVOY_GITHUB_WEBHOOK_SECRET)' };
  if (!signature) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  if (!/^sha256=[0-9a-f]{64}$/.test(signature))
    return { ok: false, reason: 'X-Hub-Signature-256 is not of the form sha256=<64 hex digits>' };
  for (const secret of secrets) {
    if (await verify(secret, rawBody, signature)) return { ok: true };
  }
  return { ok: false, reason: 'X-Hub-Signature-256 does not match the payload for any configured secret' };
}
