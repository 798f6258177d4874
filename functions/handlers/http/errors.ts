import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  type ApiErrorCode,
  ConvoyError,
  LeaseConflictError,
  LeaseLostError,
  RunInProgressError,
  RunKeyReusedError,
} from '../../core/errors.js';

/** No credentials, or ones that are not valid: 401. */
export class UnauthorizedError extends ConvoyError {
  constructor(message: string) {
    super('unauthorized', message);
    this.name = 'UnauthorizedError';
  }
}

/** A body over the limit, refused before anything is parsed: 413. */
export class PayloadTooLargeError extends ConvoyError {
  constructor(bytes: number, limit: number) {
    super(
      'payload_too_large',
      `the request body is ${bytes} bytes; the limit is ${limit} bytes (${limit / 1024} KB)`,
    );
    this.name = 'PayloadTooLargeError';
  }
}

export interface ErrorResponse {
  readonly status: number;
  readonly body: {
    error: {
      code: string;
      message: string;
      details?: readonly unknown[];
      /** `lease_lost`: who holds the task's claim now, and until when. */
      holder?: { readonly agent: string; readonly expiresAt: string };
      /** `lease_conflict`: the lease in the way (its id, holder, task, expiry). */
      conflict?: {
        readonly lease: string;
        readonly holder: string;
        readonly task?: string;
        readonly expiresAt: string;
      };
    };
  };
}

/** The HTTP status of each API error code (docs/api.md, Errors). */
const STATUS: Readonly<Record<ApiErrorCode, number>> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  concurrent_update: 409,
  lease_lost: 409,
  lease_conflict: 409,
  request_in_progress: 409,
  payload_too_large: 413,
  unprocessable: 422,
  internal: 500,
};

/** The message of a code when the error's own would not help the caller. */
const MESSAGES: Partial<Record<ApiErrorCode, string>> = {
  concurrent_update: 'too many concurrent updates of the same item; retry the request',
};

/**
 * The one map from an error to its HTTP answer. A Convoy error answers with its own `code` when that
 * is an API code; a repeated Idempotency-Key gets a message that names it here. Anything else is a 500 whose message
 * says nothing of the internals.
 */
function known(error: unknown): { code: ApiErrorCode; message: string } | undefined {
  if (error instanceof RunInProgressError)
    return {
      code: 'request_in_progress',
      message: 'a request with this Idempotency-Key is still being processed; retry in a moment',
    };
  if (error instanceof RunKeyReusedError)
    return {
      code: 'unprocessable',
      message:
        'this Idempotency-Key was already used with a different request body; use a new key for a new request',
    };
  if (error instanceof ConvoyError && error.code in STATUS && error.code !== 'internal') {
    const code = error.code as ApiErrorCode;
    return { code, message: MESSAGES[code] ?? error.message };
  }
  return undefined;
}

/** The status `error` is answered with: 500 for any error the map does not know. */
export const statusOf = (error: unknown) => {
  const found = known(error);
  return found ? STATUS[found.code] : 500;
};

/** Maps domain errors to statuses; only 4xx messages reach the caller, never internals. */
export function errorResponse(error: unknown, log: (message: string, error: unknown) => void): ErrorResponse {
  const found = known(error);
  if (!found) {
    log('unhandled error', error);
    return errorBody(500, 'internal', 'something went wrong on our side; the request can be retried');
  }
  return errorBody(
    STATUS[found.code],
    found.code,
    found.message,
    (error as { details?: unknown[] }).details,
    {
      ...(error instanceof LeaseLostError && error.holder ? { holder: error.holder } : {}),
      ...(error instanceof LeaseConflictError ? { conflict: error.conflicting } : {}),
    },
  );
}

function errorBody(
  status: number,
  code: string,
  message: string,
  details?: readonly unknown[],
  extra: Pick<ErrorResponse['body']['error'], 'holder' | 'conflict'> = {},
): ErrorResponse {
  return {
    status,
    body: { error: { code, message, ...(details && details.length > 0 ? { details } : {}), ...extra } },
  };
}

/** Middy's error step with the map above: every error becomes a JSON answer. */
export const httpErrors = (
  log: (message: string, error: unknown) => void,
): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2> => ({
  onError: (request) => {
    const { status, body } = errorResponse(request.error, log);
    request.response = {
      statusCode: status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify(body),
    };
  },
});
