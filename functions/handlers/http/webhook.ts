import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';

/** GitHub caps webhook payloads at 25 MB and API Gateway at 10 MB; a push with many commits is large. */
export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;

export interface WebhookRequest {
  readonly rawBody: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export function webhookRequest(event: APIGatewayProxyEventV2): WebhookRequest {
  const rawBody = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return { rawBody, headers };
}

export function reply(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export const refuse = (status: number, code: string, message: string) =>
  reply(status, { error: { code, message } });

export const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex');

/** How long a delivery id is remembered: longer than any provider redelivers. */
export const DELIVERY_KEEP_SECONDS = 7 * 24 * 3600;

/** A delivery id header (GitHub's GUID, JIRA's identifier): it becomes part of a key. */
export const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/** A payload of the wrong shape, as `payload.<field>: <problem>` for each field at fault. */
export function shapeProblems(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => {
      const path = ['payload', ...issue.path.map(String)].join('.');
      const message = issue.message.replace(/^Invalid input: /, '');
      return `${path}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
    })
    .join('; ');
}
