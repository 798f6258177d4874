import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from '../api.js';
import { STATUS_ICON, STATUS_LABEL } from '../logic/format.js';

/** A view's root: the `data-view` hook tests find it by, its heading, and a busy state. */
export function View(props: {
  name: string;
  title: string;
  busy?: boolean;
  children?: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section
      class="view"
      data-view={props.name}
      aria-busy={props.busy ? 'true' : 'false'}
      aria-labelledby={`${props.name}-title`}
    >
      <div class="view-head">
        <h1 id={`${props.name}-title`}>{props.title}</h1>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function Problem(props: { error: Error | undefined }) {
  if (!props.error) return null;
  return (
    <p class="problem" role="alert">
      <span aria-hidden="true">⚠ </span>
      {props.error instanceof ApiError
        ? `${props.error.status}: ${props.error.message}`
        : props.error.message}
    </p>
  );
}

export function Loading(props: { loading: boolean; what?: string }) {
  return props.loading ? <p class="loading">Loading {props.what ?? ''}…</p> : null;
}

/** A status as text with a mark beside it: never by colour alone. */
export function StatusBadge(props: { status: string; label?: string }) {
  return (
    <span class={`badge badge-${props.status}`} data-status={props.status}>
      <span aria-hidden="true">{STATUS_ICON[props.status] ?? '•'} </span>
      {props.label ?? STATUS_LABEL[props.status] ?? props.status.replace(/[_-]/g, ' ')}
    </span>
  );
}

/**
 * Scrolls to the element the URL's fragment names (`/board#task-api`, from a Needs attention link)
 * once the view has drawn it, and highlights it; only once per fragment.
 */
export function useHashTarget(ready: boolean): void {
  const done = useRef<string | null>(null);
  useEffect(() => {
    const raw = location.hash.slice(1);
    if (!ready || !raw || done.current === location.hash) return;
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // not percent-encoded
    }
    const element = document.getElementById(raw) ?? document.getElementById(decoded);
    if (!element) return;
    done.current = location.hash;
    element.scrollIntoView({ block: 'center' });
    element.classList.add('targeted');
  });
}
