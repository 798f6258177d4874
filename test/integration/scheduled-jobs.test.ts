import { PNG } from 'pngjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../functions/adapters/dynamodb/coordination-store.js';
import { MemoryPersistenceLayer, PowertoolsRunOnce } from '../../functions/adapters/idempotency/run-once.js';
import { type MemoryStores, memoryStores } from '../../functions/adapters/memory/index.js';
import { applyPlan, transitionTask } from '../../functions/core/coordination/commands.js';
import type { OutboxEntry } from '../../functions/core/integrations/model.js';
import { parsePlan } from '../../functions/core/plan/index.js';
import { type JobPorts, runScheduledJob } from '../../functions/core/rhythm/jobs.js';
import { reportRenderer } from '../../functions/handlers/report-renderer.js';

const PLAN = `version: 1
project:
  id: rhythm
  name: Rhythm Project
  timezone: America/New_York
  start: 2026-03-02
  holidays: [2026-03-10]
people: [{ id: pm, name: Pat Manager }]
agents:
  - { id: alpha, name: Agent Alpha, owner: pm, channel: "#alpha-dev" }
  - { id: beta, name: Agent Beta, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, title: Build the API, agent: alpha, estimate: 2d }
      - { id: docs, title: Write the docs, agent: beta, estimate: 1d, dependsOn: [api] }
schedules:
  - { id: standup, job: standup, at: "09:00" }
  - { id: report, job: report, at: "17:00", channel: "#reports" }
  - { id: sync, job: sync, at: "16:00", every: 2 }
integrations:
  slack: { channel: "#rhythm" }
`;

const admin = { kind: 'admin' } as const;
let ports: JobPorts & Pick<MemoryStores, 'store' | 'outbox'>;
let now: Date;

beforeEach(async () => {
  // The jobs' rules need a store, not DynamoDB: the in-memory stores behave alike (test/contract/).
  const { store, outbox, charts } = memoryStores();
  now = new Date('2026-03-02T13:00:00Z');
  ports = {
    store,
    outbox,
    once: new PowertoolsRunOnce(() => new MemoryPersistenceLayer()),
    charts,
    clock: { now: () => now },
    ids: timeOrderedIds,
    reports: reportRenderer,
  };
  const parsed = parsePlan(PLAN, { file: 'rhythm.yaml' });
  if (!parsed.ok) throw new Error('the test plan is invalid');
  await applyPlan(ports, { project: 'rhythm', plan: parsed.plan, actor: admin });
});

const posts = async () =>
  (await ports.outbox.due(new Date('9999-01-01'), 100)).filter(
    (entry): entry is OutboxEntry & { command: { kind: 'slack'; channel: string } } =>
      entry.command.kind === 'slack',
  );

describe('runScheduledJob', () => {
  it('posts the standup to the project channel and each agent’s part to its own channel', async () => {
    // Prepare: Tuesday 09:00 New York is 14:00 UTC.
    now = new Date('2026-03-03T14:00:05Z');
    await transitionTask(ports, { project: 'rhythm', task: 'api', to: 'in_progress', actor: admin });

    // Act
    const outcome = await runScheduledJob(ports, {
      project: 'rhythm',
      schedule: 'standup',
      scheduledTime: '2026-03-03T14:00:00Z',
    });

    // Assess
    expect(outcome).toMatchObject({ ran: true, job: 'standup', posts: 2 });
    const entries = await posts();
    expect(entries.map((entry) => entry.command.channel).sort()).toEqual(['#alpha-dev', '#rhythm']);
    const alpha = JSON.stringify(entries.find((entry) => entry.command.channel === '#alpha-dev')?.command);
    expect(alpha).toContain('Agent Alpha');
    expect(alpha).not.toContain('Agent Beta');
  });

  it('has its effect once when the same fire time is delivered twice', async () => {
    // Prepare
    now = new Date('2026-03-03T14:00:05Z');
    const event = { project: 'rhythm', schedule: 'standup', scheduledTime: '2026-03-03T14:00:00.000Z' };

    // Act
    const first = await runScheduledJob(ports, event);
    const second = await runScheduledJob(ports, event);
    const concurrent = await Promise.allSettled([
      runScheduledJob(ports, event),
      runScheduledJob(ports, event),
    ]);

    // Assess
    expect(first.ran).toBe(true);
    expect(second).toEqual({ ran: false, reason: expect.stringContaining('already ran') });
    expect(concurrent.every((result) => result.status === 'fulfilled' && !result.value.ran)).toBe(true);
    expect(await posts()).toHaveLength(2);
  });

  it('skips holidays and the days `every` leaves out, and says why', async () => {
    // Act: 2026-03-10 is a holiday; the sync runs every second working day from Monday 03-02.
    const holiday = await runScheduledJob(ports, {
      project: 'rhythm',
      schedule: 'standup',
      scheduledTime: '2026-03-10T13:00:00Z',
    });
    const offDay = await runScheduledJob(ports, {
      project: 'rhythm',
      schedule: 'sync',
      scheduledTime: '2026-03-03T21:00:00Z',
    });
    const onDay = await runScheduledJob(ports, {
      project: 'rhythm',
      schedule: 'sync',
      scheduledTime: '2026-03-04T21:00:00Z',
    });

    // Assess
    expect(holiday).toEqual({ ran: false, reason: expect.stringContaining('holiday') });
    expect(offDay.ran).toBe(false);
    expect(onDay.ran).toBe(true);
  });

  it('keeps the daily report’s burndown chart and shares it with the report in the schedule’s channel', async () => {
    // Prepare
    now = new Date('2026-03-03T22:00:05Z');

    // Act
    const outcome = await runScheduledJob(ports, {
      project: 'rhythm',
      schedule: 'report',
      scheduledTime: '2026-03-03T22:00:00Z',
    });

    // Assess
    expect(outcome).toMatchObject({ ran: true, job: 'report' });
    const [entry] = (await posts()).filter((candidate) => candidate.command.channel === '#reports');
    const command = entry?.command as { chart?: { name: string; at: string } };
    expect(command.chart).toMatchObject({ name: 'burndown' });
    const kept = await ports.charts.chartAt('rhythm', 'burndown', command.chart?.at as string);
    const png = PNG.sync.read(Buffer.from(kept?.png as Uint8Array));
    expect(png.width).toBeGreaterThan(100);
  });

  it('refuses a schedule the plan no longer has without failing the invocation', async () => {
    // Act
    const outcome = await runScheduledJob(ports, {
      project: 'rhythm',
      schedule: 'retro',
      scheduledTime: '2026-03-03T14:00:00Z',
    });

    // Assess
    expect(outcome).toEqual({ ran: false, reason: expect.stringContaining('no schedule retro') });
  });
});
