import { readFile } from 'node:fs/promises';
import { main } from '../../functions/cli/index.js';
import type { Io } from '../../functions/cli/io.js';

/** Runs the `convoy` CLI in process with its output captured, reading real files. */
export async function convoy(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readFile: (path) => readFile(path, 'utf8'),
    color: false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
