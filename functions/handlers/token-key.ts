import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TOKEN_KEY_ARN_ENV, TOKEN_KEY_FILE_ENV } from './env-names.js';
import type { TokenKey } from './http/auth.js';
import { secretsProvider } from './secrets.js';

/** A key shorter than this is refused: 32 random characters carry well over 128 bits. */
const MIN_KEY_CHARS = 32;

/**
 * How long a container keeps the key it read from Secrets Manager. A new key (which invalidates every
 * token) reaches every container within this time; the key is read once per container otherwise.
 */
const KEY_CACHE_SECONDS = 15 * 60;

/** The key in a secret's or file's text (trimmed); an error naming `where` when it is too short. */
export function keyOf(text: string, where: string): Uint8Array {
  const value = text.trim();
  if (value.length < MIN_KEY_CHARS)
    throw new Error(`${where}: the token key must be at least ${MIN_KEY_CHARS} characters`);
  return Buffer.from(value, 'utf8');
}

/** Where the token key is: the fields of `HandlerConfig` that say so. */
export interface TokenKeySource {
  /** The Secrets Manager secret holding the key (deployed, `CONVOY_TOKEN_KEY_ARN`). */
  readonly tokenKeyArn?: string;
  /** The file holding the key (`convoy dev`'s, beside tokens.json). */
  readonly tokenKeyFile?: string;
}

/**
 * The token key of `source`: the Secrets Manager secret (cached per container) or the file. The key
 * is never logged, and errors name where it was read from, never its value.
 */
export function tokenKeyFrom(source: TokenKeySource): TokenKey {
  const arn = source.tokenKeyArn;
  const file = source.tokenKeyFile;
  let fromFile: Promise<Uint8Array> | undefined;
  return async () => {
    if (arn) {
      const { getSecret } = await secretsProvider();
      const value = await getSecret<string>(arn, { maxAge: KEY_CACHE_SECONDS });
      if (typeof value !== 'string') throw new Error(`${TOKEN_KEY_ARN_ENV}: the secret holds no string`);
      return keyOf(value, TOKEN_KEY_ARN_ENV);
    }
    if (file) {
      fromFile ??= readFile(file, 'utf8').then(
        (text) => keyOf(text, file),
        (error: NodeJS.ErrnoException) => {
          fromFile = undefined;
          throw new Error(`${file}: cannot read the token key (${error.code ?? error.message})`);
        },
      );
      return fromFile;
    }
    throw new Error(
      `no token key is configured: set ${TOKEN_KEY_ARN_ENV} (deployed) or ${TOKEN_KEY_FILE_ENV} (a local key file; convoy dev makes its own)`,
    );
  };
}

/**
 * The local token key in `file`, created on first use: 32 random bytes, readable by this user only
 * (0600, restored if the file was opened up). Deleting the file invalidates every token it sealed.
 */
export async function ensureTokenKeyFile(file: string): Promise<Uint8Array> {
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  await chmod(file, 0o600);
  try {
    return keyOf(await readFile(file, 'utf8'), file);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; delete the file to make a new key (every token is then issued anew)`,
    );
  }
}
