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

  it('writes the times in an escalation’s sentence as people read them, the stored sentence keeping ISO', () => {
    const text =
      'Escalation tps-low (level 1 of 3): tps is 1,200,000. Tech Lead: please resolve within 2h (due 2026-12-07T16:00:00.000Z).';

    const message = noticeMessage(
      {
        type: 'escalation',
        project: 'demo',
        escalation: { id: 'e1', rule: 'tps-low', subject: 'tps', level: 1, status: 'open' },
        text,
        mentions: [],
        actions: ['ack'],
      },
      { timeZone: 'America/New_York', now: NOW },
    );

    expect(message.text).toBe(
      ':rotating_light: Escalation tps-low (level 1 of 3): tps is 1,200,000. Tech Lead: please resolve within 2h (due Mon 7 Dec 11:00 EST).',
    );
  });

  it('writes the times in a gate’s headline and lines as people read them', () => {
    const message = noticeMessage(
      {
        type: 'gate',
        project: 'demo',
        gate: 'g1',
        phase: 'p1',
        headline: 'Gate g1 held until 2026-12-08T14:00Z',
        lines: ['Held by Pat at 2026-12-07T15:00:00Z: coverage < 70'],
        mentions: [],
      },
      { timeZone: 'America/New_York', now: NOW },
    );

    expect(renderBlocksAsText(message.blocks).slice(0, 2)).toEqual([
      '*Gate g1 held until Tue 8 Dec 09:00 EST*',
      '• Held by Pat at Mon 7 Dec 10:00 EST: coverage < 70',
    ]);
  });
});
