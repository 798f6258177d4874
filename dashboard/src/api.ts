import { clearSession, readSession, saveSession } from './logic/session.js';

/** An error answer of the API: its HTTP status, `error.code` and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The route does not exist on this server (an older Convoy): the widget that needs it hides. */
  get routeMissing(): boolean {
    return this.status === 404 && this.code === 'not_found' && this.message.startsWith('no route');
  }
}

type Listener = (message: string) => void;
let onUnauthorized: Listener = () => undefined;

/** Called when the API refuses the token (401): the app returns to sign-in with the message. */
export function setUnauthorizedHandler(listener: Listener): void {
  onUnauthorized = listener;
}

export const session = {
  get: () => readSession(sessionStorage),
  save: (token: string, project: string | null) => saveSession(sessionStorage, { token, project }),
  clear: () => clearSession(sessionStorage),
};

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly token?: string;
  readonly signal?: AbortSignal;
  readonly headers?: Record<string, string>;
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

/** A request to the API on this origin with the signed-in token; JSON in and out. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** The raw response (for 304s and ETags); a 401 still signs out. */
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const token = options.token ?? session.get()?.token;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    cache: 'no-store',
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 401 && options.token === undefined) {
    const error = await errorOf(response);
    onUnauthorized(`The API refused the token (${error.message}). Sign in again.`);
    throw error;
  }
  return response;
}

export const projectPath = (project: string, rest = '') => `/v1/plans/${encodeURIComponent(project)}${rest}`;
