import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Checks a hub signature (`sha256=<hex HMAC-SHA256 of the raw body>`: GitHub's `X-Hub-Signature-256`,
 * JIRA's `X-Hub-Signature`) against every configured secret, so a secret can be rotated with both
 * valid for a while. The digests are compared in constant time. Runs before the body is parsed:
 * nothing unauthenticated is ever interpreted.
 */
export function verifyHubSignature(
  provider: { readonly name: string; readonly header: string; readonly secretName: string },
  secrets: readonly string[],
  rawBody: string,
  signature: string | undefined,
): SignatureCheck {
  if (secrets.length === 0)
    return { ok: false, reason: `no ${provider.name} webhook secret is configured (${provider.secretName})` };
  if (!signature) return { ok: false, reason: `missing ${provider.header} header` };
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1];
  if (!hex) return { ok: false, reason: `${provider.header} is not of the form sha256=<64 hex digits>` };
  const given = Buffer.from(hex, 'hex');
  const matches = secrets.some((secret) =>
    timingSafeEqual(createHmac('sha256', secret).update(rawBody).digest(), given),
  );
  return matches
    ? { ok: true }
    : { ok: false, reason: `${provider.header} does not match the payload for any configured secret` };
}
