/**
 * Where the dashboard keeps who is signed in: the token and the project in `sessionStorage` (this tab
 * only, gone when it closes). `convoy dashboard` passes the local admin token in the URL fragment
 * (`#token=…&project=…`), which never reaches a server; `takeFragment` moves it into storage and
 * returns the URL without it, for `history.replaceState`.
 */

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const TOKEN_KEY = 'convoy.token';
export const PROJECT_KEY = 'convoy.project';

export interface Session {
  readonly token: string;
  readonly project: string | null;
}

export function readSession(store: KeyValueStore): Session | null {
  const token = store.getItem(TOKEN_KEY);
  return token ? { token, project: store.getItem(PROJECT_KEY) } : null;
}

export function saveSession(store: KeyValueStore, session: Session): void {
  store.setItem(TOKEN_KEY, session.token);
  if (session.project) store.setItem(PROJECT_KEY, session.project);
  else store.removeItem(PROJECT_KEY);
}

export function clearSession(store: KeyValueStore): void {
  store.removeItem(TOKEN_KEY);
  store.removeItem(PROJECT_KEY);
}

/**
 * Reads `token` (and `project`) from a URL's fragment. Returns what it found and the URL to show
 * instead: the same URL with those keys removed (and no `#` left when nothing else was there).
 */
export function takeFragment(href: string): { token?: string; project?: string; cleaned: string } | null {
  const hash = href.indexOf('#');
  if (hash < 0) return null;
  const params = new URLSearchParams(href.slice(hash + 1));
  const token = params.get('token');
  if (!token) return null;
  const project = params.get('project');
  params.delete('token');
  params.delete('project');
  const rest = params.toString();
  return {
    token: token.trim(),
    ...(project ? { project } : {}),
    cleaned: href.slice(0, hash) + (rest ? `#${rest}` : ''),
  };
}

/** A token as pasted: surrounding blanks and a leading `Bearer ` removed. */
export function normalizeToken(input: string): string {
  return input
    .trim()
    .replace(/^bearer\s+/i, '')
    .trim();
}
