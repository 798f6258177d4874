import { ValidationError } from '../../core/errors.js';

export type Item = Record<string, unknown>;

/** An item without its key attributes: the domain record it stores. */
export const strip = <T>(item: Item, drop: readonly string[] = ['pk', 'sk']): T =>
  Object.fromEntries(Object.entries(item).filter(([key]) => !drop.includes(key))) as T;

/** A page's position (DynamoDB's LastEvaluatedKey) as an opaque, URL-safe cursor. */
export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position a cursor of {@link encodeCursor} holds, if `valid` accepts it; otherwise a 400 that
 * says to pass the previous page's cursor unchanged (`what` narrows where it came from).
 */
export function decodeCursor<T>(
  cursor: string,
  valid: (position: Record<string, unknown>) => boolean,
  what = '',
): T {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (position && typeof position === 'object' && valid(position)) return position as T;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError(
    `cursor is not one this API returned${what}; pass the "cursor" of the previous page unchanged`,
  );
}
