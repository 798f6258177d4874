import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyDemoStart,
  DEMO_START_FILE,
  shiftPlan,
  shiftPlanText,
} from '../../../functions/local/demo-start.js';
import { validPlan } from '../../fixtures/plans.js';

// Thu 2026-01-01 start, a holiday on Mon 01-19; phase one is due after 14 working days (Wed 01-21),
// phase two on a Saturday after 31 (the Friday before, 02-13, is the 31st).
const PLAN = `version: 1
project:
  id: demo
  timezone: UTC
  start: 2026-01-01 # the kickoff
  holidays: [2026-01-19]
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: one
    due: 2026-01-21 # sprint review
    tasks: [{ id: a, agent: alpha, estimate: 1d }]
  - id: two
    dependsOn: [one]
    due: 2026-02-14
    tasks: [{ id: b, agent: alpha, estimate: 1d }]
`;

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-demo-start-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('shiftPlan', () => {
  it('moves the start, the holidays by the same days, and each due date so its phase keeps its working days', () => {
    // Prepare
    const plan = validPlan(PLAN);

    // Act
    const moved = shiftPlan(plan, '2026-12-07');

    // Assess: 340 days later the holiday is Fri 12-25; the 14th working day from Mon 12-07 is Thu
    // 12-24 (the holiday skipped), the 31st Tue 2027-01-19.
    expect(moved.project).toMatchObject({ start: '2026-12-07', holidays: ['2026-12-25'] });
    expect(moved.phases.map((phase) => phase.due)).toEqual(['2026-12-24', '2027-01-19']);
    expect(moved.phases.map((phase) => phase.tasks.map((task) => task.id))).toEqual([['a'], ['b']]);
  });
});

describe('shiftPlanText', () => {
  it('changes only the dates of a YAML plan, keeping its comments', () => {
    // Act
    const text = shiftPlanText(PLAN, validPlan(PLAN), '2026-12-07', false);

    // Assess
    expect(text).toContain('start: 2026-12-07 # the kickoff');
    expect(text).toContain('due: 2026-12-24 # sprint review');
    expect(text).toContain('due: 2027-01-19');
    expect(validPlan(text).project.holidays).toEqual(['2026-12-25']);
  });

  it('keeps a JSON plan JSON', () => {
    // Prepare
    const plan = validPlan(PLAN);
    const json = JSON.stringify(JSON.parse(JSON.stringify(validPlan(PLAN))));

    // Act
    const text = shiftPlanText(json, plan, '2026-12-07', true);

    // Assess
    expect(JSON.parse(text).project.start).toBe('2026-12-07');
    expect(JSON.parse(text).phases[1].due).toBe('2027-01-19');
  });
});

describe('applyDemoStart', () => {
  it('starts on the next working day on a Sunday, and keeps that start on a later run', async () => {
    // Prepare
    const dir = dataDir();
    const plan = validPlan(PLAN);

    // Act
    const first = await applyDemoStart(plan, {
      start: 'today',
      dataDir: dir,
      today: new Date('2026-12-06T12:00:00Z'),
    });
    const later = await applyDemoStart(plan, {
      start: 'today',
      dataDir: dir,
      today: new Date('2026-12-09T12:00:00Z'),
    });

    // Assess
    expect(first.plan.project.start).toBe('2026-12-07');
    expect(first.lines[0]).toBe(
      'demo start: plan demo starts Mon 2026-12-07 instead of 2026-01-01: the next working day after 2026-12-06',
    );
    expect(first.lines).toContain('  phase one due Thu 2026-12-24 (the plan says 2026-01-21)');
    expect(later.plan.project.start).toBe('2026-12-07');
    expect(later.lines[0]).toMatch(/kept from the first run/);
    expect(JSON.parse(readFileSync(join(dir, DEMO_START_FILE), 'utf8'))).toEqual({
      demo: { project: 'demo', planStart: '2026-01-01', start: '2026-12-07' },
    });
  });

  it('moves the plan to a date given, and afresh when the plan file names a new start', async () => {
    // Prepare
    const dir = dataDir();
    const today = new Date('2026-12-06T12:00:00Z');
    await applyDemoStart(validPlan(PLAN), { start: 'today', dataDir: dir, today });

    // Act
    const forced = await applyDemoStart(validPlan(PLAN), { start: '2027-03-01', dataDir: dir, today });
    const edited = await applyDemoStart(validPlan(PLAN.replace('start: 2026-01-01', 'start: 2026-01-05')), {
      start: 'today',
      dataDir: dir,
      today,
    });

    // Assess
    expect(forced.plan.project.start).toBe('2027-03-01');
    expect(edited.plan.project.start).toBe('2026-12-07');
    expect(edited.lines[0]).toMatch(/instead of 2026-01-05: the next working day/);
  });

  it('rejects a start that is neither today nor a calendar date', async () => {
    // Act
    const applying = applyDemoStart(validPlan(PLAN), {
      start: '2026-02-30',
      dataDir: dataDir(),
      today: new Date(),
    });

    // Assess
    await expect(applying).rejects.toThrow('--start must be "today" or a date YYYY-MM-DD, got "2026-02-30"');
  });
});
