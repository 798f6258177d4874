import { describe, expect, it } from 'vitest';
import { ago, jiraUrl, span, until } from '../../../dashboard/src/logic/format.js';
import {
  burndownColumns,
  burndownFromReport,
  describeTrend,
  metricColumns,
} from '../../../dashboard/src/logic/progress.js';
import { HOUR, iso, NOW } from './fixtures.js';

describe('dashboard formatting', () => {
  it('says spans and ages as a person does', () => {
    expect(span(45)).toBe('45s');
    expect(span(125)).toBe('2m');
    expect(span(3 * 3600 + 20 * 60)).toBe('3h 20m');
    expect(span(52 * 3600)).toBe('2d 4h');
    expect(ago(iso(-2 * HOUR), NOW)).toBe('2h ago');
    expect(ago(null, NOW)).toBe('never');
    expect(until(iso(HOUR), NOW)).toBe('in 1h');
    expect(until(iso(-HOUR), NOW)).toBe('1h overdue');
  });

  it('links a JIRA key to the plan’s site, and never to anything but http(s)', () => {
    expect(jiraUrl('https://acme.atlassian.net', 'PAY-7')).toBe('https://acme.atlassian.net/browse/PAY-7');
    expect(jiraUrl('acme.atlassian.net/', 'PAY-7')).toBe('https://acme.atlassian.net/browse/PAY-7');
    expect(jiraUrl('https://jira.acme.com/jira/', 'AV12-5')).toBe('https://jira.acme.com/jira/browse/AV12-5');
    expect(jiraUrl('javascript:alert(1)//', 'PAY-7')).toBeUndefined();
    expect(jiraUrl(undefined, 'PAY-7')).toBeUndefined();
    expect(jiraUrl('https://acme.atlassian.net', null)).toBeUndefined();
  });
});

describe('progress data', () => {
  const series = {
    project: 'demo',
    total: 10,
    start: '2026-03-02',
    plannedFinish: '2026-03-04',
    today: '2026-03-03',
    points: [
      { date: '2026-03-02', day: 0, ideal: 10, remaining: 10 },
      { date: '2026-03-03', day: 1, ideal: 5, remaining: 7 },
      { date: '2026-03-04', day: 2, ideal: 0 },
    ],
    remaining: 7,
    idealRemaining: 5,
  };

  it('turns the burndown into chart columns, with no remaining value after today', () => {
    expect(burndownColumns(series as never)).toEqual({
      x: [
        Date.parse('2026-03-02T00:00:00Z') / 1000,
        Date.parse('2026-03-03T00:00:00Z') / 1000,
        Date.parse('2026-03-04T00:00:00Z') / 1000,
      ],
      ideal: [10, 5, 0],
      remaining: [10, 7, null],
    });
  });

  it('finds the burndown in a report document', () => {
    const document = {
      sections: [{ blocks: [{ kind: 'paragraph' }] }, { blocks: [{ kind: 'chart', series }] }],
    };
    expect(burndownFromReport(document)).toBe(series);
    expect(burndownFromReport({ sections: [] })).toBeUndefined();
    expect(burndownFromReport(undefined)).toBeUndefined();
  });

  it('orders metric points by time and sums them up in words', () => {
    expect(
      metricColumns([
        { value: 82, at: '2026-03-03T00:00:00Z' },
        { value: 75, at: '2026-03-02T00:00:00Z' },
      ]),
    ).toEqual({
      x: [Date.parse('2026-03-02T00:00:00Z') / 1000, Date.parse('2026-03-03T00:00:00Z') / 1000],
      y: [75, 82],
    });
    expect(describeTrend('coverage.unit', [75, 82])).toBe(
      'coverage.unit: 82 now, up over 2 values (min 75, max 82)',
    );
    expect(describeTrend('x', [])).toBe('x: no values yet');
  });
});
