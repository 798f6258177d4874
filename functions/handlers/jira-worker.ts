import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { drainOutbox } from '../core/integrations/outbox-worker.js';
import { fromEnvironment } from './dependencies.js';
import { createWorkerDependencies, type WorkerDependencies } from './integrations.js';

/**
 * Drains the outbox (JIRA commands under the site's rate limit, and Slack posts) every minute
 * (EventBridge Scheduler). One drain runs at a time (reserved concurrency 1): overlapping drains
 * would send commands twice.
 */
export const makeJiraWorkerHandler = (deps: WorkerDependencies) =>
  middy(async () => {
    const { drain } = await deps.integrations();
    const report = await drainOutbox(drain, { maxRunMs: 50_000 });
    deps.logger.info('outbox drained', { ...report });
    return report;
  }).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeJiraWorkerHandler, createWorkerDependencies);
