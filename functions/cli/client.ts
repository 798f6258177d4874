import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_ERROR_CODES, type ApiErrorCode, ConvoyError } from '../core/errors.js';
import { isAlive } from '../local/processes.js';
import { UsageError } from './io.js';

export interface Target {
  readonly url: string;
  readonly project?: string;
  readonly token?: string;
}

/**
 * Where a command talks to: explicit options first, then what a running `convoy dev` left in
 * `.convoy/dev.json` (its URL, project and tokens file, whose admin token is used).
 */
export async function resolveTarget(
  values: Record<string, string | boolean | undefined>,
  stateDir = '.convoy',
): Promise<Target> {
  let dev: { url?: string; project?: string; tokensFile?: string; pid?: number } = {};
  try {
    dev = JSON.parse(await readFile(join(stateDir, 'dev.json'), 'utf8'));
  } catch {
    // no local instance recorded
  }
  // convoy dev removes dev.json when it stops; one left by a convoy dev killed with -9 names a dead pid.
  const gone = typeof dev.pid === 'number' && !isAlive(dev.pid) ? dev.pid : undefined;
  if (gone !== undefined) dev = {};
  let token = typeof values.token === 'string' ? values.token : process.env.CONVOY_TOKEN;
  if (token === undefined && dev.tokensFile) {
    try {
      token = (JSON.parse(await readFile(dev.tokensFile, 'utf8')) as { admin?: string }).admin;
    } catch {
      // the tokens file is gone; the request will say 401
    }
  }
  const url = typeof values.url === 'string' ? values.url : dev.url;
  if (!url)
    throw new UsageError(
      gone === undefined
        ? 'no --url given and no running convoy dev found in .convoy/dev.json; start one with `convoy dev` or pass --url'
        : `no --url given, and the convoy dev that .convoy/dev.json names (pid ${gone}) is not running; start one with \`convoy dev\` or pass --url`,
    );
  const project = typeof values.project === 'string' ? values.project : dev.project;
  return { url: url.replace(/\/+$/, ''), ...(project ? { project } : {}), ...(token ? { token } : {}) };
}

/** The API answered with an error: its status, and the `code` and message of its error body. */
export class ApiError extends ConvoyError {
  constructor(
    readonly status: number,
    code: ApiErrorCode | 'http_error',
    message: string,
    readonly details?: unknown[],
  ) {
    super(code, message);
    this.name = 'ApiError';
  }
}

/** One request to the Convoy API; errors come back as ApiError with the server's message. */
export async function request<T>(
  target: Target,
  method: string,
  path: string,
  body?: { text: string; type: string },
): Promise<T> {
  const response = await send(target, method, path, body);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) throw apiError(response, parsed);
  return parsed as T;
}

/** A GET of something that is not JSON (a Markdown report, a PNG chart), as bytes. */
export async function download(target: Target, path: string): Promise<Uint8Array> {
  const response = await send(target, 'GET', path);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    throw apiError(response, parsed);
  }
  return bytes;
}

function apiError(response: Response, parsed: unknown): ApiError {
  const error = (parsed as { error?: { code?: string; message?: string; details?: unknown[] } } | undefined)
    ?.error;
  return new ApiError(
    response.status,
    API_ERROR_CODES.find((code) => code === error?.code) ?? 'http_error',
    error?.message ?? `${response.status} ${response.statusText}`,
    error?.details,
  );
}

async function send(
  target: Target,
  method: string,
  path: string,
  body?: { text: string; type: string },
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
        ...(body ? { 'content-type': body.type } : {}),
      },
      ...(body ? { body: body.text } : {}),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new UsageError(
      `cannot reach ${target.url}${cause ? ` (${cause})` : ''}: is convoy dev running, and is --url right?`,
    );
  }
  return response;
}
