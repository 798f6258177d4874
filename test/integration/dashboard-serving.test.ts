import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevRuntime, startDev } from '../../functions/local/dev-runtime.js';
import { startLocalApi } from '../../functions/local/http-server.js';
import { DASHBOARD_CSP } from '../../functions/local/static-files.js';
import { MINIMAL_PLAN } from '../fixtures/plans.js';
import { tempDir } from '../support/temp.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The status of a GET of `path` exactly as written, without the URL normalisation fetch does. */
const rawStatus = (base: string, path: string) =>
  new Promise<number>((resolve, reject) => {
    const { hostname, port } = new URL(base);
    request({ host: hostname, port, path, method: 'GET' }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });

const INDEX =
  '<!doctype html><title>Convoy</title><script type="module" src="/assets/index-Ab12Cd.js"></script>';
const SCRIPT = 'console.log("dashboard");';

/** A built dashboard as Vite writes it: index.html and content-hashed assets. */
function builtDashboard(): string {
  const dir = tempDir('convoy-dashboard-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-Ab12Cd.js'), SCRIPT);
  writeFileSync(join(dir, 'assets', 'index-Ef34Gh.css'), 'body{margin:0}');
  return dir;
}

describe('convoy dev serves the dashboard beside the API', () => {
  let runtime: DevRuntime;
  beforeAll(async () => {
    const ws = tempDir('convoy-dev-dashboard-');
    const planFile = join(ws, 'plan.yaml');
    writeFileSync(planFile, MINIMAL_PLAN);
    runtime = await startDev({
      planFile,
      port: await freePort(),
      dataDir: join(ws, 'data'),
      stateDir: join(ws, '.convoy'),
      dashboardDir: builtDashboard(),
      log: () => undefined,
    });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('answers / with index.html, revalidated, under the strict CSP and the security headers', async () => {
    const response = await fetch(`${runtime.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    expect(await response.text()).toBe(INDEX);
    expect(runtime.dashboard.built).toBe(true);
  });

  it('serves a hashed asset with its content type, cached for good', async () => {
    const script = await fetch(`${runtime.url}/assets/index-Ab12Cd.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe(SCRIPT);
    const style = await fetch(`${runtime.url}/assets/index-Ef34Gh.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers a client route (/board, /gates) with index.html, and a missing file with 404', async () => {
    for (const path of ['/board', '/gates', '/escalations?status=open']) {
      const response = await fetch(`${runtime.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-security-policy'), path).toBe(DASHBOARD_CSP);
      expect(await response.text(), path).toBe(INDEX);
    }
    const missing = await fetch(`${runtime.url}/assets/index-gone.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    // Sent as is (fetch would normalise the dots away): an encoded way out of the folder is refused.
    for (const raw of [
      '/..%2f..%2fpackage.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
    ])
      expect(await rawStatus(runtime.url, raw), raw).toBe(404);
  });

  it('still serves the API: health, a project route with a token, and JSON 404s under /v1', async () => {
    const health = await fetch(`${runtime.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const status = await fetch(`${runtime.url}/v1/plans/${runtime.project}/status`, {
      headers: { authorization: `Bearer ${runtime.tokens.admin}` },
    });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ project: runtime.project });
    const unknown = await fetch(`${runtime.url}/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/json');
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
    const post = await fetch(`${runtime.url}/board`, { method: 'POST' });
    expect(post.status).toBe(404);
  });
});

describe('the local server without a built dashboard', () => {
  it('answers / with a page saying to run npm run build, and keeps serving the API', async () => {
    const server = await startLocalApi({
      port: 0,
      handlers: new Proxy({} as Parameters<typeof startLocalApi>[0]['handlers'], {
        get: () => async () => ({ statusCode: 200, body: '{"status":"ok"}' }),
      }),
      log: () => undefined,
      dashboardDir: join(tempDir('convoy-no-dashboard-'), 'dist', 'dashboard'),
    });
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(503);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      expect(await page.text()).toContain('npm run build');
      const health = await fetch(`${server.url}/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      await server.close();
    }
  });
});
