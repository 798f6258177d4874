import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analysePlan,
  formatPlanError,
  parsePlan,
  WEEKDAYS,
  WorkingCalendar,
} from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN, planErrors, validPlan } from '../../../fixtures/plans.js';

/** The bounds of docs/plan-format.md ("Bounds") and the hang of issue 11, D2. */

const PROTO = readFileSync('examples/proto-refactor.yaml', 'utf8');

describe('issue 11, D2: plans that used to hang the analysis', () => {
  it('rejects a start in year 9999, pointing at project.start', () => {
    // Prepare
    const text = PROTO.replace('  start: 2026-03-02', '  start: 9999-12-31');

    // Act
    const result = parsePlan(text, { file: 'proto.yaml' });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatPlanError)).toEqual([
      'proto.yaml:19:10: project.start: date "9999-12-31" is out of range: Convoy plans from 2000-01-01 to 2100-12-31',
    ]);
  });

  it('rejects estimates of 99999999w and 9007199254740993m, naming each task', () => {
    // Prepare
    const text = PROTO.replace('        estimate: 1.5d', '        estimate: 99999999w').replace(
      '        estimate: 1d',
      '        estimate: 9007199254740993m',
    );

    // Act
    const errors = planErrors(text);

    // Assess
    expect(errors).toEqual([
      'phases[0].tasks[0].estimate: estimate "9007199254740993m" is too long: at most 260w (five years of working weeks, 1300d)',
      'phases[3].tasks[1].estimate: estimate "99999999w" is too long: at most 260w (five years of working weeks, 1300d)',
    ]);
  });
});

describe('bounds of plan fields', () => {
  const withStart = (start: string) => MINIMAL_PLAN.replace('  start: 2026-01-05', `  start: ${start}`);

  it('takes dates from 2000-01-01 to 2100-12-31 and rejects the days either side', () => {
    // Act + Assess
    expect(validPlan(withStart('2000-01-03')).project.start).toBe('2000-01-03');
    expect(planErrors(withStart('1999-12-31'))).toEqual([
      'project.start: date "1999-12-31" is out of range: Convoy plans from 2000-01-01 to 2100-12-31',
    ]);
    expect(
      planErrors(
        MINIMAL_PLAN.replace('  start: 2026-01-05', '  start: 2026-01-05\n  holidays: [2101-01-01]'),
      ),
    ).toEqual([
      'project.holidays[0]: date "2101-01-01" is out of range: Convoy plans from 2000-01-01 to 2100-12-31',
    ]);
  });

  it('takes an estimate up to 260w and rejects more, or zero', () => {
    // Prepare
    const estimate = (value: string) =>
      MINIMAL_PLAN.replace('        estimate: 2d', `        estimate: ${value}`);

    // Act + Assess
    expect(validPlan(estimate('260w')).phases[0]?.tasks[1]?.estimate).toBe('260w');
    expect(validPlan(estimate('624000m')).phases[0]?.tasks[1]?.estimate).toBe('624000m');
    expect(planErrors(estimate('1301d'))).toEqual([
      'phases[0].tasks[1].estimate: estimate "1301d" is too long: at most 260w (five years of working weeks, 1300d)',
    ]);
    expect(planErrors(estimate('0.001m'))).toEqual(['phases[0].tasks[1].estimate: must be more than zero']);
  });

  it('takes wall-clock durations up to 365d, and a heartbeat only above zero', () => {
    // Prepare
    const agent = (fields: string) =>
      MINIMAL_PLAN.replace('  - id: alpha\n    owner: pm', `  - id: alpha\n    owner: pm\n${fields}`);

    // Act + Assess
    expect(validPlan(agent('    heartbeat: 1m\n    restartSla: 365d')).agents[0]?.restartSla).toBe('365d');
    expect(planErrors(agent('    heartbeat: 0m\n    restartSla: 53w'))).toEqual([
      'agents[0].heartbeat: must be more than zero',
      'agents[0].restartSla: duration "53w" is too long: at most 365d (one year)',
    ]);
  });

  it('bounds names, free text, counts and the numbers of conditions', () => {
    // Prepare
    const text = `${MINIMAL_PLAN.replace('  id: demo', `  id: demo\n  name: ${'n'.repeat(201)}`)}gates:
  - id: g
    maxCautions: 101
    criteria:
      - go: "tps >= 9_007_199_254_740_992"
      - go: "tps >= 9_007_199_254_740_991"
schedules:
  - { id: s, job: standup, at: "09:00", every: 367 }
handoff: ["${'h'.repeat(2001)}"]
`;

    // Act
    const errors = planErrors(text);

    // Assess
    expect(errors).toEqual([
      `project.name: too long: 201 characters, at most 200 ("${'n'.repeat(37)}"...)`,
      'gates[0].maxCautions: must be at most 100, got number 101',
      'gates[0].criteria[0].go: the number of condition "tps >= 9_007_199_254_740_992" is out of range: at most 9007199254740991 (2^53 − 1) in magnitude',
      'schedules[0].every: must be at most 366, got number 367',
      `handoff[0]: too long: 2001 characters, at most 2000 ("${'h'.repeat(37)}"...)`,
    ]);
  });

  it('reports an id or pattern too long once, without its pattern error', () => {
    // Act
    const errors = planErrors(MINIMAL_PLAN.replace('      - id: task-1a', `      - id: ${'t'.repeat(300)}`));

    // Assess
    expect(errors.filter((e) => e.startsWith('phases[0].tasks[0].id'))).toEqual([
      `phases[0].tasks[0].id: too long: 300 characters, at most 200 ("${'t'.repeat(37)}"...)`,
    ]);
  });
});

describe('the schedule horizon', () => {
  it('rejects a plan whose schedule runs past 2100-12-31, at the estimate of the first task to end later', () => {
    // Prepare: Mon 2100-12-20 leaves 10 working days; task-1b (2d) ends on the 2nd, task-2a after 3w.
    const text = MINIMAL_PLAN.replace('  start: 2026-01-05', '  start: 2100-12-20').replace(
      /(- id: task-2a\n {8}agent: alpha\n {8}estimate: )1d/,
      '$13w',
    );

    // Act
    const result = parsePlan(text);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatPlanError)).toEqual([
      'plan.yaml:27:19: phases[1].tasks[0].estimate: the schedule runs past 2100-12-31, the last date Convoy plans for: task "task-2a" would finish 17 working days after 2100-12-20, and 10 fit until then',
    ]);
  });

  it('rejects a start whose first working day is after 2100-12-31', () => {
    // Act: Fri 2100-12-31 is a holiday, so work would begin on Mon 2101-01-03.
    const errors = planErrors(
      MINIMAL_PLAN.replace('  start: 2026-01-05', '  start: 2100-12-31\n  holidays: [2100-12-31]'),
    );

    // Assess
    expect(errors).toEqual([
      'project.start: the first working day on or after 2100-12-31 is 2101-01-03, after 2100-12-31, the last date Convoy plans for',
    ]);
  });

  it('analyses a century of work: twenty tasks of 260w in a row from 2000', () => {
    // Prepare
    const tasks = Array.from(
      { length: 20 },
      (_, i) =>
        `      - { id: t${i}, agent: alpha, estimate: 260w${i > 0 ? `, dependsOn: [t${i - 1}]` : ''} }`,
    ).join('\n');
    const text = `version: 1
project: { id: century, timezone: UTC, start: 2000-01-03 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: all
    tasks:
${tasks}
`;

    // Act
    const analysis = analysePlan(validPlan(text));

    // Assess: 26,000 working days of five a week is 5,200 weeks from Monday 2000-01-03.
    expect(analysis.durationDays).toBe(26_000);
    expect(analysis.finish).toBe('2099-08-28');
    expect(analysis.criticalPath).toHaveLength(20);
  });
});

describe('plans of many entries', () => {
  it('suggests a name for the first unknown references only, when there are thousands', () => {
    // Prepare: 3,000 tasks, each depending on a misspelt task.
    const tasks = Array.from(
      { length: 3_000 },
      (_, i) =>
        `      - { id: task-number-${i}, agent: alpha, estimate: 1d, dependsOn: [task-numbr-${i + 1}] }`,
    ).join('\n');
    const text = `${MINIMAL_PLAN.slice(0, MINIMAL_PLAN.indexOf('phases:'))}phases:\n  - id: all\n    tasks:\n${tasks}\n`;

    // Act
    const errors = planErrors(text);

    // Assess: every reference is reported; the edit distances stop within their budget.
    expect(errors).toHaveLength(3_000);
    expect(errors[0]).toBe(
      'phases[0].tasks[0].dependsOn[0]: unknown task "task-numbr-1" (did you mean "task-number-1"?)',
    );
    expect(errors[2_999]).toBe('phases[0].tasks[2999].dependsOn[0]: unknown task "task-numbr-3000"');
  });

  it('still names a task that depends on a task of a later phase, among thousands of chained phases', () => {
    // Prepare: 3,000 phases in a chain; the first phase's task depends on the last phase's task.
    const phases = Array.from(
      { length: 3_000 },
      (_, i) =>
        `  - { id: p${i}${i > 0 ? `, dependsOn: [p${i - 1}]` : ''}, tasks: [{ id: t${i}, agent: alpha, estimate: 1h${i === 0 ? ', dependsOn: [t2999]' : ''} }] }`,
    ).join('\n');
    const text = `${MINIMAL_PLAN.slice(0, MINIMAL_PLAN.indexOf('phases:'))}phases:\n${phases}\n`;

    // Act
    const errors = planErrors(text);

    // Assess
    expect(errors).toEqual([
      'phases[0].tasks[0].dependsOn[0]: task "t0" of phase "p0" depends on task "t2999" of the later phase "p2999" (which waits for phase "p0")',
    ]);
  });
});

describe('the shape of the document', () => {
  it('refuses JSON nested deeper than 100 levels, at the bracket that goes too deep', () => {
    // Act
    const result = parsePlan(`{"a": ${'['.repeat(150_000)}${']'.repeat(150_000)}}`, { file: 'deep.json' });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatPlanError)).toEqual([
      'deep.json:1:106: the document nests more than 100 levels deep',
    ]);
  });

  it('refuses YAML aliases that expand past ten values per character of the file', () => {
    // Prepare: nine levels of nine aliases each stand for 9^9 (387 million) strings.
    const levels = 'abcdefghi'.split('');
    const text = levels
      .map((name, i) =>
        i === 0
          ? `${name}: &${name} [x, x, x, x, x, x, x, x, x]`
          : `${name}: &${name} [${Array(9)
              .fill(`*${levels[i - 1]}`)
              .join(', ')}]`,
      )
      .join('\n');

    // Act
    const errors = planErrors(text);

    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^the plan expands to more than \d+ values through YAML aliases \(\*name\)/);
  });

  it('refuses a string with a lone UTF-16 surrogate, naming where it is', () => {
    // Act
    const errors = planErrors(
      MINIMAL_PLAN.replace('      - id: task-1a', '      - id: task-1a\n        title: "a\\ud800b"'),
    );

    // Assess
    expect(errors).toEqual([
      'phases[0].tasks[0].title: contains a lone UTF-16 surrogate, which is not valid Unicode',
    ]);
  });
});

describe('WorkingCalendar arithmetic', () => {
  /** The working days from `start` on, one day at a time: the reference the arithmetic must match. */
  function walk(start: string, workdays: readonly string[], holidays: readonly string[], count: number) {
    const days: string[] = [];
    for (let t = Date.parse(`${start}T00:00:00Z`); days.length < count; t += 86_400_000) {
      const date = new Date(t).toISOString().slice(0, 10);
      const weekday = WEEKDAYS[(new Date(t).getUTCDay() + 6) % 7] as string;
      if (workdays.includes(weekday) && !holidays.includes(date)) days.push(date);
    }
    return days;
  }

  const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);

  it('agrees with counting day by day, for any workdays, holidays and start', () => {
    fc.assert(
      fc.property(
        fc.subarray([...WEEKDAYS], { minLength: 1 }),
        fc.array(fc.integer({ min: -10, max: 400 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 60 }),
        (workdays, holidayDays, startDay) => {
          // Prepare
          const project = { start: day(startDay), workdays, holidays: holidayDays.map(day) };
          const calendar = new WorkingCalendar(project);
          const expected = walk(project.start, workdays, project.holidays, 120);

          // Act + Assess
          expect(expected.map((_, offset) => calendar.dateAt(offset))).toEqual(expected);
          expected.forEach((date, offset) => {
            expect(calendar.offsetOf(date)).toBe(offset);
          });
          expect(calendar.offsetOf(day(startDay - 5))).toBe(0);
        },
      ),
      { seed: 11, numRuns: 200 },
    );
  });

  it('answers for offsets of millions of days, and refuses a date past 9999-12-31 instead of looping', () => {
    // Prepare: one working day a week.
    const calendar = new WorkingCalendar({ start: '2026-01-05', workdays: ['mon'], holidays: [] });

    // Act + Assess: 400,000 Mondays later is 2,800,000 days later.
    expect(calendar.dateAt(400_000)).toBe('9692-02-25');
    expect(calendar.offsetOf('9692-02-25')).toBe(400_000);
    expect(() => calendar.dateAt(9_007_199_254_740_991)).toThrow(/past 9999-12-31/);
  });
});
