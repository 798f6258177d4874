import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OctokitPullRequestFiles } from '../../functions/adapters/github/pull-request-files.js';
import { IntegrationError } from '../../functions/core/integrations/model.js';

/**
 * A local stand-in of GitHub's REST API for `GET /repos/{owner}/{repo}/pulls/{number}/files`: 250
 * files of PR 7 over pages of `per_page`, with the `Link` headers GitHub sends; PR 8 renames a file;
 * PR 500 fails with 502, PR 403 is refused, PR 429 is rate limited.
 */
let server: Server;
let baseUrl: string;
const seen: { url: string; authorization: string | undefined }[] = [];

const FILES = Array.from({ length: 250 }, (_, i) => ({
  sha: `${i}`,
  filename: `src/file-${String(i).padStart(3, '0')}.ts`,
  status: 'modified',
}));

function answer(request: IncomingMessage): {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
} {
  const url = new URL(request.url ?? '/', baseUrl);
  const match = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/.exec(url.pathname);
  if (!match) return { status: 404, body: { message: 'Not Found' } };
  const number = Number(match[3]);
  if (number === 500) return { status: 502, body: { message: 'Bad Gateway' } };
  if (number === 403) return { status: 403, body: { message: 'Resource not accessible by integration' } };
  if (number === 429) return { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '7' } };
  const files =
    number === 8
      ? [
          {
            sha: 'r',
            filename: 'db/migrations/0002.sql',
            previous_filename: 'db/0002.sql',
            status: 'renamed',
          },
        ]
      : FILES;
  const perPage = Number(url.searchParams.get('per_page') ?? 30);
  const page = Number(url.searchParams.get('page') ?? 1);
  const last = Math.max(1, Math.ceil(files.length / perPage));
  const link = (p: number, rel: string) => {
    const next = new URL(url);
    next.searchParams.set('page', String(p));
    return `<${next.href}>; rel="${rel}"`;
  };
  const links = [
    ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
    ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
  ];
  return {
    status: 200,
    body: files.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const { status, body, headers } = answer(request);
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const lister = (token: string | undefined = 'ghp_test_token') =>
  new OctokitPullRequestFiles({ token: async () => token, baseUrl });
const tokenless = () => new OctokitPullRequestFiles({ token: async () => undefined, baseUrl });
const pull = (number: number) => ({ owner: 'octo-org', repo: 'convoy', number });

describe('OctokitPullRequestFiles against a stand-in of GitHub', () => {
  it("lists every file of a pull request along GitHub's Link headers, with the token", async () => {
    // Act
    seen.length = 0;
    const files = await lister().list(pull(7), 3000);

    // Assess: 250 files over three pages of 100, asked for with the token.
    expect(files?.truncated).toBe(false);
    expect(files?.paths).toEqual(FILES.map((file) => file.filename));
    expect(seen.map((request) => new URL(request.url, baseUrl).searchParams.get('page') ?? '1')).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(seen.every((request) => request.authorization === 'token ghp_test_token')).toBe(true);
  });

  it('stops at the most paths asked for and says so, without reading further pages', async () => {
    // Act
    seen.length = 0;
    const files = await lister().list(pull(7), 150);

    // Assess
    expect(files?.paths).toHaveLength(150);
    expect(files?.truncated).toBe(true);
    expect(seen).toHaveLength(2);
  });

  it('gives both names of a renamed file', async () => {
    const files = await lister().list(pull(8), 3000);
    expect(files?.paths).toEqual(['db/migrations/0002.sql', 'db/0002.sql']);
  });

  it('lists nothing, and asks nothing, without a token', async () => {
    seen.length = 0;
    expect(await tokenless().list(pull(7), 3000)).toBeUndefined();
    expect(seen).toHaveLength(0);
  });

  it('fails retryably on a 5xx or a rate limit, and for good on a refusal naming the token', async () => {
    const failure = async (number: number) => {
      try {
        await lister().list(pull(number), 3000);
      } catch (error) {
        return error as IntegrationError;
      }
      throw new Error(`PR ${number} was listed`);
    };
    const [bad, refused, limited] = await Promise.all([failure(500), failure(403), failure(429)]);
    expect(bad).toBeInstanceOf(IntegrationError);
    expect(bad.retryable).toBe(true);
    expect(refused.retryable).toBe(false);
    expect(refused.message).toContain('CONVOY_GITHUB_TOKEN');
    expect(refused.message).not.toContain('ghp_test_token');
    expect(limited.retryable).toBe(true);
    expect(limited.retryAfterMs).toBe(7000);
  });
});
