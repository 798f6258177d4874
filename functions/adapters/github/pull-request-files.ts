import type { Octokit } from '@octokit/rest';
import { IntegrationError } from '../../core/integrations/model.js';
import type { PullRequestFiles } from '../../core/ports.js';

export interface PullRequestFilesOptions {
  /**
   * The GitHub token (`CONVOY_GITHUB_TOKEN`), read when a listing is asked for so a rotated secret is
   * picked up; none means nothing is listed. Needs read access to pull requests: fine-grained
   * "Pull requests: read", or classic `repo` (`public_repo` for public repositories only).
   */
  readonly token: () => Promise<string | undefined>;
  /** GitHub's REST API (tests point it at a local stand-in). @default https://api.github.com */
  readonly baseUrl?: string;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
}

/** GitHub's page size for `pulls.listFiles`, at most 100. */
const PER_PAGE = 100;

/**
 * A pull request's files through Octokit's `pulls.listFiles`, page by page along GitHub's `Link`
 * headers until `max` paths (GitHub itself stops at 3,000 files). A renamed file gives both its names.
 * Failures become `IntegrationError`s: 429 and 5xx (and network errors) retryable, other 4xx not.
 */
export class OctokitPullRequestFiles implements PullRequestFiles {
  private client: { token: string; octokit: Octokit } | undefined;

  constructor(private readonly options: PullRequestFilesOptions) {}

  async list(
    pull: { readonly owner: string; readonly repo: string; readonly number: number },
    max: number,
  ): Promise<{ paths: string[]; truncated: boolean } | undefined> {
    const octokit = await this.octokit();
    if (!octokit) return undefined;
    const paths: string[] = [];
    let truncated = false;
    try {
      for await (const page of octokit.paginate.iterator(octokit.rest.pulls.listFiles, {
        owner: pull.owner,
        repo: pull.repo,
        pull_number: pull.number,
        per_page: PER_PAGE,
      })) {
        for (const file of page.data) {
          const names = file.previous_filename ? [file.filename, file.previous_filename] : [file.filename];
          for (const name of names) {
            if (paths.length >= max) {
              truncated = true;
              break;
            }
            paths.push(name);
          }
        }
        if (truncated) break;
      }
    } catch (error) {
      throw asIntegrationError(error, `listing the files of ${pull.owner}/${pull.repo}#${pull.number}`);
    }
    return { paths, truncated };
  }

  private async octokit(): Promise<Octokit | undefined> {
    const token = await this.options.token();
    if (!token) return undefined;
    if (this.client?.token !== token) {
      // Imported on the first listing: `convoy dev` and the other handlers start without Octokit.
      const { Octokit } = await import('@octokit/rest');
      this.client = {
        token,
        octokit: new Octokit({
          auth: token,
          userAgent: 'convoy',
          ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl.replace(/\/+$/, '') } : {}),
          request: { timeout: this.options.timeoutMs ?? 10_000 },
          // Octokit logs failed requests to the console by default; the worker logs what matters.
          log: {
            debug: () => undefined,
            info: () => undefined,
            warn: () => undefined,
            error: () => undefined,
          },
        }),
      };
    }
    return this.client.octokit;
  }
}

function asIntegrationError(error: unknown, what: string): IntegrationError {
  const status =
    error && typeof error === 'object' && typeof (error as { status?: unknown }).status === 'number'
      ? (error as { status: number }).status
      : undefined;
  const headers = (error as { response?: { headers?: Record<string, unknown> } })?.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  // GitHub answers a rate limit with 403 (or 429) and says so in its headers: that one passes.
  const limited =
    status === 403 && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined);
  const retryable = status === undefined || status === 429 || status >= 500 || limited;
  const reason =
    status === undefined ? (error instanceof Error ? error.message : String(error)) : `HTTP ${status}`;
  return new IntegrationError(
    `GitHub refused ${what}: ${reason}${!retryable && (status === 401 || status === 403 || status === 404) ? ' (check CONVOY_GITHUB_TOKEN: it needs "Pull requests: read" on the repository)' : ''}`,
    retryable,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    status,
    { cause: error },
  );
}
