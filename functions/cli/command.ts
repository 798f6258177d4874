import type { Io } from './io.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly description: string;
  /** Shown as `--name VALUE` in help. */
  readonly value?: string;
  /** The option may be repeated; its value in `CommandArgs.values` is then a `string[]`. */
  readonly multiple?: boolean;
}

export interface CommandArgs {
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | undefined>;
}

/**
 * One `convoy` subcommand: its help text and what it does. Returns the exit code. Its one-line summary
 * is in the command table (functions/cli/index.ts), which lists the commands without importing them.
 */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly details?: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly run: (args: CommandArgs, io: Io) => Promise<number>;
}
