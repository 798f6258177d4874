/**
 * Domain errors. Each says what is wrong in words a user can act on; only the HTTP layer maps them
 * to status codes (400, 403, 404, 409, 422, 413).
 */

/** The input is malformed or breaks a rule of the request's schema. */
export class ValidationError extends Error {
  constructor(
    message: string,
    /** Problems located in the input, e.g. plan errors with line and column. */
    readonly details?: readonly unknown[],
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** The request is well-formed but incomplete for the rule it meets (e.g. an unconfirmed checklist). */
export class UnprocessableError extends Error {
  constructor(
    message: string,
    readonly details?: readonly unknown[],
  ) {
    super(message);
    this.name = 'UnprocessableError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The caller is known but may not do this. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** The coordination rules forbid the change in the current state (predecessors not done, ...). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * A conditional write lost a race: someone changed the item since it was read. Use cases re-read
 * and retry; it reaches the caller only when retries run out.
 */
export class VersionConflictError extends Error {
  constructor(message = 'the item changed while this request was being processed') {
    super(message);
    this.name = 'VersionConflictError';
  }
}
