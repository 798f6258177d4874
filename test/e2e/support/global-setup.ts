import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The dashboard built from this checkout's dashboard/ for this run (index.html and assets/). */
    dashboardDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

/**
 * Builds the dashboard once for the end-to-end tests, from the sources as they are now, into a folder
 * of this run (`npm test` does not run `npm run build`, and a dist/dashboard left from an earlier build
 * would test old code). Screenshots go to test-artifacts/, which git ignores.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const outDir = mkdtempSync(join(tmpdir(), 'convoy-e2e-dashboard-'));
  const { build } = await import('vite');
  await build({
    configFile: join(ROOT, 'dashboard', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  project.provide('dashboardDir', outDir);
  return () => rmSync(outDir, { recursive: true, force: true });
}
