import {
  IdempotencyAlreadyInProgressError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  VersionConflictError,
} from '../../core/errors.js';

/** No credentials, or ones that are not valid: 401. */
export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

export class PayloadTooLargeError extends Error {
  constructor(bytes: number, limit: number) {
    super(`the request body is ${bytes} bytes; the limit is ${limit} bytes (${limit / 1024} KB)`);
    this.name = 'PayloadTooLargeError';
  }
}

export interface ErrorResponse {
  readonly status: number;
  readonly body: { error: { code: string; message: string; details?: readonly unknown[] } };
}

// biome-ignore lint/suspicious/noExplicitAny: error classes take any constructor arguments.
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * The one map from an error to its HTTP answer: status, the `code` of the error body, and the
 * message when the error's own would not help the caller. The first class an error is an instance
 * of wins; anything else is a 500 whose message says nothing of the internals.
 */
const ERROR_STATUS: ReadonlyArray<readonly [ErrorClass, number, string, string?]> = [
  [UnauthorizedError, 401, 'unauthorized'],
  [PayloadTooLargeError, 413, 'payload_too_large'],
  [ValidationError, 400, 'invalid_request'],
  [ForbiddenError, 403, 'forbidden'],
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  [
    VersionConflictError,
    409,
    'concurrent_update',
    'too many concurrent updates of the same item; retry the request',
  ],
  [UnprocessableError, 422, 'unprocessable'],
  [
    IdempotencyAlreadyInProgressError,
    409,
    'request_in_progress',
    'a request with this Idempotency-Key is still being processed; retry in a moment',
  ],
  [
    IdempotencyValidationError,
    422,
    'unprocessable',
    'this Idempotency-Key was already used with a different request body; use a new key for a new request',
  ],
];

/** The status `error` is answered with: 500 for any error the map does not know. */
export const statusOf = (error: unknown) => ERROR_STATUS.find(([type]) => error instanceof type)?.[1] ?? 500;

/** Maps domain errors to statuses; only 4xx messages reach the caller, never internals. */
export function errorResponse(error: unknown, log: (message: string, error: unknown) => void): ErrorResponse {
  const known = ERROR_STATUS.find(([type]) => error instanceof type);
  if (!known) {
    log('unhandled error', error);
    return errorBody(500, 'internal', 'something went wrong on our side; the request can be retried');
  }
  const [, status, code, message] = known;
  return errorBody(
    status,
    code,
    message ?? (error as Error).message,
    (error as { details?: unknown[] }).details,
  );
}

function errorBody(
  status: number,
  code: string,
  message: string,
  details?: readonly unknown[],
): ErrorResponse {
  return {
    status,
    body: { error: { code, message, ...(details && details.length > 0 ? { details } : {}) } },
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
