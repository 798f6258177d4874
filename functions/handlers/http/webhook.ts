import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import type { OnceOptions } from '../../core/ports.js';
import { httpErrors } from './errors.js';

/** GitHub caps webhook payloads at 25 MB and API Gateway at 10 MB; a push with many commits is large. */
export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;

export interface WebhookRequest {
  readonly rawBody: string;
  /** Lower-cased names (Middy's header normalizer, `webhookMiddlewares`). */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** The body exactly as sent, for the signature check: JSON is parsed only once it is verified. */
export function webhookRequest(event: APIGatewayProxyEventV2): WebhookRequest {
  const rawBody = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  return { rawBody, headers: event.headers ?? {} };
}

/** Lower-cased headers before the handler, the API's error map after it: a failure is a JSON 500. */
export const webhookMiddlewares = (log: (message: string, error: unknown) => void) => [
  httpHeaderNormalizer(),
  httpErrors(log),
];

export function reply(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export const refuse = (status: number, code: string, message: string) =>
  reply(status, { error: { code, message } });

/** A delivery id is remembered for longer than any provider redelivers. */
const DELIVERY_KEEP_SECONDS = 7 * 24 * 3600;

/** How long a first delivery of GitHub and of JIRA holds its id while it runs, and is remembered. */
export const GITHUB_DELIVERY: OnceOptions = {
  scope: 'github',
  holdSeconds: 300,
  keepSeconds: DELIVERY_KEEP_SECONDS,
};
export const JIRA_DELIVERY: OnceOptions = {
  scope: 'jira',
  holdSeconds: 60,
  keepSeconds: DELIVERY_KEEP_SECONDS,
};

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
