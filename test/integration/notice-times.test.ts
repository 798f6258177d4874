import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainOutbox } from '../../functions/core/integrations/outbox-worker.js';
import { buildIntegrations } from '../../functions/handlers/integrations.js';
import { startTestApi, type TestApi } from '../support/api.js';

/**
 * What `convoy dev` prints for a Slack notice without a bot token: its times in the project's time
 * zone (the plan's), never the UTC timestamps the notice carries.
 */

const PLAN = `version: 1
project: { id: times, timezone: America/New_York, start: 2026-01-05 }
people: [{ id: pm, name: Pat }]
agents:
  - { id: alpha, name: Agent Alpha, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
integrations:
  slack: { channel: "#project" }
`;

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
  await api.apply(PLAN);
});

afterAll(async () => {
  await api.close();
});

describe('Slack notices printed without a bot token', () => {
  it('say since when an agent is down in the project’s time zone', async () => {
    // Prepare
    const printed: string[] = [];
    const offline = await buildIntegrations(
      { ...api.deps, secrets: async () => ({}) },
      { ...api.table, print: (line) => printed.push(line) },
    );
    await offline.drain.outbox.enqueue(
      [
        {
          id: 'notice-times-1',
          project: 'times',
          command: {
            kind: 'slack',
            channel: '#project',
            key: 'agent-down:times:alpha:1',
            notice: {
              type: 'agent-down',
              project: 'times',
              agent: { id: 'alpha', name: 'Agent Alpha' },
              lastHeartbeatAt: '2026-01-07T14:00:00.000Z',
              owner: { name: 'Pat' },
            },
          },
        },
      ],
      new Date(),
    );

    // Act
    await drainOutbox(offline.drain, { maxRunMs: 5_000 });

    // Assess
    const output = printed.join('\n');
    // The year shows only when it is not the current one: this test may run in any year.
    expect(output).toMatch(/\*Agent Alpha\* is down: no heartbeat since Wed 7 Jan (2026 )?09:00 EST\./);
    expect(output).not.toContain('2026-01-07T14:00');
  });
});
