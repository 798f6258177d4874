import { defineConfig } from 'vitest/config';

// The global setup creates SDK clients in this process too; tests run on Node 20, Lambda on 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run; each test file creates its own table.
    globalSetup: ['test/setup/dynamodb-local.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    testTimeout: 30_000,
    // CDK synthesis and property tests are CPU-heavy; two workers match the two-core machines CI runs on.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
  },
});
