/**
 * Domain errors. Each says what is wrong in words a user can act on, in the domain's terms (no HTTP
 * routes or CLI commands: the HTTP layer or the CLI adds how to fix it where that helps). Each has a
 * stable, machine-readable `code`; for the errors the API answers with, it is the `code` of the API's
 * error body (docs/api.md, Errors), so the HTTP layer maps an error to its status by its code alone.
 */

/** The `code`s of the API's error bodies (docs/api.md, Errors). */
export const API_ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'concurrent_update',
  /** A write on a claimed task without the claim's current lease id. */
  'lease_lost',
  /** A resource lease that overlaps another holder's exclusive lease (or an exclusive one over others). */
  'lease_conflict',
  /** A request with the same Idempotency-Key is still being processed. */
  'request_in_progress',
  'payload_too_large',
  'unprocessable',
  'internal',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/**
 * Errors that never reach an API caller as such: a failed integration call, a stale task token, a
 * configuration or start-up problem of a process, a bad simulation input, a command line the CLI
 * cannot run, an answer of the API that is no Convoy error body (`http_error`).
 */
export type InternalErrorCode =
  | 'integration_failed'
  | 'http_error'
  | 'stale_task_token'
  | 'event_publish_failed'
  | 'invalid_config'
  | 'invalid_usage'
  | 'invalid_simulation'
  | 'dev_start_failed'
  | 'dynamodb_local_failed';

export type ConvoyErrorCode = ApiErrorCode | InternalErrorCode;

/**
 * What every error Convoy throws on purpose extends: a `code` that says which kind of error it is
 * (stable across wording changes of the message), and the error it was caused by, if any
 * (`new NotFoundError('…', { cause })`).
 */
export class ConvoyError extends Error {
  constructor(
    readonly code: ConvoyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConvoyError';
  }
}

/** The input is malformed or breaks a rule of the request's schema. */
export class ValidationError extends ConvoyError {
  constructor(
    message: string,
    /** Problems located in the input, e.g. plan errors with line and column. */
    readonly details?: readonly unknown[],
    options?: ErrorOptions,
  ) {
    super('invalid_request', message, options);
    this.name = 'ValidationError';
  }
}

/** The request is well-formed but incomplete for the rule it meets (e.g. an unconfirmed checklist). */
export class UnprocessableError extends ConvoyError {
  constructor(
    message: string,
    readonly details?: readonly unknown[],
    options?: ErrorOptions,
  ) {
    super('unprocessable', message, options);
    this.name = 'UnprocessableError';
  }
}

/** No such project, plan, task, agent, person, gate or escalation. */
export class NotFoundError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('not_found', message, options);
    this.name = 'NotFoundError';
  }
}

/** The caller is known but may not do this. */
export class ForbiddenError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('forbidden', message, options);
    this.name = 'ForbiddenError';
  }
}

/** The coordination rules forbid the change in the current state (predecessors not done, ...). */
export class ConflictError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('conflict', message, options);
    this.name = 'ConflictError';
  }
}

/**
 * A write on a claimed task that does not carry the claim's current lease id: the writer's claim
 * lapsed or was never its own. Names who holds the task now, and until when.
 */
export class LeaseLostError extends ConvoyError {
  constructor(
    message: string,
    readonly holder?: { readonly agent: string; readonly expiresAt: string },
    options?: ErrorOptions,
  ) {
    super('lease_lost', message, options);
    this.name = 'LeaseLostError';
  }
}

/** A resource lease that collides with another holder's: names the holder, its task and expiry. */
export class LeaseConflictError extends ConvoyError {
  constructor(
    message: string,
    readonly conflicting: {
      readonly lease: string;
      readonly holder: string;
      readonly task?: string;
      readonly expiresAt: string;
    },
    options?: ErrorOptions,
  ) {
    super('lease_conflict', message, options);
    this.name = 'LeaseConflictError';
  }
}

/**
 * A conditional write lost a race: someone changed the item since it was read. Use cases re-read
 * and retry; it reaches the caller only when retries run out.
 */
export class VersionConflictError extends ConvoyError {
  constructor(message = 'the item changed while this request was being processed', options?: ErrorOptions) {
    super('concurrent_update', message, options);
    this.name = 'VersionConflictError';
  }
}

/** `RunOnce`: another run with this key is still under way; try again in a moment. */
export class RunInProgressError extends ConvoyError {
  constructor(message = 'a run with this key is still under way', options?: ErrorOptions) {
    super('request_in_progress', message, options);
    this.name = 'RunInProgressError';
  }
}

/** `RunOnce`: the key was used before for different work (another fingerprint). */
export class RunKeyReusedError extends ConvoyError {
  constructor(message = 'this key was already used for different work', options?: ErrorOptions) {
    super('unprocessable', message, options);
    this.name = 'RunKeyReusedError';
  }
}
