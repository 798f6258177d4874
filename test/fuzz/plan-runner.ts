import { main } from '../../functions/cli/index.js';
import type { Io } from '../../functions/cli/io.js';

/**
 * The child process of test/fuzz/plan.test.ts: runs `convoy validate FILE` and `convoy plan FILE
 * --json` on each plan text it is sent, with the file read from the message, and answers with the
 * exit codes, the output and how long each command took. A command that never returns blocks only
 * this process, which the test kills: a hang in the test's own process would stop its timeout too.
 */

export interface RunRequest {
  readonly id: number;
  readonly file: string;
  readonly text: string;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunReply {
  readonly id: number;
  readonly validate: CommandResult;
  readonly plan: CommandResult;
}

async function run(file: string, text: string, argv: string[]): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (out) => {
      stdout += out;
    },
    stderr: (out) => {
      stderr += out;
    },
    readFile: async (path) => {
      if (path !== file) throw Object.assign(new Error(`no such file ${path}`), { code: 'ENOENT' });
      return text;
    },
    color: false,
  };
  const started = performance.now();
  const code = await main(argv, io);
  return { code, stdout, stderr, ms: performance.now() - started };
}

process.on('message', async (message: RunRequest) => {
  const { id, file, text } = message;
  const validate = await run(file, text, ['validate', file]);
  const plan = await run(file, text, ['plan', file, '--json']);
  process.send?.({ id, validate, plan } satisfies RunReply);
});
process.send?.({ ready: true });
