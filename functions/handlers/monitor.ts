import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { runMonitor } from '../core/rhythm/run-monitor.js';
import { MONITORS, type MonitorName } from '../core/schedules/index.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';

/** What a monitor schedule sends (fixed rates, every project). */
export interface MonitorEvent {
  readonly monitor: MonitorName;
  readonly scheduledTime?: string;
}

/**
 * Runs a monitor over every project: heartbeats (agent.down / back up, computed metrics, then expired
 * claims and resource leases), stale work.
 */
export const makeMonitorHandler = (deps: HandlerDependencies) =>
  middy(async (event: MonitorEvent) => {
    if (!MONITORS.some((monitor) => monitor.name === event.monitor))
      throw new Error(
        `unknown monitor ${JSON.stringify(event.monitor)}; expected one of ${MONITORS.map((m) => m.name).join(', ')}`,
      );
    const { outcomes, failures } = await runMonitor(deps, event.monitor);
    const down = outcomes.flatMap((outcome) => outcome.down.map((agent) => `${outcome.project}/${agent}`));
    const released = outcomes.flatMap((outcome) =>
      (outcome.released ?? []).map((task) => `${outcome.project}/${task}`),
    );
    const expiredLeases = outcomes.flatMap((outcome) =>
      (outcome.expiredLeases ?? []).map((lease) => `${outcome.project}/${lease}`),
    );
    deps.logger.info('monitor ran', {
      monitor: event.monitor,
      projects: outcomes.length,
      down,
      released,
      expiredLeases,
      failures,
    });
    if (failures.length > 0)
      throw new Error(
        `monitor ${event.monitor} failed for ${failures.map((failure) => failure.project).join(', ')}`,
      );
    return { projects: outcomes.length, down, released, expiredLeases };
  }).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeMonitorHandler);
