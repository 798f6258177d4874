import { ValidationError } from '../core/errors.js';
import { isWellFormed } from '../core/unicode.js';

/**
 * The cursors of paged lists, one codec for the DynamoDB and the in-memory stores, so a cursor the
 * one refuses the other refuses too (test/contract/).
 */

/** A page's position (DynamoDB's LastEvaluatedKey, or the in-memory stores' own) as an opaque, URL-safe cursor. */
export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position a cursor of {@link encodeCursor} holds, if it is a table key (every attribute a
 * non-empty string that fits a key) and `valid` accepts it for the query at hand; otherwise a 400
 * that says to pass the previous page's cursor unchanged (`what` narrows where it came from).
 * Checking the position against the project and query it was issued for is what makes a crafted
 * cursor harmless: it can only move within the very query the caller may already run.
 */
export function decodeCursor<T>(
  cursor: string,
  valid: (position: Record<string, unknown>) => boolean,
  what = '',
): T {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      position &&
      typeof position === 'object' &&
      !Array.isArray(position) &&
      Object.values(position).every(isKeyString) &&
      valid(position)
    )
      return position as T;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError(
    `query.cursor: not a cursor this API returned${what}; pass the "cursor" of the previous page unchanged`,
  );
}

/** DynamoDB key attributes are at most 2,048 bytes (partition) and 1,024 (sort), never empty. */
const isKeyString = (value: unknown) =>
  typeof value === 'string' &&
  value.length > 0 &&
  isWellFormed(value) &&
  Buffer.byteLength(value) <= 1024 * 2;
