/**
 * What Convoy asks of the outside trackers and chat, as data: every JIRA write is a command that goes
 * through the outbox, so it survives outages, honours rate limits and happens once.
 */

export interface RemoteLink {
  /** Makes the link idempotent: JIRA updates the link with the same globalId instead of adding one. */
  readonly globalId: string;
  readonly url: string;
  readonly title: string;
  readonly summary?: string;
  /** Shown struck through in JIRA when resolved (a merged or closed PR). */
  readonly resolved?: boolean;
}

export type JiraCommand =
  | { readonly kind: 'transition'; readonly issue: string; readonly status: string }
  | { readonly kind: 'remote-link'; readonly issue: string; readonly link: RemoteLink }
  | { readonly kind: 'comment'; readonly issue: string; readonly body: string }
  | { readonly kind: 'worklog'; readonly issue: string; readonly seconds: number; readonly comment?: string };

/** A command in the outbox, with what the worker needs to retry it. */
export interface OutboxEntry {
  /** Deterministic (e.g. delivery id + command index), so a redelivered webhook enqueues nothing new. */
  readonly id: string;
  /** The project whose audit trail hears about the command's fate (`sync.failed`). */
  readonly project: string;
  readonly command: JiraCommand;
  /** 0 before the first try. */
  readonly attempts: number;
  /** ISO time when the entry may next be tried. */
  readonly notBefore: string;
  readonly createdAt: string;
  readonly lastError?: string;
}

/** A failure talking to a tracker or chat service, classified for the retry policy. */
export class IntegrationError extends Error {
  constructor(
    message: string,
    /** 429, 5xx and network errors are retryable; 4xx (bad key, no such transition) are not. */
    readonly retryable: boolean,
    /** From a `Retry-After` header, when the service sent one. */
    readonly retryAfterMs?: number,
    /** HTTP status, when there was a response. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'IntegrationError';
  }
}
