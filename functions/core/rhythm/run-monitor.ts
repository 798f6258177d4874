import { expireClaims } from '../coordination/claims.js';
import { expireLeases } from '../coordination/leases.js';
import type { MonitorName } from '../schedules/index.js';
import {
  type MonitorOutcome,
  type MonitorPorts,
  runHeartbeatMonitor,
  runStaleWorkSweep,
} from './monitors.js';

/**
 * The heartbeat monitor, then the claims and resource leases whose time ran out: each minute, so a task
 * whose agent went silent is ready for the next claim within a minute of its lease's end.
 */
async function runHeartbeatsAndExpiries(ports: MonitorPorts, project: string): Promise<MonitorOutcome> {
  const outcome = await runHeartbeatMonitor(ports, project);
  const released = await expireClaims(ports, project);
  const expiredLeases = await expireLeases(ports, project);
  return {
    ...outcome,
    ...(released.length > 0 ? { released } : {}),
    ...(expiredLeases.length > 0 ? { expiredLeases } : {}),
  };
}

const MONITOR_RUNS: Readonly<
  Record<MonitorName, (ports: MonitorPorts, project: string) => Promise<MonitorOutcome>>
> = {
  heartbeats: runHeartbeatsAndExpiries,
  'stale-work': runStaleWorkSweep,
};

/**
 * Runs a monitor over every project. A project that fails does not stop the others; the failures come
 * back together (the caller logs them and fails the invocation so the scheduler's retry and alarm see it).
 */
export async function runMonitor(
  ports: MonitorPorts,
  monitor: MonitorName,
): Promise<{ outcomes: MonitorOutcome[]; failures: { project: string; error: string }[] }> {
  const run = MONITOR_RUNS[monitor];
  const outcomes: MonitorOutcome[] = [];
  const failures: { project: string; error: string }[] = [];
  for (const project of await ports.store.listProjects()) {
    try {
      outcomes.push(await run(ports, project));
    } catch (error) {
      failures.push({ project, error: (error as Error).message });
    }
  }
  return { outcomes, failures };
}
