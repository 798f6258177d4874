import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { type DevRuntime, startDev } from '../../../functions/local/dev-runtime.js';
import { tempDir } from '../../support/temp.js';
import { launchChromium } from './chromium.js';

export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from './chromium.js';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
/** Where screenshots go; git ignores it. */
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export const WIDE = { width: 1280, height: 900 } as const;
export const NARROW = { width: 390, height: 844 } as const;

/** Every view of the dashboard: its path and its `data-view`. */
export const VIEWS = [
  ['/', 'attention'],
  ['/board', 'board'],
  ['/graph', 'graph'],
  ['/agents', 'agents'],
  ['/gates', 'gates'],
  ['/escalations', 'escalations'],
  ['/progress', 'progress'],
  ['/activity', 'activity'],
] as const;

export const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/** A running `convoy dev` with the dashboard built for this run, and a headless Chromium. */
export interface E2e {
  readonly dev: DevRuntime;
  readonly browser: Browser;
  readonly url: string;
  readonly project: string;
  /** Calls the REST API as `token` (the admin's by default). */
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown },
  ): Promise<ApiAnswer<T>>;
  /** A fresh browser context (its own sessionStorage) with one page, not signed in. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  /**
   * A fresh page signed in with `token` the way `convoy dashboard` does it: the token in the URL
   * fragment, which the app moves to sessionStorage. Resolves once the view at `path` is shown.
   */
  signedIn(token: string, path?: string, viewport?: { width: number; height: number }): Promise<Page>;
}

/**
 * Starts `convoy dev` on `planFile` (on a free port, with data of its own) and Chromium before the
 * file's tests, and stops both after them whatever happened: no browser, node server or JVM is left.
 */
export function useE2e(planFile: string, options: { start?: string } = {}): E2e {
  let dev: DevRuntime | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const dir = tempDir('convoy-e2e-');
    const lines: string[] = [];
    dev = await startDev({
      planFile,
      port: await freePort(),
      dataDir: join(dir, 'data'),
      stateDir: join(dir, '.convoy'),
      dashboardDir: inject('dashboardDir'),
      ...(options.start ? { start: options.start } : {}),
      log: (line) => lines.push(line),
    });
    if (!dev.dashboard.built) throw new Error(`the dashboard was not built in ${dev.dashboard.dir}`);
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.splice(0).map((context) => context.close()));
    await browser?.close().catch(() => undefined);
    await dev?.stop();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} did not start (see beforeAll)`);
    return value;
  };

  const e2e: E2e = {
    get dev() {
      return need(dev, 'convoy dev');
    },
    get browser() {
      return need(browser, 'Chromium');
    },
    get url() {
      return e2e.dev.url;
    },
    get project() {
      return e2e.dev.project;
    },
    async api<T>(method: string, path: string, { token, body }: { token?: string; body?: unknown } = {}) {
      const response = await fetch(`${e2e.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token ?? e2e.dev.tokens.admin}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
    },
    async page(viewport = WIDE) {
      const context = await e2e.browser.newContext({ viewport });
      contexts.push(context);
      return context.newPage();
    },
    async signedIn(token, path = '/', viewport = WIDE) {
      const page = await e2e.page(viewport);
      const fragment = new URLSearchParams({ token, project: e2e.project });
      await page.goto(`${e2e.url}${path}#${fragment}`);
      await viewShown(page, viewOf(path));
      return page;
    },
  };
  return e2e;
}

/** The `data-view` of a path. */
export function viewOf(path: string): string {
  const found = VIEWS.find(([p]) => p === path.split(/[?#]/)[0]);
  if (!found) throw new Error(`no view at ${path}`);
  return found[1];
}

/** Waits until the view is on the page and done loading (not `aria-busy="true"`). */
export async function viewShown(page: Page, view: string, timeout = 15_000): Promise<void> {
  await page.locator(`[data-view="${view}"]:not([aria-busy="true"])`).waitFor({ timeout });
}

/** Goes to a view through the app's navigation (no reload), and waits until it is shown. */
export async function navigate(page: Page, path: string): Promise<void> {
  const view = viewOf(path);
  await page.getByRole('navigation', { name: 'Views' }).locator(`a[href="${path}"]`).click();
  await viewShown(page, view);
}

/** A full-page screenshot at the page's width, as test-artifacts/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const { width } = page.viewportSize() ?? WIDE;
  await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
}

/** Full-page screenshots at 1280 px and 390 px wide, as test-artifacts/<name>-<width>.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  const original = page.viewportSize() ?? WIDE;
  for (const viewport of [WIDE, NARROW]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${viewport.width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly string[];
}

/**
 * The serious and critical violations axe-core reports on the page as it is now, with its default rules
 * (WCAG 2.x A and AA and best practices; not the experimental ones). axe is evaluated through the
 * DevTools protocol, as a script tag would be refused by the strict CSP the dashboard is served with.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown) => Promise<unknown> } }).axe;
    const result = (await axe.run((globalThis as unknown as { document: unknown }).document)) as {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
