import { VersionConflictError } from '../../core/errors.js';

/**
 * What the in-memory stores share: DynamoDB's rules for one table, kept in plain maps. The stores
 * are for `convoy simulate` and fast use-case tests; test/contract/ runs one suite against them and
 * the DynamoDB adapters, so both behave alike.
 */

/** DynamoDB allows at most 100 items in one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * A stored value as DynamoDB gives it back: a copy, without `undefined` fields (the document
 * client removes them), so a caller changing what it wrote or read changes nothing stored.
 */
export const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * DynamoDB's order of string keys: by UTF-8 bytes, which is code point order. JavaScript's `<`
 * compares UTF-16 code units, which differs for characters beyond U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    if (a.charCodeAt(index) !== b.charCodeAt(index))
      return (a.codePointAt(index) as number) - (b.codePointAt(index) as number);
  }
  return a.length - b.length;
}

/** One item of a transaction: `item` names it, `holds` is its condition, `apply` writes it. */
export interface Write {
  readonly item: string;
  readonly holds?: () => boolean;
  readonly apply: () => void;
}

/**
 * One TransactWriteItems: every condition is checked before anything is written, so the writes
 * happen all or none; a failed condition is a VersionConflictError (`conflict` its message).
 */
export function transact(writes: readonly Write[], conflict?: string): void {
  if (writes.length > MAX_TRANSACTION_ITEMS)
    throw new Error(`a transaction holds at most ${MAX_TRANSACTION_ITEMS} items, got ${writes.length}`);
  const items = new Set<string>();
  for (const write of writes) {
    // DynamoDB refuses the whole request (a ValidationException) before checking any condition.
    if (items.has(write.item))
      throw new Error(`Transaction request cannot include multiple operations on one item (${write.item})`);
    items.add(write.item);
  }
  if (!writes.every((write) => write.holds?.() ?? true)) throw new VersionConflictError(conflict);
  for (const write of writes) write.apply();
}

/**
 * The items of one partition by sort key, in DynamoDB's order. Keys usually arrive in order (ids
 * start with the time), so an insert is most often an append.
 */
export class SortedItems<T> {
  private readonly items = new Map<string, T>();
  private readonly order: string[] = [];

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  set(key: string, value: T): void {
    if (!this.items.has(key)) this.order.splice(this.indexOf(key), 0, key);
    this.items.set(key, value);
  }

  delete(key: string): void {
    if (!this.items.delete(key)) return;
    this.order.splice(this.indexOf(key), 1);
  }

  /** The items from `from` (inclusive) on, oldest first. */
  ascending(from?: string): T[] {
    const start = from === undefined ? 0 : this.indexOf(from);
    return this.order.slice(start).map((key) => this.items.get(key) as T);
  }

  /** The items before `before` (exclusive), newest first, with their keys. */
  descending(before?: string): { key: string; value: T }[] {
    const end = before === undefined ? this.order.length : this.indexOf(before);
    return this.order
      .slice(0, end)
      .reverse()
      .map((key) => ({ key, value: this.items.get(key) as T }));
  }

  /** The position of the first key not less than `key`. */
  private indexOf(key: string): number {
    const last = this.order[this.order.length - 1];
    if (last === undefined || compareKeys(last, key) < 0) return this.order.length;
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareKeys(this.order[middle] as string, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export { decodeCursor, encodeCursor } from '../cursor.js';

/** The items of one project in `partitions`, created empty on first use. */
export function partitionOf<T>(partitions: Map<string, SortedItems<T>>, project: string): SortedItems<T> {
  let items = partitions.get(project);
  if (!items) {
    items = new SortedItems();
    partitions.set(project, items);
  }
  return items;
}
