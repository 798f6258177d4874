import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's Content-Security-Policy, the same as the deployed CloudFront response headers policy
 * (docs/dashboard.md): scripts, styles, images and requests from this origin only; inline styles for
 * uPlot's chart sizing; no frames, no <base>, no forms posting elsewhere.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The headers every dashboard response carries, as deployed. */
export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite's content-hashed output: a new build has new names, so these never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and anything unhashed: always revalidated, so a new build shows at once. */
const REVALIDATE = 'no-cache';

/** Paths that belong to the API (answered by the routes table, 404 JSON when unknown), never the dashboard. */
export function isApiPath(pathname: string): boolean {
  return (
    pathname === '/v1' ||
    pathname.startsWith('/v1/') ||
    pathname === '/mcp' ||
    pathname.startsWith('/mcp/') ||
    pathname === '/health' ||
    pathname.startsWith('/webhooks/') ||
    pathname.startsWith('/slack/')
  );
}

/**
 * Where the built dashboard is: `dist/dashboard` of this package, from the sources
 * (functions/local → ../../dist/dashboard), from a chunk of the CLI bundle (dist/chunks → the same) or
 * from its entry (dist/convoy.mjs → ./dashboard). The first that holds an index.html; else the one a
 * build would write.
 */
export function defaultDashboardDir(from: string = import.meta.url): string {
  const candidates = [
    fileURLToPath(new URL('../../dist/dashboard', from)),
    fileURLToPath(new URL('./dashboard', from)),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[0] as string);
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Convoy: dashboard not built</title></head>
<body><main><h1>The Convoy dashboard is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it) and reload this page.
The API is served at <code>/v1/…</code> meanwhile.</p></main></body></html>
`;

function write(
  response: ServerResponse,
  method: string,
  status: number,
  body: string | Buffer,
  headers: Record<string, string>,
) {
  response.writeHead(status, {
    ...DASHBOARD_SECURITY_HEADERS,
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
  });
  response.end(method === 'HEAD' ? undefined : body);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Answers a GET or HEAD of a non-API path from the built dashboard in `dir`: the file when there is
 * one, index.html for a client route (a path without a file extension), 404 for a missing file, and
 * a page saying to build the dashboard when it is not built. Never serves outside `dir`.
 */
export async function serveDashboard(
  dir: string,
  pathname: string,
  method: string,
  response: ServerResponse,
): Promise<void> {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  if (!(await isFile(index))) {
    write(response, method, 503, NOT_BUILT, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    write(response, method, 400, 'not a valid percent-encoded path\n', {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
    });
    return;
  }
  const segments = decoded.split('/').filter((segment) => segment !== '');
  const unsafe = segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'));
  const file = unsafe ? '' : resolve(root, ...segments);
  if (file.startsWith(root + sep) && (await isFile(file))) {
    const body = await readFile(file);
    write(response, method, 200, body, {
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': segments[0] === 'assets' ? IMMUTABLE : REVALIDATE,
    });
    return;
  }
  const last = segments[segments.length - 1] ?? '';
  if (unsafe || extname(last) !== '' || segments[0] === 'assets') {
    write(response, method, 404, `no file ${pathname}\n`, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
    });
    return;
  }
  // A client route (/board, /gates): the app's router draws it.
  write(response, method, 200, await readFile(index), {
    'content-type': CONTENT_TYPES['.html'] as string,
    'cache-control': REVALIDATE,
  });
}
