import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, projectPath, send } from './api.js';

/** How often the change counter is polled; a change shows within this plus one fetch. */
export const POLL_MS = 1_500;
/** How often relative ages ("3m ago") are redrawn without any change. */
export const TICK_MS = 30_000;

interface LiveState {
  /** Bumped each time the project's change counter moves: views refetch on it. */
  readonly version: number;
  /** The clock views draw ages against, refreshed every TICK_MS. */
  readonly now: number;
  /** Whether live updates work (false when the server has no changes route). */
  readonly live: boolean | null;
  readonly project: string;
  readonly isAdmin: boolean;
  /** Ask every view to refetch now (after an action). */
  refresh(): void;
  /** Announce something to screen readers (the aria-live region). */
  announce(message: string): void;
}

const LiveContext = createContext<LiveState | null>(null);

export function useLive(): LiveState {
  const state = useContext(LiveContext);
  if (!state) throw new Error('useLive outside LiveProvider');
  return state;
}

/**
 * Polls `GET …/changes` with `If-None-Match` every 1.5 s while the tab is visible; a new ETag bumps
 * `version`. Without the route (404), the views still refresh every 15 s.
 */
export function LiveProvider(props: {
  project: string;
  isAdmin: boolean;
  announce: (message: string) => void;
  children: ComponentChildren;
}) {
  const [version, setVersion] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const [live, setLive] = useState<boolean | null>(null);
  const etag = useRef<string | null>(null);

  useEffect(() => {
    etag.current = null;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let fallback = false;
    const poll = async () => {
      if (stopped) return;
      if (document.visibilityState !== 'hidden') {
        try {
          if (fallback) setVersion((v) => v + 1);
          else {
            const headers: Record<string, string> = etag.current ? { 'if-none-match': etag.current } : {};
            const response = await send(projectPath(props.project, '/changes'), { headers });
            if (response.status === 200) {
              const tag = response.headers.get('etag');
              if (etag.current !== null && tag !== etag.current) setVersion((v) => v + 1);
              etag.current = tag;
              setLive(true);
            } else if (response.status === 404) {
              const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
              if (body.error?.message?.startsWith('no route')) {
                fallback = true;
                setLive(false);
              }
            }
          }
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) return;
          // offline for a moment: try again on the next tick
        }
      }
      if (!stopped) timer = setTimeout(poll, fallback ? 15_000 : POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [props.project]);

  useEffect(() => {
    const interval = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(interval);
  }, []);

  const value: LiveState = {
    version,
    now,
    live,
    project: props.project,
    isAdmin: props.isAdmin,
    refresh: () => setVersion((v) => v + 1),
    announce: props.announce,
  };
  return <LiveContext.Provider value={value}>{props.children}</LiveContext.Provider>;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | Error | undefined;
  readonly loading: boolean;
}

/**
 * Fetches `path` (relative to the project) and again whenever the project changes; keeps showing the
 * last data while a refetch runs. `null` path: nothing to fetch.
 */
export function useProjectData<T>(path: string | null, options: { live?: boolean } = {}): Loaded<T> {
  const { project, version } = useLive();
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true });
  const key = path === null ? null : projectPath(project, path);
  const lastKey = useRef<string | null>(null);
  const refetchOn = options.live === false ? 0 : version;
  useEffect(() => {
    if (key === null) return;
    const controller = new AbortController();
    const fresh = lastKey.current !== key;
    lastKey.current = key;
    if (fresh) setState({ data: undefined, error: undefined, loading: true });
    api<T>(key, { signal: controller.signal }).then(
      (data) => setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState((previous) => ({
          data: fresh ? undefined : previous.data,
          error: error as Error,
          loading: false,
        }));
      },
    );
    return () => controller.abort();
  }, [key, refetchOn]);
  return state;
}
