import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run; each test file creates its own table.
    globalSetup: ['test/setup/dynamodb-local.ts'],
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    // Generous: tests that wait on background work (DynamoDB Local, workflows) must not flake on a loaded
    // machine; speed is measured in bench/, never here.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // CDK synthesis and property tests are CPU-heavy; two workers match the two-core machines CI runs on.
    maxWorkers: 2,
    pool: 'forks',
  },
});
