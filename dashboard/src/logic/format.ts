/** `45s`, `12m`, `3h 20m`, `2d 4h`: a span of time as a person says it. */
export function span(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}

/** How long ago `iso` was at `now` (`3m ago`), `never` without a time. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return 'unknown';
  return `${span(Math.max(0, (now - at) / 1000))} ago`;
}

/** Time left until `iso` (`in 20m`), or how long it is overdue (`20m overdue`). */
export function until(iso: string, now: number): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  return seconds >= 0 ? `in ${span(seconds)}` : `${span(seconds)} overdue`;
}

/** A time in the project's zone, short: `Mar 2, 09:30`. Falls back to UTC for an unknown zone. */
export function formatTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  };
  try {
    return new Intl.DateTimeFormat('en-US', { ...options, ...(timeZone ? { timeZone } : {}) }).format(date);
  } catch {
    return new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' }).format(date);
  }
}

export const STATUS_LABEL: Record<string, string> = {
  todo: 'To do',
  in_progress: 'In progress',
  in_review: 'In review',
  done: 'Done',
};

/** A text mark for each status, so a status is never shown by colour alone. */
export const STATUS_ICON: Record<string, string> = {
  todo: '○',
  in_progress: '◐',
  in_review: '◑',
  done: '●',
  blocked: '⊘',
  active: '▶',
  idle: '⏸',
  down: '✖',
  green: '✓',
  yellow: '!',
  red: '✖',
};

/**
 * The link to a JIRA issue on the plan's site (`https://acme.atlassian.net` + `/browse/PAY-7`), or
 * undefined without a site or for anything that is not an http(s) URL (never a `javascript:` link).
 */
export function jiraUrl(site: string | undefined, key: string | null | undefined): string | undefined {
  if (!site || !key) return undefined;
  let base: URL;
  try {
    base = new URL(/^[a-z]+:\/\//i.test(site) ? site : `https://${site}`);
  } catch {
    return undefined;
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') return undefined;
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/browse/${encodeURIComponent(key)}`;
}
