import { describe, expect, it } from 'vitest';
import { renderBlocksAsText } from '../../../../functions/adapters/slack/blocks.js';
import { noticeMessage } from '../../../../functions/adapters/slack/notice-messages.js';

const NOW = new Date('2026-12-07T15:00:00.000Z');

describe('noticeMessage', () => {
  it('says since when an agent is down in the project’s time zone, not as a UTC timestamp', () => {
    const message = noticeMessage(
      {
        type: 'agent-down',
        project: 'demo',
        agent: { id: 'alpha', name: 'Alpha <bot>' },
        lastHeartbeatAt: '2026-12-07T14:00:00.000Z',
        owner: { name: 'Pat', slack: 'U0PAT' },
      },
      { timeZone: 'America/New_York', now: NOW },
    );

    expect(message.text).toBe(
      ':red_circle: *Alpha <bot>* is down: no heartbeat since Mon 7 Dec 09:00 EST. @U0PAT, please bring it back.',
    );
    expect(JSON.stringify(message.blocks)).not.toContain('2026-12-07T14:00');
    expect(renderBlocksAsText(message.blocks)[0]).toContain('Alpha <bot>');
  });

  it('says since when an agent was down when it is back, with the year when it is another', () => {
    const message = noticeMessage(
      {
        type: 'agent-up',
        project: 'demo',
        agent: { id: 'alpha', name: 'Alpha' },
        downSince: '2025-12-31T12:00:00.000Z',
      },
      { timeZone: 'Europe/Berlin', now: NOW },
    );

    expect(message.text).toBe(
      ':large_green_circle: *Alpha* is back (down since Wed 31 Dec 2025 13:00 GMT+1).',
    );
  });

  it('reads times in UTC when it does not know the project’s time zone', () => {
    const message = noticeMessage(
      {
        type: 'agent-up',
        project: 'demo',
        agent: { id: 'alpha', name: 'Alpha' },
        downSince: '2026-12-07T14:00:00.000Z',
      },
      { now: NOW },
    );

    expect(message.text).toContain('(down since Mon 7 Dec 14:00 UTC)');
  });
});
