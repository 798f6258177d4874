import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  API_ERROR_CODES,
  ConflictError,
  ConvoyError,
  ForbiddenError,
  NotFoundError,
  RunInProgressError,
  RunKeyReusedError,
  UnprocessableError,
  ValidationError,
  VersionConflictError,
} from '../../../functions/core/errors.js';
import { IntegrationError } from '../../../functions/core/integrations/model.js';
import {
  errorResponse,
  PayloadTooLargeError,
  UnauthorizedError,
} from '../../../functions/handlers/http/errors.js';

/** code → status of the error table in docs/api.md: every API code a row names, with the row's status. */
function documented(): Map<string, number> {
  const pairs = new Map<string, number>();
  for (const line of readFileSync('docs/api.md', 'utf8').split('\n')) {
    const status = /^\|\s*(\d{3})\s*\|/.exec(line)?.[1];
    if (!status) continue;
    for (const [, code] of line.matchAll(/`([a-z_]+)`/g))
      if ((API_ERROR_CODES as readonly string[]).includes(code as string))
        pairs.set(code as string, Number(status));
  }
  return pairs;
}

const quiet = () => undefined;

describe('the API error map', () => {
  it.each([
    new ValidationError('body.to: expected one of todo, in_progress, in_review, done'),
    new UnauthorizedError('the token is not valid'),
    new ForbiddenError('agent:alpha may not transition tasks of agent beta'),
    new NotFoundError('task nope is not in the plan of project demo'),
    new ConflictError('task docs waits for api (todo) to be done'),
    new VersionConflictError(),
    new PayloadTooLargeError(300_000, 262_144),
    new UnprocessableError('checklist item "Tests pass" is not confirmed'),
  ])('answers $name with the status docs/api.md gives its code', (error) => {
    // Act
    const { status, body } = errorResponse(error, quiet);

    // Assess
    expect(error).toBeInstanceOf(ConvoyError);
    expect(body.error.code).toBe(error.code);
    expect(status).toBe(documented().get(error.code));
  });

  it('answers a repeated Idempotency-Key with request_in_progress while the first runs, unprocessable with another body', () => {
    // Act
    const busy = errorResponse(new RunInProgressError(), quiet);
    const reused = errorResponse(new RunKeyReusedError(), quiet);

    // Assess
    expect(busy).toMatchObject({ status: 409, body: { error: { code: 'request_in_progress' } } });
    expect(reused).toMatchObject({ status: 422, body: { error: { code: 'unprocessable' } } });
    expect(reused.body.error.message).toMatch(/different request body/);
  });

  it('answers an internal Convoy error or any other error with a 500 that hides the message, and logs it', () => {
    // Prepare
    const logged: unknown[] = [];
    const secretive = new IntegrationError('JIRA said 401 for token abc123', false);

    // Act
    const internal = errorResponse(secretive, (_message, error) => logged.push(error));
    const unknown = errorResponse(new TypeError('x is undefined'), (_message, error) => logged.push(error));

    // Assess
    for (const answer of [internal, unknown]) {
      expect(answer.status).toBe(500);
      expect(answer.body.error.code).toBe('internal');
      expect(JSON.stringify(answer.body)).not.toMatch(/abc123|undefined/);
    }
    expect(logged).toHaveLength(2);
  });
});
