import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  API_ERROR_CODES,
  ConflictError,
  ConvoyError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  VersionConflictError,
} from '../../../functions/core/errors.js';

/** The Errors section of docs/api.md. */
function errorsSection(): string {
  const markdown = readFileSync('docs/api.md', 'utf8');
  const start = markdown.indexOf('## Errors');
  return markdown.slice(start, markdown.indexOf('\n## ', start + 1));
}

/** The `code` column of the error table in docs/api.md. */
function documentedCodes(): string[] {
  return errorsSection()
    .split('\n')
    .flatMap((line) => /^\|\s*\d{3}\s*\|\s*`([a-z_]+)`/.exec(line)?.[1] ?? []);
}

describe('domain errors', () => {
  it.each([
    [new ValidationError('body.name: expected string'), 'invalid_request'],
    [new UnprocessableError('checklist item "Tests pass" is not confirmed'), 'unprocessable'],
    [new NotFoundError('project nope has no plan'), 'not_found'],
    [new ForbiddenError('agent:alpha may not do this'), 'forbidden'],
    [new ConflictError('task docs waits for api (todo) to be done'), 'conflict'],
    [new VersionConflictError(), 'concurrent_update'],
  ])('%s carries the code of the API error it becomes', (error, code) => {
    // Assess
    expect(error).toBeInstanceOf(ConvoyError);
    expect(error.code).toBe(code);
    expect(errorsSection()).toContain(`\`${code}\``);
  });

  it('keeps the error it was caused by', () => {
    // Prepare
    const cause = new Error('ConditionalCheckFailedException');

    // Act
    const error = new VersionConflictError(undefined, { cause });

    // Assess
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('the item changed while this request was being processed');
  });

  it('knows every code docs/api.md lists, so the CLI shows the code the API sent', () => {
    // Assess
    expect(documentedCodes().length).toBeGreaterThan(5);
    for (const code of documentedCodes()) expect(API_ERROR_CODES).toContain(code);
  });
});
