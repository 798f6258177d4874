import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    // Generous: tests that wait on background work (DynamoDB Local, workflows) must not flake on a loaded
    // machine; speed is measured in bench/, never here.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // CDK synthesis and property tests are CPU-heavy; two workers match the two-core machines CI runs on.
    maxWorkers: 2,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/**'],
          // One DynamoDB Local for the whole run; each test file creates its own table.
          globalSetup: ['test/setup/dynamodb-local.ts'],
        },
      },
      {
        // The dashboard in a real headless Chromium against convoy dev (each file starts its own, with
        // its own DynamoDB Local): after every other test, one file at a time, so one Chromium runs at
        // once and the browser does not compete with CDK synthesis for the two cores.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/support/global-setup.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
