/**
 * `String.prototype.isWellFormed` and `toWellFormed` (ES2024, in every Node this project runs on);
 * typed here because the project compiles against the ES2023 library.
 */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** False when `text` holds a lone UTF-16 surrogate, which no strict JSON or UTF-8 reader accepts. */
export const isWellFormed = (text: string): boolean => (text as unknown as WellFormedString).isWellFormed();

/** `text` with every lone surrogate replaced by U+FFFD, for text Convoy stores but does not own. */
export const toWellFormed = (text: string): string => (text as unknown as WellFormedString).toWellFormed();
