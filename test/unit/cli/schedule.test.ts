import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MINIMAL_PLAN } from '../../fixtures/plans.js';
import { convoy } from '../../support/cli.js';
import { tempDir } from '../../support/temp.js';

const SCHEDULES = `schedules:
  - id: standup
    job: standup
    at: "09:00"
    channel: "#standups"
  - id: gate-review
    job: gate-review
    at: "17:00"
    days: [fri]
integrations:
  slack:
    channel: "#demo"
`;

let dir: string;
let plain: string;
let scheduled: string;
let bad: string;

beforeAll(() => {
  dir = tempDir('convoy-schedule-');
  plain = join(dir, 'plain.yaml');
  scheduled = join(dir, 'scheduled.yaml');
  bad = join(dir, 'bad.yaml');
  writeFileSync(plain, MINIMAL_PLAN);
  writeFileSync(scheduled, `${MINIMAL_PLAN}${SCHEDULES}`);
  writeFileSync(bad, `${MINIMAL_PLAN}schedules:\n  - id: standup\n    job: standup\n    at: "9am"\n`);
});

describe('convoy schedule', () => {
  it('prints exactly the id, job and next ISO 8601 UTC times of every schedule with --json', async () => {
    // Act
    const result = await convoy(
      'schedule',
      plain,
      '--from',
      '2026-03-05T12:00:00Z',
      '--count',
      '2',
      '--json',
    );

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      schedules: [
        { id: 'standup', job: 'standup', next: ['2026-03-05T14:00:00.000Z', '2026-03-06T14:00:00.000Z'] },
        { id: 'sync', job: 'sync', next: ['2026-03-05T21:00:00.000Z', '2026-03-06T21:00:00.000Z'] },
        { id: 'report', job: 'report', next: ['2026-03-05T22:00:00.000Z', '2026-03-06T22:00:00.000Z'] },
        {
          id: 'gate-review',
          job: 'gate-review',
          next: ['2026-03-06T22:00:00.000Z', '2026-03-13T21:00:00.000Z'],
        },
      ],
    });
  });

  it('prints each schedule with its job, channel, local time and zone, and its runs in local time and UTC', async () => {
    // Act
    const result = await convoy('schedule', scheduled, '--from', '2026-03-06T12:00:00-05:00', '--count', '2');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('America/New_York · from Fri 6 Mar 12:00 EST (2026-03-06T17:00Z)');
    expect(result.stdout).toMatch(
      /standup job standup\n {2}09:00 America\/New_York on mon, tue, wed, thu, fri · #standups\n {2}Mon 9 Mar 09:00 EDT\s+2026-03-09T13:00Z\n {2}Tue 10 Mar 09:00 EDT\s+2026-03-10T13:00Z\n/,
    );
    expect(result.stdout).toMatch(
      /gate-review job gate-review\n {2}17:00 America\/New_York on fri · #demo\n {2}Fri 6 Mar 17:00 EST\s+2026-03-06T22:00Z\n {2}Fri 13 Mar 17:00 EDT\s+2026-03-13T21:00Z\n/,
    );
  });

  it('starts at the beginning of the day in the project time zone when --from is a date', async () => {
    // Act
    const result = await convoy('schedule', plain, '--from', '2026-01-09', '--count', '1', '--json');

    // Assess
    const { schedules } = JSON.parse(result.stdout) as { schedules: { id: string; next: string[] }[] };
    expect(schedules.map((schedule) => [schedule.id, schedule.next])).toEqual([
      ['standup', ['2026-01-09T14:00:00.000Z']],
      ['sync', ['2026-01-09T21:00:00.000Z']],
      ['report', ['2026-01-09T22:00:00.000Z']],
      ['gate-review', ['2026-01-09T22:00:00.000Z']],
    ]);
  });

  it('lists five runs after now when neither --from nor --count is given', async () => {
    // Prepare
    const before = Date.now();

    // Act
    const result = await convoy('schedule', plain, '--json');

    // Assess
    const { schedules } = JSON.parse(result.stdout) as { schedules: { next: string[] }[] };
    for (const { next } of schedules) {
      expect(next).toHaveLength(5);
      expect(Date.parse(next[0] as string)).toBeGreaterThan(before);
    }
  });

  it('exits 1 with the errors convoy validate prints when the plan is invalid', async () => {
    // Act
    const result = await convoy('schedule', bad);
    const validate = await convoy('validate', bad);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${bad}:31:9: schedules[0].at: invalid time of day "9am"`);
    expect(validate.stderr.startsWith(result.stderr)).toBe(true);
  });

  it.each([
    ['--from', 'yesterday'],
    ['--from', '2026-03-06T09:00'],
    ['--from', '2026-02-30'],
    ['--count', '0'],
    ['--count', '2.5'],
    ['--count', 'many'],
  ])('exits 2 naming the option when %s is %s', async (option, value) => {
    // Act
    const result = await convoy('schedule', plain, option, value);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`error: ${option} must be`);
    expect(result.stderr).toContain(`"${value}"`);
  });

  it('exits 2 when no plan file or more than one is named', async () => {
    // Act
    const none = await convoy('schedule');
    const two = await convoy('schedule', plain, scheduled);

    // Assess
    expect(none).toMatchObject({ code: 2, stderr: expect.stringContaining('name the plan file') });
    expect(two).toMatchObject({ code: 2, stderr: expect.stringContaining('one plan at a time') });
  });

  it('shows its usage with --help', async () => {
    // Act
    const result = await convoy('schedule', '--help');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: convoy schedule FILE \[--from ISO\] \[--count N\] \[--json\]/);
  });
});
