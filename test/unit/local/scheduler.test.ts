import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../functions/local/clock.js';
import { startLocalScheduler } from '../../../functions/local/scheduler.js';
import { validPlan } from '../../fixtures/plans.js';

const PLAN = `version: 1
project: { id: clocked, timezone: America/New_York, start: 2026-03-02 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks: [{ id: api, agent: alpha, estimate: 1d }]
schedules:
  - { id: standup, job: standup, at: "09:00" }
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startLocalScheduler', () => {
  it('fires a schedule at its local time and the monitors at their rates, on a clock 600 times faster', async () => {
    // Prepare: Tuesday 2026-03-03 08:59:30 in New York (UTC-5), 50 ms real before the standup.
    const plan = validPlan(PLAN);
    const jobs: string[] = [];
    const monitors: string[] = [];
    const clock = new ScaledClock(600, new Date('2026-03-03T13:59:30Z'));
    const started = clock.now().getTime();

    // Act: 0.4 s real is 4 minutes on this clock.
    const scheduler = startLocalScheduler({
      clock,
      log: () => undefined,
      plans: async () => [plan],
      runJob: async (event) => {
        jobs.push(`${event.schedule}@${event.scheduledTime}`);
      },
      runMonitor: async (event) => {
        monitors.push(`${event.monitor}@${event.scheduledTime}`);
      },
    });
    await sleep(400);
    await scheduler.stop();

    // Assess
    expect(jobs).toEqual(['standup@2026-03-03T14:00:00.000Z']);
    const heartbeats = monitors
      .filter((entry) => entry.startsWith('heartbeats@'))
      .map((entry) => Date.parse(entry.slice('heartbeats@'.length)));
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    // A minute apart, the first a minute after the scheduler started (give or take what a loaded
    // machine's timers add, which the clock multiplies by 600).
    expect(Math.abs((heartbeats[0] as number) - started - 60_000)).toBeLessThan(45_000);
    expect((heartbeats[1] as number) - (heartbeats[0] as number)).toBe(60_000);
  });

  it('keeps firing after a job fails, and logs the failure', async () => {
    // Prepare
    const plan = validPlan(PLAN);
    const lines: string[] = [];
    const clock = new ScaledClock(600, new Date('2026-03-03T13:59:40Z'));

    // Act
    const scheduler = startLocalScheduler({
      clock,
      log: (line) => lines.push(line),
      plans: async () => [plan],
      runJob: async () => {
        throw new Error('Slack is down');
      },
      runMonitor: async () => undefined,
    });
    await sleep(200);
    await scheduler.stop();

    // Assess
    expect(lines).toContain('clocked/standup at 2026-03-03T14:00:00.000Z failed: Slack is down');
  });
});

describe('startLocalScheduler on a very fast clock', () => {
  it('collapses the monitor runs it could not keep up with into the latest one', async () => {
    // Prepare: a minute of clock time every 10 ms real, and a monitor that takes 50 ms.
    const plan = validPlan(PLAN);
    const monitors: number[] = [];
    const clock = new ScaledClock(6_000, new Date('2026-03-07T12:00:00Z'));

    // Act
    const scheduler = startLocalScheduler({
      clock,
      log: () => undefined,
      plans: async () => [plan],
      runJob: async () => undefined,
      runMonitor: async (event) => {
        if (event.monitor === 'heartbeats') monitors.push(Date.parse(event.scheduledTime));
        await sleep(50);
      },
    });
    await sleep(400);
    await scheduler.stop();

    // Assess: about 40 minutes passed on the clock, yet the monitor ran only as often as it could.
    expect(monitors.length).toBeGreaterThan(1);
    expect(monitors.length).toBeLessThan(12);
    for (let i = 1; i < monitors.length; i++)
      expect((monitors[i] as number) % 60_000).toBe((monitors[0] as number) % 60_000);
  });
});
