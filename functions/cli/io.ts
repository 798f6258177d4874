import { readFile } from 'node:fs/promises';
import { ConvoyError } from '../core/errors.js';

/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => Promise<string>;
  /** Whether to colour output (a terminal, and NO_COLOR unset). */
  readonly color: boolean;
}

export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFile(path, 'utf8'),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  };
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how a command was called: printed with a hint, exit code 2. */
export class UsageError extends ConvoyError {
  constructor(
    message: string,
    readonly command?: string,
    options?: ErrorOptions,
  ) {
    super('invalid_usage', message, options);
    this.name = 'UsageError';
  }
}

/** Reads a file a user named, turning the usual failures into a sentence that says what to do. */
export async function readUserFile(io: Io, path: string): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory, not a plan file'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new UsageError(`cannot read ${path}: ${reason}`);
  }
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export type Style = keyof typeof codes;

export function styler(color: boolean) {
  return (style: Style, text: string) =>
    color ? `\u001b[${codes[style][0]}m${text}\u001b[${codes[style][1]}m` : text;
}
