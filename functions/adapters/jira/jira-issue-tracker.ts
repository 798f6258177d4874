import type { Version3Models } from 'jira.js';
import { BaseClient } from 'jira.js/clients/baseClient';
import { IssueComments } from 'jira.js/version3/issueComments';
import { IssueRemoteLinks } from 'jira.js/version3/issueRemoteLinks';
import { IssueSearch } from 'jira.js/version3/issueSearch';
import { Issues } from 'jira.js/version3/issues';
import { IssueWorklogs } from 'jira.js/version3/issueWorklogs';
import { IntegrationError, type NewIssue, type RemoteLink } from '../../core/integrations/model.js';
import type { Clock, IssueTracker } from '../../core/ports.js';

export interface JiraIssueTrackerOptions {
  /**
   * The JIRA site, e.g. `https://example.atlassian.net`: the plan's `integrations.jira.site`, or
   * `CONVOY_JIRA_BASE_URL` where that is set (tests, self-hosted endpoints).
   */
  readonly baseUrl: string;
  /** The JIRA user's email (basic auth with an API token). */
  readonly email: string;
  readonly apiToken: string;
  /**
   * Gives up on a request after this long; the error is retryable, so the outbox tries again later.
   * @default 10_000
   */
  readonly timeoutMs?: number;
  /** Dates worklogs and turns a `Retry-After` date into a wait. @default the system clock */
  readonly clock?: Clock;
}

/** JIRA's limits on what Convoy writes, from Atlassian's REST API documentation. */
const MAX_GLOBAL_ID = 255;
const MAX_LINK_TITLE = 255;
const MAX_TEXT = 32_000;
const MAX_SUMMARY = 255;
const MAX_LABEL = 255;

/** axios codes for a request that was never sent because of its own configuration: retrying cannot help. */
const CONFIGURATION_ERRORS = new Set([
  'ERR_BAD_OPTION',
  'ERR_BAD_OPTION_VALUE',
  'ERR_INVALID_URL',
  'ERR_NOT_SUPPORT',
  'ERR_CANCELED',
]);

/**
 * jira.js's Version3Client with only the five API groups Convoy calls: the full client builds all ~80
 * of them, which put 150 KB more into the JIRA worker's bundle than these.
 */
class JiraClient extends BaseClient {
  readonly issues = new Issues(this);
  readonly issueComments = new IssueComments(this);
  readonly issueRemoteLinks = new IssueRemoteLinks(this);
  readonly issueSearch = new IssueSearch(this);
  readonly issueWorklogs = new IssueWorklogs(this);
}

/**
 * The `IssueTracker` port on JIRA Cloud's REST API v3 through jira.js. Each method makes one or two
 * requests and never retries on its own (jira.js and axios do not either): the outbox worker owns
 * retries and the rate limit, guided by the `IntegrationError` this adapter throws.
 */
export class JiraIssueTracker implements IssueTracker {
  private readonly client: JiraClient;
  private readonly clock: Clock;
  private readonly origin: string;
  /** Strings that must never leave this adapter in an error message. */
  private readonly secrets: string[];

  constructor(options: JiraIssueTrackerOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.origin = originOf(options.baseUrl);
    this.client = new JiraClient({
      host: options.baseUrl,
      authentication: { basic: { email: options.email, apiToken: options.apiToken } },
      baseRequestConfig: { timeout: options.timeoutMs ?? 10_000 },
    });
    this.secrets = [
      options.apiToken,
      Buffer.from(`${options.email}:${options.apiToken}`).toString('base64'),
      options.email,
    ].filter((s) => s.length >= 4);
  }

  /**
   * Reads the issue's status and its transitions in one request (`expand=transitions`), then takes
   * the transition whose target status has the wanted name: transition ids differ between workflows.
   */
  async transition(issue: string, status: string): Promise<'moved' | 'already'> {
    const read = await this.call(`reading the status and transitions of ${issue}`, issue, () =>
      this.client.issues.getIssue({
        issueIdOrKey: pathPart(issue),
        fields: ['status'],
        expand: 'transitions',
      }),
    );
    const current = read.fields?.status?.name;
    if (typeof current === 'string' && sameName(current, status)) return 'already';
    const transitions = read.transitions ?? [];
    // By the status it leads to (the plan's status map), else by the transition's own name or a
    // prefix of it, as Atlassian resolves smart commits (`#resolve`, `#start-review`).
    const byName = (t: (typeof transitions)[number]) => sameName(t.name, status);
    const byPrefix = (t: (typeof transitions)[number]) =>
      typeof t.name === 'string' && t.name.toLowerCase().startsWith(status.toLowerCase());
    const chosen =
      transitions.find((t) => sameName(t.to?.name, status) && t.isAvailable !== false && t.id) ??
      transitions.find((t) => sameName(t.to?.name, status) && t.id) ??
      transitions.find((t) => byName(t) && t.id) ??
      transitions.find((t) => byPrefix(t) && t.id);
    if (chosen?.id === undefined) {
      const targets = [...new Set(transitions.map((t) => t.to?.name).filter((n) => typeof n === 'string'))];
      throw new IntegrationError(
        `JIRA issue ${issue} cannot move to status "${status}": no transition from its status` +
          `${typeof current === 'string' ? ` "${current}"` : ''} leads there. Available target statuses: ` +
          `${targets.length > 0 ? targets.map((t) => `"${t}"`).join(', ') : 'none (the JIRA user may lack the Transition issues permission)'}. ` +
          'Check integrations.jira.statuses in the plan against the JIRA workflow.',
        false,
      );
    }
    const id = chosen.id;
    await this.call(`moving ${issue} to "${status}"`, issue, () =>
      this.client.issues.doTransition({ issueIdOrKey: pathPart(issue), transition: { id } }),
    );
    return 'moved';
  }

  /** JIRA updates the link that has the same `globalId` instead of adding a second one. */
  async upsertRemoteLink(issue: string, link: RemoteLink): Promise<void> {
    if (link.globalId.length === 0 || link.globalId.length > MAX_GLOBAL_ID) {
      throw new IntegrationError(
        `Cannot link ${link.url} to JIRA issue ${issue}: the link's globalId must have 1 to ${MAX_GLOBAL_ID} characters, it has ${link.globalId.length}`,
        false,
      );
    }
    await this.call(`linking ${link.url} to ${issue}`, issue, () =>
      this.client.issueRemoteLinks.createOrUpdateRemoteIssueLink({
        issueIdOrKey: pathPart(issue),
        globalId: link.globalId,
        object: {
          url: link.url,
          title: truncate(link.title, MAX_LINK_TITLE),
          ...(link.summary === undefined ? {} : { summary: link.summary }),
          status: { resolved: link.resolved ?? false },
        },
      }),
    );
  }

  async addComment(issue: string, body: string): Promise<void> {
    if (body.trim() === '') {
      throw new IntegrationError(`Cannot comment on JIRA issue ${issue}: the comment is empty`, false);
    }
    await this.call(`commenting on ${issue}`, issue, () =>
      this.client.issueComments.addComment({ issueIdOrKey: pathPart(issue), comment: adfDocument(body) }),
    );
  }

  async addWorklog(issue: string, seconds: number, comment?: string): Promise<void> {
    if (!Number.isInteger(seconds) || seconds <= 0) {
      throw new IntegrationError(
        `Cannot log work on JIRA issue ${issue}: the time spent must be a positive whole number of seconds, got ${seconds}`,
        false,
      );
    }
    await this.call(`logging work on ${issue}`, issue, () =>
      this.client.issueWorklogs.addWorklog({
        issueIdOrKey: pathPart(issue),
        timeSpentSeconds: seconds,
        started: jiraTime(this.clock.now()),
        ...(comment === undefined || comment.trim() === '' ? {} : { comment: adfDocument(comment) }),
      }),
    );
  }

  /**
   * Looks for the issue with the label first and creates one only when there is none, so a retry
   * after a lost answer finds the first attempt's issue. The search is JQL through
   * `POST /rest/api/3/search/jql` (the older `/rest/api/3/search` is gone from JIRA Cloud). Atlassian
   * calls its results eventually consistent; the outbox tries a failed command again on a later drain,
   * which normally gives the search time to see an issue the lost attempt made.
   */
  async createIssue(issue: NewIssue): Promise<{ key: string; created: boolean }> {
    const { project, type, label } = issue;
    const refuse = (why: string) =>
      new IntegrationError(`Cannot create a ${type} in JIRA project ${project}: ${why}`, false);
    if (label.length === 0 || label.length > MAX_LABEL || /\s/.test(label)) {
      throw refuse(`its label must have 1 to ${MAX_LABEL} characters and no spaces, got "${label}"`);
    }
    const summary = truncate(issue.summary.replace(/\s+/g, ' ').trim(), MAX_SUMMARY);
    if (summary === '') throw refuse('the summary is empty');
    const hints = projectHints(project);
    const found = await this.call(`looking for the issue labelled ${label}`, hints, () =>
      this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
        jql: `labels = ${jqlString(label)} ORDER BY created ASC`,
        fields: ['summary'],
        maxResults: 1,
      }),
    );
    const existing = found.issues?.[0];
    const existingKey = existing?.key ?? existing?.id;
    if (existingKey !== undefined) return { key: existingKey, created: false };
    const created = await this.call(`creating a ${type} in ${project}`, hints, () =>
      this.client.issues.createIssue({
        fields: {
          project: { key: project },
          issuetype: { name: type },
          summary,
          description: adfDocument(issue.description),
          labels: [label],
        },
      }),
    );
    return { key: created.key, created: true };
  }

  private async call<T>(action: string, about: string | Hints, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.classify(error, action, typeof about === 'string' ? issueHints(about) : about);
    }
  }

  /** Turns what jira.js throws (an HttpException around an axios error, or an axios error) into an IntegrationError. */
  private classify(error: unknown, action: string, hints: Hints): IntegrationError {
    const axios = axiosErrorOf(error);
    const response = axios?.response;
    if (response !== undefined && typeof response.status === 'number') {
      const status = response.status;
      const said = this.redact(whatJiraSaid(response.data, response.statusText));
      const retryAfterMs = parseRetryAfter(headerOf(response.headers, 'retry-after'), this.clock.now());
      const wait = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
      if (status === 429) {
        return new IntegrationError(
          `JIRA rate-limited ${action} (HTTP 429${wait}): ${said}`,
          true,
          retryAfterMs,
          status,
        );
      }
      if (status >= 500 || status === 408) {
        return new IntegrationError(
          `JIRA failed ${action} (HTTP ${status}${wait}): ${said}`,
          true,
          retryAfterMs,
          status,
        );
      }
      const hint =
        status === 401 ? ' Check CONVOY_JIRA_EMAIL and CONVOY_JIRA_API_TOKEN.' : (hints[status] ?? '');
      return new IntegrationError(
        `JIRA rejected ${action} (HTTP ${status}): ${sentence(said)}${hint}`,
        false,
        undefined,
        status,
      );
    }
    const code = axios?.code ?? codeOf(error);
    const message = this.redact(error instanceof Error ? error.message : String(error));
    if (axios !== undefined ? !CONFIGURATION_ERRORS.has(code ?? '') : isNetworkCode(code)) {
      return new IntegrationError(
        `No answer from JIRA at ${this.origin} while ${action} (${code ?? 'network error'}: ${message})`,
        true,
      );
    }
    return new IntegrationError(`JIRA request failed while ${action}: ${message}`, false);
  }

  private redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  }
}

/** What to add to JIRA's answer for a refusal, by HTTP status. */
type Hints = Readonly<Partial<Record<number, string>>>;

function issueHints(issue: string): Hints {
  return {
    403: ` The JIRA user needs permission for ${issue}'s project.`,
    404: ` Check that ${issue} exists and that the JIRA user can browse its project.`,
  };
}

function projectHints(project: string): Hints {
  const plan = ` Check the escalation rule's jira.project and jira.type in the plan against JIRA project ${project}.`;
  return {
    400: plan,
    403: ` The JIRA user needs the Browse projects and Create issues permissions in ${project}.`,
    404: plan,
  };
}

/** A JQL string literal: quoted, with quotes and backslashes escaped. */
function jqlString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Plain text as an Atlassian Document Format document, which API v3 requires for comments:
 * blank lines separate paragraphs, single line breaks become hard breaks.
 */
export function adfDocument(text: string): Version3Models.Document {
  const paragraphs = truncate(text, MAX_TEXT)
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.split('\n').filter((line) => line.length > 0))
    .filter((lines) => lines.length > 0);
  const content = paragraphs.map((lines) => ({
    type: 'paragraph',
    content: lines.flatMap((line, index) => [
      ...(index === 0 ? [] : [{ type: 'hardBreak' }]),
      { type: 'text', text: line },
    ]),
  }));
  return {
    type: 'doc',
    version: 1,
    content: content.length > 0 ? content : [{ type: 'paragraph', content: [] }],
  } as Version3Models.Document;
}

/** Milliseconds to wait from a `Retry-After` header: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now: Date): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

interface AxiosLike {
  readonly isAxiosError: true;
  readonly code?: string;
  readonly response?: {
    readonly status?: number;
    readonly statusText?: string;
    readonly headers?: unknown;
    readonly data?: unknown;
  };
}

function isAxiosLike(value: unknown): value is AxiosLike {
  return (
    typeof value === 'object' && value !== null && (value as { isAxiosError?: unknown }).isAxiosError === true
  );
}

/** jira.js throws the axios error itself for network failures and wraps it (as `cause`) for HTTP errors. */
function axiosErrorOf(error: unknown): AxiosLike | undefined {
  if (isAxiosLike(error)) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return isAxiosLike(cause) ? cause : undefined;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isNetworkCode(code: string | undefined): boolean {
  return (
    code !== undefined &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND'].includes(
      code,
    )
  );
}

function headerOf(headers: unknown, name: string): unknown {
  if (headers === null || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') return (get as (n: string) => unknown).call(headers, name);
  return (headers as Record<string, unknown>)[name];
}

/** JIRA's error collection (`errorMessages` and `errors` by field) or a short version of any other body. */
function whatJiraSaid(data: unknown, statusText: string | undefined): string {
  if (data !== null && typeof data === 'object') {
    const { errorMessages, errors } = data as { errorMessages?: unknown; errors?: unknown };
    const messages = Array.isArray(errorMessages) ? errorMessages.map(String) : [];
    if (errors !== null && typeof errors === 'object') {
      for (const [field, message] of Object.entries(errors)) messages.push(`${field}: ${String(message)}`);
    }
    if (messages.length > 0) return truncate(messages.join('; '), 600);
  }
  if (typeof data === 'string' && data.trim() !== '') {
    return truncate(
      data
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
      300,
    );
  }
  return statusText || 'no details';
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** jira.js puts the key into the path as it is; a key is letters, digits and a dash, but be safe. */
function pathPart(issue: string): string {
  return encodeURIComponent(issue);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** JIRA's date-time format for a worklog's `started`: milliseconds and a `+0000` offset, not `Z`. */
function jiraTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
