import type { Plan } from '../core/plan/index.js';
import { MONITORS, type MonitorName, nextFireTimes } from '../core/schedules/index.js';
import type { ScaledClock } from './clock.js';

export interface LocalScheduledJob {
  readonly project: string;
  readonly schedule: string;
  readonly scheduledTime: string;
}

export interface LocalSchedulerOptions {
  readonly clock: ScaledClock;
  /** The plans whose schedules run, read again before every wait so a re-applied plan counts. */
  readonly plans: () => Promise<readonly Plan[]>;
  /** What EventBridge Scheduler invokes deployed: the scheduled-job handler. */
  readonly runJob: (event: LocalScheduledJob) => Promise<void>;
  /** The monitor handler, at the rates of `MONITORS`. */
  readonly runMonitor: (event: { monitor: MonitorName; scheduledTime: string }) => Promise<void>;
  readonly log: (line: string) => void;
  /** Longest real wait before plans are read again. @default 5000 */
  readonly maxWaitMs?: number;
}

export interface LocalScheduler {
  /** Resolves once the run in progress, if any, has finished. */
  stop(): Promise<void>;
}

interface Due {
  readonly at: Date;
  readonly run: () => Promise<void>;
  readonly what: string;
}

/**
 * EventBridge Scheduler on this machine: fires every plan schedule at the times `nextFireTimes`
 * gives (the same code the deployed job checks them with) and every monitor at its rate, on the dev
 * clock. One fire runs at a time, in time order; a fire that fails is logged, as Scheduler would
 * send it to its dead-letter queue, and the next one still runs.
 */
export function startLocalScheduler(options: LocalSchedulerOptions): LocalScheduler {
  const { clock, log } = options;
  const maxWaitMs = options.maxWaitMs ?? 5_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** Everything due after this instant and up to the clock's now runs on the next turn. */
  let checkedUpTo = clock.now();
  const nextMonitorRun = new Map<MonitorName, Date>(
    MONITORS.map((monitor) => [
      monitor.name,
      new Date(checkedUpTo.getTime() + monitor.everyMinutes * 60_000),
    ]),
  );

  async function dueBetween(from: Date, to: Date): Promise<Due[]> {
    const due: Due[] = [];
    for (const plan of await options.plans()) {
      for (const schedule of plan.schedules) {
        let cursor = from;
        for (;;) {
          const [next] = nextFireTimes(plan, schedule, cursor, 1);
          if (!next || next > to) break;
          const event = {
            project: plan.project.id,
            schedule: schedule.id,
            scheduledTime: next.toISOString(),
          };
          due.push({ at: next, run: () => options.runJob(event), what: `${plan.project.id}/${schedule.id}` });
          cursor = next;
        }
      }
    }
    for (const monitor of MONITORS) {
      const every = monitor.everyMinutes * 60_000;
      const next = nextMonitorRun.get(monitor.name) as Date;
      if (next > to) continue;
      // A monitor looks at the state as it is, so runs missed while the loop was busy (a fast clock)
      // collapse into the latest one instead of piling up.
      const latest = new Date(next.getTime() + Math.floor((to.getTime() - next.getTime()) / every) * every);
      const event = { monitor: monitor.name, scheduledTime: latest.toISOString() };
      due.push({ at: latest, run: () => options.runMonitor(event), what: `monitor ${monitor.name}` });
      nextMonitorRun.set(monitor.name, new Date(latest.getTime() + every));
    }
    return due.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  async function nextDue(after: Date): Promise<Date | undefined> {
    const candidates: Date[] = [...nextMonitorRun.values()];
    for (const plan of await options.plans()) {
      for (const schedule of plan.schedules) {
        const [next] = nextFireTimes(plan, schedule, after, 1);
        if (next) candidates.push(next);
      }
    }
    return candidates.sort((a, b) => a.getTime() - b.getTime())[0];
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const now = clock.now();
        for (const due of await dueBetween(checkedUpTo, now)) {
          if (stopped) break;
          try {
            await due.run();
          } catch (error) {
            log(`${due.what} at ${due.at.toISOString()} failed: ${(error as Error).message}`);
          }
        }
        checkedUpTo = now;
        const next = await nextDue(now);
        const waitMs = Math.min(maxWaitMs, next ? clock.realMsUntil(next) : maxWaitMs);
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, Math.max(1, waitMs));
        });
      } catch (error) {
        log(`local scheduler: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, maxWaitMs));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
