import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's replay window: requests older (or further in the future) than this are refused. */
export const SLACK_REQUEST_MAX_AGE_SECONDS = 5 * 60;

export interface SlackRequest {
  /** Request headers; names are matched case-insensitively (API Gateway lower-cases them). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received, before any form or JSON parsing. */
  readonly rawBody: string | Uint8Array;
}

export type SlackVerification = { readonly valid: true } | { readonly valid: false; readonly reason: string };

const SIGNATURE_PATTERN = /^v0=([0-9a-f]{64})$/i;
const TIMESTAMP_PATTERN = /^\d{1,15}$/;

/**
 * Checks Slack's v0 request signature (`X-Slack-Signature: v0=<hex HMAC-SHA256 of
 * "v0:<timestamp>:<raw body>">`) and that `X-Slack-Request-Timestamp` is within five minutes of
 * `now` either way. The comparison takes constant time; a refusal says why without echoing the
 * secret or the expected signature.
 */
export function verifySlackRequest(
  request: SlackRequest,
  signingSecret: string,
  now: Date,
): SlackVerification {
  const refuse = (reason: string): SlackVerification => ({ valid: false, reason });
  if (!signingSecret) return refuse('no Slack signing secret is configured: set CONVOY_SLACK_SIGNING_SECRET');
  const signature = header(request.headers, 'x-slack-signature');
  const timestamp = header(request.headers, 'x-slack-request-timestamp');
  if (signature === undefined) return refuse('the X-Slack-Signature header is missing');
  if (timestamp === undefined) return refuse('the X-Slack-Request-Timestamp header is missing');
  if (!TIMESTAMP_PATTERN.test(timestamp)) {
    return refuse('X-Slack-Request-Timestamp is not a Unix time in seconds');
  }
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (age > SLACK_REQUEST_MAX_AGE_SECONDS) {
    return refuse(
      `the request was signed ${age} s ago, more than the ${SLACK_REQUEST_MAX_AGE_SECONDS} s allowed: a replay, or this server's clock is wrong`,
    );
  }
  if (-age > SLACK_REQUEST_MAX_AGE_SECONDS) {
    return refuse(
      `the request timestamp is ${-age} s in the future, more than the ${SLACK_REQUEST_MAX_AGE_SECONDS} s allowed: check this server's clock`,
    );
  }
  const match = SIGNATURE_PATTERN.exec(signature);
  if (!match?.[1]) return refuse('X-Slack-Signature is not a v0 signature (expected v0= and 64 hex digits)');
  const expected = hmac(signingSecret, timestamp, request.rawBody);
  if (!timingSafeEqual(Buffer.from(match[1], 'hex'), expected)) {
    return refuse('X-Slack-Signature does not match the body: check CONVOY_SLACK_SIGNING_SECRET');
  }
  return { valid: true };
}

/** The `X-Slack-Signature` value Slack sends for a body and timestamp (for `convoy dev` and tests). */
export function signSlackRequest(
  signingSecret: string,
  timestamp: number | string,
  rawBody: string | Uint8Array,
): string {
  return `v0=${hmac(signingSecret, String(timestamp), rawBody).toString('hex')}`;
}

function hmac(secret: string, timestamp: string, rawBody: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest();
}

function header(headers: SlackRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) return value.trim();
  }
  return undefined;
}
