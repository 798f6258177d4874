import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { runScheduledJob } from '../core/rhythm/jobs.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { reportRenderer } from './report-renderer.js';
import { createRunOnceDependencies } from './run-once.js';

/** What an EventBridge Scheduler schedule sends: which plan schedule fired, and for which time. */
export interface ScheduledJobEvent {
  readonly project: string;
  readonly schedule: string;
  /** ISO 8601 UTC; `<aws.scheduler.scheduled-time>` deployed. */
  readonly scheduledTime: string;
}

/**
 * Runs one scheduled job (standup, sync, report, gate-review, weekly-summary) once per fire time.
 * Scheduler invokes asynchronously, so a thrown failure is retried by Lambda and then lands in the
 * function's on-failure queue (`convoy-scheduled-job-failures`, alarmed); the schedule's own
 * dead-letter queue holds only invocations Scheduler could not deliver.
 */
export const makeScheduledJobHandler = (deps: HandlerDependencies) =>
  middy(async (event: ScheduledJobEvent) => {
    const outcome = await runScheduledJob({ ...deps, reports: reportRenderer }, event);
    deps.logger.info(outcome.ran ? 'scheduled job ran' : 'scheduled job skipped', { ...event, ...outcome });
    return outcome;
  }).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeScheduledJobHandler, createRunOnceDependencies);
