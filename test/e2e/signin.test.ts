import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, screenshots, useE2e, viewShown } from './support/dashboard.js';

const e2e = useE2e(join(ROOT, 'examples', 'sprint-20-23.yaml'));

const storedToken = (page: import('playwright-core').Page) =>
  page.evaluate(() => sessionStorage.getItem('convoy.token'));

describe('signing in to the dashboard', () => {
  it('signs a person in with a pasted token, and keeps the token in this tab only', async () => {
    // Prepare
    const pm = e2e.dev.tokens.people.pm as string;
    const page = await e2e.page();
    await page.goto(`${e2e.url}/`);
    await viewShown(page, 'signin');
    await screenshots(page, 'signin');

    // Act
    await page.getByLabel('Token', { exact: true }).fill(`Bearer ${pm}`);
    await page.getByLabel(/^Project/).fill(e2e.project);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await viewShown(page, 'attention');

    // Assess
    expect(await page.locator('header [data-project]').getAttribute('data-project')).toBe(e2e.project);
    expect(await storedToken(page)).toBe(pm);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });

  it('signs the admin in from the URL fragment and takes the token out of the address bar at once', async () => {
    // Act
    const page = await e2e.signedIn(e2e.dev.tokens.admin, '/board');

    // Assess
    expect(page.url()).toBe(`${e2e.url}/board`);
    expect(await storedToken(page)).toBe(e2e.dev.tokens.admin);
    expect(await page.locator('header .who').textContent()).toBe('admin');
  });

  it('signs out: back to the sign-in screen, the token gone from storage, and still signed out after a reload', async () => {
    // Prepare
    const page = await e2e.signedIn(e2e.dev.tokens.people.pm as string, '/');

    // Act
    await page.getByRole('button', { name: 'Sign out' }).click();
    await viewShown(page, 'signin');
    const message = await page
      .locator('[data-view="signin"] p.info, [data-view="signin"] [role="alert"]')
      .textContent();
    await page.reload();
    await viewShown(page, 'signin');

    // Assess
    expect(message).toContain('You signed out.');
    expect(await storedToken(page)).toBeNull();
  });

  it('refuses a bad token with a clear message and stays on the sign-in screen', async () => {
    // Prepare
    const page = await e2e.page();
    await page.goto(`${e2e.url}/`);
    await viewShown(page, 'signin');

    // Act
    await page.getByLabel('Token', { exact: true }).fill('cvy_not-a-real-token');
    await page.getByLabel(/^Project/).fill(e2e.project);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('[data-view="signin"] [role="alert"]');
    await alert.waitFor();

    // Assess
    expect(await alert.textContent()).toMatch(/^That token was refused: .+/);
    expect(await page.locator('[data-view="signin"]').count()).toBe(1);
    expect(await storedToken(page)).toBeNull();
    await screenshots(page, 'signin-refused');
  });

  it('returns to the sign-in screen with the reason when the token is revoked while the dashboard is open', async () => {
    // Prepare: a person token of its own, so revoking it signs nobody else out.
    const made = await e2e.api<{ token: string; id: string }>(
      'POST',
      `/v1/plans/${e2e.project}/people/qa-lead/tokens`,
    );
    const page = await e2e.signedIn(made.body.token, '/board');

    // Act: the next poll is refused.
    const revoked = await e2e.api('DELETE', `/v1/plans/${e2e.project}/tokens/${made.body.id}`);
    await viewShown(page, 'signin', 30_000);
    const alert = await page.locator('[data-view="signin"] [role="alert"]').textContent();

    // Assess
    expect(made.status).toBe(201);
    expect(revoked.status).toBe(200);
    expect(alert).toMatch(/^The API refused the token \(.+\)\. Sign in again\.$/);
    expect(await storedToken(page)).toBeNull();
  });
});
