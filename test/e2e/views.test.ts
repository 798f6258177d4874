import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { convoy } from '../support/cli.js';
import { until } from '../support/wait.js';
import {
  type AxeViolation,
  axeViolations,
  NARROW,
  navigate,
  ROOT,
  screenshot,
  useE2e,
  VIEWS,
  viewShown,
  WIDE,
} from './support/dashboard.js';

const PLAN = join(ROOT, 'examples', 'sprint-20-23.yaml');
const e2e = useE2e(PLAN);
const path = (rest: string) => `/v1/plans/${e2e.project}${rest}`;

beforeAll(async () => {
  // A convoy under way, so that every view has something to show: work started, done and blocked, a
  // gate waiting for a decision, an open escalation and a metric's values.
  const admin = async (method: string, rest: string, body?: unknown) => {
    const answer = await e2e.api(method, path(rest), body === undefined ? {} : { body });
    if (answer.status >= 300)
      throw new Error(`${method} ${rest}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  for (const to of ['in_progress', 'done'])
    await admin('POST', '/tasks/grpc-proto-design/transitions', { to });
  await admin('POST', '/tasks/ai-prediction-caching/transitions', { to: 'in_progress' });
  await admin('POST', '/tasks/bridge-oracle-design/blocker', {
    reason: 'waiting for the oracle vendor’s API keys',
  });
  for (const value of [62, 58, 55]) await admin('POST', '/metrics', { name: 'coverage.integration', value });
  await admin('POST', '/gates/sprint-20/evaluate');
  await until(
    async () =>
      (await e2e.api<{ gates: { gate: string; status: string }[] }>('GET', path('/gates'))).body.gates.some(
        (g) => g.gate === 'sprint-20' && g.status === 'awaiting-decision',
      ),
    { timeoutMs: 60_000 },
  );
});

/** Uncaught errors, console errors and Content-Security-Policy refusals of a page, as they happen. */
function problemsOf(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return problems;
}

const summary = (violations: readonly AxeViolation[]) =>
  violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(', ')}`);

describe('the plan graph', () => {
  it('highlights exactly the critical path that convoy plan --json computes', async () => {
    // Prepare
    const cli = await convoy('plan', PLAN, '--json');
    const { criticalPath } = JSON.parse(cli.stdout) as { criticalPath: string[] };

    // Act
    const page = await e2e.signedIn(e2e.dev.tokens.admin, '/graph');
    const nodes = page.locator('svg g[data-task-id]');
    await nodes.first().waitFor();
    const highlighted = await page
      .locator('svg g[data-task-id][data-critical="true"]')
      .evaluateAll((found) => found.map((node) => node.getAttribute('data-task-id')));

    // Assess
    expect(cli.code).toBe(0);
    expect(criticalPath.length).toBeGreaterThan(1);
    expect(highlighted.sort()).toEqual([...criticalPath].sort());
    expect(await nodes.count()).toBeGreaterThan(criticalPath.length);
  });

  it('tells what a selected task waits for and what it unblocks', async () => {
    // Prepare
    const page = await e2e.signedIn(e2e.dev.tokens.admin, '/graph');

    // Act: by keyboard, as the nodes are focusable buttons.
    await page.locator('svg g[data-task-id="grpc-services"]').focus();
    await page.keyboard.press('Enter');
    const selection = page.getByRole('complementary', { name: 'Task grpc-services' });
    await selection.waitFor();

    // Assess
    const text = await selection.textContent();
    expect(text).toContain('Depends on: grpc-proto-design');
    expect(text).toMatch(/Unblocks: [^\n]*grpc-gateway/);
  });
});

describe('every view', () => {
  it('the sign-in screen has no serious or critical accessibility violation', async () => {
    const page = await e2e.page();
    const problems = problemsOf(page);
    await page.goto(`${e2e.url}/`);
    await viewShown(page, 'signin');

    expect(summary(await axeViolations(page))).toEqual([]);
    await page.setViewportSize(NARROW);
    expect(summary(await axeViolations(page))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it.each(VIEWS)(
    '%s: renders under the strict CSP with no error, and axe-core finds no serious or critical violation at 1280 or 390 px',
    async (route, view) => {
      for (const viewport of [WIDE, NARROW]) {
        // Prepare: signed in on the home view, then moved to the view through the navigation.
        const page = await e2e.signedIn(e2e.dev.tokens.admin, '/', viewport);
        const problems = problemsOf(page);
        if (route !== '/') await navigate(page, route);
        await page.waitForLoadState('networkidle');

        // Act
        const violations = await axeViolations(page);
        await screenshot(page, view);
        const scrollWidth = await page.evaluate(
          () =>
            (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
              .documentElement.scrollWidth,
        );

        // Assess
        expect(summary(violations), `${viewport.width} px`).toEqual([]);
        expect(problems, `${viewport.width} px`).toEqual([]);
        // Readable: the page does not scroll sideways (wide tables and the graph scroll in their own box).
        expect(scrollWidth, `${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
        await page.context().close();
      }
    },
  );

  it('keeps the Progress charts inside the page when the window narrows after they were drawn', async () => {
    // Prepare: drawn at 1280 px.
    const page = await e2e.signedIn(e2e.dev.tokens.admin, '/', WIDE);
    await navigate(page, '/progress');
    await page.waitForLoadState('networkidle');

    // Act: the window narrows to a phone's width.
    await page.setViewportSize(NARROW);
    await page.waitForTimeout(500);
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth,
    );

    // Assess
    expect(scrollWidth).toBeLessThanOrEqual(NARROW.width);
    await page.context().close();
  });
});
