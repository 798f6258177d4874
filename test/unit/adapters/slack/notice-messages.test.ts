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

  it('says a released task is ready to claim again, and why: given back or its claim expired', () => {
    const released = (reason: 'released' | 'expired') =>
      noticeMessage(
        {
          type: 'task-released',
          project: 'agent-pool',
          task: { id: 'refunds-schema', title: 'Refunds <table> & migration' },
          agent: 'coder-a',
          reason,
        },
        { now: NOW },
      );

    const expired = released('expired');
    expect(expired.text).toBe(
      ":leftwards_arrow_with_hook: *Refunds <table> & migration* (refunds-schema) is ready to claim again: coder-a's claim expired without a heartbeat.",
    );
    // The title is escaped in the mrkdwn, so it cannot break the message.
    expect(JSON.stringify(expired.blocks)).toContain('Refunds &lt;table&gt; &amp; migration');
    expect(released('released').text).toContain('is ready to claim again: coder-a gave it back.');
  });

  it('says who collided with whose lease, on what, for which task and until when', () => {
    const conflict = (overridden: boolean, task?: string) =>
      noticeMessage(
        {
          type: 'resource-conflict',
          project: 'agent-pool',
          what: 'resource db-migrations',
          requestedBy: 'agent:coder-b',
          holder: 'agent:coder-c',
          ...(task ? { task } : {}),
          expiresAt: '2026-12-07T15:30:00.000Z',
          overridden,
        },
        { timeZone: 'Europe/Berlin', now: NOW },
      );

    expect(conflict(false, 'refunds-schema').text).toBe(
      ':warning: Resource conflict on *resource db-migrations*: agent:coder-b asked for a lease, refused; agent:coder-c holds it for refunds-schema until Mon 7 Dec 16:30 GMT+1.',
    );
    expect(conflict(true).text).toBe(
      ':warning: Resource conflict on *resource db-migrations*: its owner agent:coder-b took a lease over it; agent:coder-c holds it until Mon 7 Dec 16:30 GMT+1.',
    );
    expect(JSON.stringify(conflict(false).blocks)).not.toContain('2026-12-07T15:30');
    expect(renderBlocksAsText(conflict(false).blocks)[0]).toContain(
      'agent:coder-b asked for a lease, refused',
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
