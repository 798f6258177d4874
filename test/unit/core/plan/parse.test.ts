import { describe, expect, it } from 'vitest';
import { formatPlanError, parsePlan } from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN, planErrors, validPlan } from '../../../fixtures/plans.js';

/** The minimal plan with one line replaced (exact match), for targeted breakage. */
const replace = (from: string, to: string, text = MINIMAL_PLAN) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
};

describe('parsePlan', () => {
  describe('defaults', () => {
    it('applies every default of docs/plan-format.md when fields are omitted', () => {
      // Act
      const plan = validPlan(MINIMAL_PLAN);

      // Assess
      expect(plan.project.name).toBe('demo');
      expect(plan.project.workdays).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);
      expect(plan.project.holidays).toEqual([]);
      expect(plan.agents[0]).toMatchObject({ id: 'alpha', name: 'alpha', kind: 'ai' });
      expect(plan.phases[0]?.dependsOn).toEqual([]);
      expect(plan.phases[0]?.tasks[0]).toMatchObject({
        title: 'task-1a',
        dependsOn: [],
        touches: [],
        deliverables: [],
      });
      expect(plan.schedules.map((s) => [s.id, s.job, s.at, s.days.join(',')])).toEqual([
        ['standup', 'standup', '09:00', 'mon,tue,wed,thu,fri'],
        ['sync', 'sync', '16:00', 'mon,tue,wed,thu,fri'],
        ['report', 'report', '17:00', 'mon,tue,wed,thu,fri'],
        ['gate-review', 'gate-review', '17:00', 'fri'],
      ]);
      expect(plan.gates).toEqual([]);
      expect(plan.handoff).toEqual([]);
    });

    it('defaults gate, escalation, schedule and integration fields', () => {
      // Prepare
      const text = `${replace('  start: 2026-01-05', '  start: 2026-01-05\n  workdays: [mon, wed, fri]')}gates:
  - id: g
    criteria: [{ go: "tps >= 2_000_000" }]
escalations:
  - id: slow
    when: "tps < 1_500_000"
    notify: [pm]
schedules:
  - id: standup
    job: standup
    at: "09:30"
integrations:
  slack:
    channel: "#demo"
  jira:
    site: https://example.atlassian.net
`;
      // Act
      const plan = validPlan(text);

      // Assess
      expect(plan.gates[0]).toMatchObject({ cautionWindow: '1d', maxCautions: 2, approvers: [] });
      expect(plan.escalations[0]).toMatchObject({ name: 'slow', sla: '2h', levels: [] });
      expect(plan.schedules).toEqual([
        { id: 'standup', name: 'standup', job: 'standup', at: '09:30', days: ['mon', 'wed', 'fri'] },
      ]);
      expect(plan.integrations.slack).toEqual({ channel: '#demo', escalations: '#demo' });
      expect(plan.integrations.jira?.statuses).toEqual({
        in_progress: 'In Progress',
        in_review: 'In Review',
        done: 'Done',
      });
    });

    it('reads the same plan from JSON', () => {
      // Prepare
      const yamlPlan = validPlan(MINIMAL_PLAN);
      const json = JSON.stringify({
        version: 1,
        project: { id: 'demo', timezone: 'America/New_York', start: '2026-01-05' },
        people: [{ id: 'pm' }],
        agents: [
          { id: 'alpha', owner: 'pm' },
          { id: 'beta', owner: 'pm' },
        ],
        phases: [
          {
            id: 'phase-1',
            tasks: [
              { id: 'task-1a', agent: 'alpha', estimate: '1d' },
              { id: 'task-1b', agent: 'beta', estimate: '2d' },
            ],
          },
          {
            id: 'phase-2',
            dependsOn: ['phase-1'],
            tasks: [{ id: 'task-2a', agent: 'alpha', estimate: '1d' }],
          },
        ],
      });

      // Act
      const jsonPlan = validPlan(json, 'plan.json');

      // Assess
      expect(jsonPlan).toEqual(yamlPlan);
    });

    it('reads unquoted times, dates and the key "on" as YAML 1.2 strings, not numbers or booleans', () => {
      // Prepare
      const text = `${MINIMAL_PLAN}escalations:
  - id: security
    on: security.critical
    notify: [pm]
schedules:
  - id: standup
    job: standup
    at: 09:00
`;
      // Act
      const plan = validPlan(text);

      // Assess
      expect(plan.escalations[0]?.on).toBe('security.critical');
      expect(plan.schedules[0]?.at).toBe('09:00');
      expect(plan.project.start).toBe('2026-01-05');
    });
  });

  describe('errors', () => {
    it('reports the example of docs/plan-format.md with file, line, column, path and a did-you-mean', () => {
      // Prepare
      const text = `${MINIMAL_PLAN}        dependsOn: [taks-1a]\n`;

      // Act
      const result = parsePlan(text, { file: 'plan.yaml' });

      // Assess
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors.map(formatPlanError)).toEqual([
        'plan.yaml:28:21: phases[1].tasks[0].dependsOn[0]: unknown task "taks-1a" (did you mean "task-1a"?)',
      ]);
    });

    it('reports every problem at once, in file order', () => {
      // Prepare
      let text = replace('  timezone: America/New_York', '  timezone: Mars/Olympus');
      text = replace('    owner: pm\n  - id: beta', '    owner: pmm\n  - id: beta', text);
      text = replace('        estimate: 2d', '        estimate: 2 days', text);
      text = replace('  - id: phase-2\n', '  - id: phase-2\n    colour: blue\n', text);

      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toEqual([
        'project.timezone: unknown time zone "Mars/Olympus" (expected an IANA name like America/New_York)',
        'agents[0].owner: unknown person "pmm" (did you mean "pm"?)',
        'phases[0].tasks[1].estimate: invalid duration "2 days" (expected a number and a unit m, h, d or w, e.g. 30m, 2h, 1.5d, 2w)',
        'phases[1].colour: unknown field "colour" (expected one of: id, name, dependsOn, due, gate, tasks)',
      ]);
    });

    it('suggests the closest field name for a misspelt field and points at the key', () => {
      // Prepare
      const text = replace('      - id: task-2a', '      - id: task-2a\n        dependson: [task-1a]');

      // Act
      const result = parsePlan(text);

      // Assess
      expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
        'plan.yaml:26:9: phases[1].tasks[0].dependson: unknown field "dependson" (did you mean "dependsOn"?)',
      ]);
    });

    it('reports a YAML syntax error with its position and nothing else', () => {
      // Prepare
      const text = replace('  - id: pm', '  - id: [pm');

      // Act
      const result = parsePlan(text, { file: 'broken.yaml' });

      // Assess
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors[0]?.file).toBe('broken.yaml');
      expect(result.errors[0]?.line).toBeGreaterThanOrEqual(7);
      expect(result.errors[0]?.message).toMatch(/^YAML syntax error: /);
    });

    it('reports a JSON syntax error with its line and column', () => {
      // Act
      const result = parsePlan('{\n  "version": 1,\n  "project": }\n', { file: 'plan.json' });

      // Assess
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({
        file: 'plan.json',
        line: 3,
        column: 14,
        message: 'JSON syntax error: value expected',
      });
    });

    it('reports duplicate keys, an empty file and a plan that is not a mapping', () => {
      expect(planErrors(replace('  id: demo', '  id: demo\n  id: again'))).toEqual([
        'YAML syntax error: duplicated mapping key',
      ]);
      expect(planErrors('')).toEqual([
        'the plan is empty (expected a mapping with version, project, agents and phases)',
      ]);
      expect(planErrors('- just\n- a list\n')).toEqual(['expected a mapping, got a list']);
    });

    it('names missing required fields and wrong types', () => {
      // Prepare
      let text = replace('  start: 2026-01-05\n', '');
      text = replace('version: 1', 'version: 2', text);
      text = replace(
        '    tasks:\n      - id: task-2a',
        '    tasks: task-2a\n    unused:\n      - id: task-2a',
        text,
      );

      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toContain('version: unsupported version 2 (this Convoy reads version 1)');
      expect(errors).toContain('project.start: required field "start" is missing');
      expect(errors).toContain('phases[1].tasks: expected a list, got string "task-2a"');
    });

    it.each([
      ['id', '  - id: phase-2', '  - id: Phase-2', 'phases[1].id: invalid phase id "Phase-2"'],
      [
        'duration',
        '        estimate: 1d\n      - id: task-1b',
        '        estimate: 1x\n      - id: task-1b',
        'phases[0].tasks[0].estimate: invalid duration "1x"',
      ],
      [
        'zero estimate',
        '        estimate: 1d\n      - id: task-1b',
        '        estimate: 0h\n      - id: task-1b',
        'phases[0].tasks[0].estimate: must be more than zero',
      ],
      [
        'date',
        '  start: 2026-01-05',
        '  start: 2026-1-5',
        'project.start: invalid date "2026-1-5" (expected YYYY-MM-DD)',
      ],
      [
        'calendar date',
        '  start: 2026-01-05',
        '  start: 2026-02-29',
        'project.start: invalid date "2026-02-29" (no such day in the calendar)',
      ],
      [
        'weekday',
        '  start: 2026-01-05',
        '  start: 2026-01-05\n  workdays: [mon, tues]',
        'project.workdays[1]: invalid weekday "tues"',
      ],
      [
        'time zone',
        '  timezone: America/New_York',
        '  timezone: EST5',
        'project.timezone: unknown time zone "EST5"',
      ],
      [
        'jira key',
        '        estimate: 2d',
        '        estimate: 2d\n        jira: pay-1',
        'phases[0].tasks[1].jira: invalid JIRA issue key "pay-1"',
      ],
      [
        'agent kind',
        '    owner: pm\n  - id: beta',
        '    owner: pm\n    kind: robot\n  - id: beta',
        'agents[0].kind: invalid value string "robot" (expected one of: ai, human)',
      ],
    ])('rejects a malformed %s', (_what, from, to, expected) => {
      // Act
      const errors = planErrors(replace(from, to));

      // Assess
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(expected);
    });

    it.each([
      [
        'time of day',
        'schedules:\n  - { id: s, job: standup, at: "25:00" }',
        'schedules[0].at: invalid time of day "25:00"',
      ],
      [
        'condition',
        'gates:\n  - { id: g, criteria: [{ go: "tps => 5" }] }',
        'gates[0].criteria[0].go: invalid condition "tps => 5"',
      ],
      [
        'event type',
        'escalations:\n  - { id: e, on: Security!, notify: [pm] }',
        'escalations[0].on: invalid event type "Security!"',
      ],
      [
        'job',
        'schedules:\n  - { id: s, job: standups, at: "09:00" }',
        'schedules[0].job: invalid value string "standups" (did you mean "standup"?)',
      ],
      [
        'maxCautions',
        'gates:\n  - { id: g, maxCautions: -1 }',
        'gates[0].maxCautions: must be at least 0, got number -1',
      ],
    ])('rejects a malformed %s in an optional section', (_what, section, expected) => {
      // Act
      const errors = planErrors(`${MINIMAL_PLAN}${section}\n`);

      // Assess
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(expected);
    });

    it('reports duplicate ids of every kind, naming the first declaration', () => {
      // Prepare
      let text = replace('      - id: task-2a', '      - id: task-1a');
      text = replace('  - id: beta', '  - id: alpha', text);
      text = `${text}gates:\n  - id: g\n  - id: g\n`;

      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toEqual([
        'agents[1].id: duplicate agent id "alpha" (first declared at agents[0])',
        'phases[0].tasks[1].agent: unknown agent "beta"',
        'phases[1].tasks[0].id: duplicate task id "task-1a" (first declared at phases[0].tasks[0])',
        'gates[1].id: duplicate gate id "g" (first declared at gates[0])',
      ]);
    });

    it('reports dangling references to people, agents, tasks, phases, gates and resources', () => {
      // Prepare
      let text = replace('    owner: pm\n  - id: beta', '    owner: pm\n    backup: bob\n  - id: beta');
      text = replace('    dependsOn: [phase-1]', '    dependsOn: [phase-one]\n    gate: exit', text);
      text = replace('        estimate: 2d', '        estimate: 2d\n        touches: [schema]', text);
      text = `${text}gates:\n  - id: exit-gate\n    approvers: [cto]\nresources:\n  - { id: db, owner: gamma }\nescalations:\n  - { id: e, on: x.y, notify: [pm, ownr], levels: [{ notify: [cfo] }] }\n`;

      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toEqual([
        'agents[0].backup: unknown person "bob"',
        'phases[0].tasks[1].touches[0]: unknown resource "schema"',
        'phases[1].dependsOn[0]: unknown phase "phase-one" (did you mean "phase-1"?)',
        'phases[1].gate: unknown gate "exit"',
        'gates[0].approvers[0]: unknown person "cto"',
        'resources[0].owner: unknown agent "gamma"',
        'escalations[0].notify[1]: unknown person "ownr" (did you mean "owner"?)',
        'escalations[0].levels[0].notify[0]: unknown person "cfo"',
      ]);
    });

    it('prints a task cycle in dependency order, pointing at the dependsOn entry that closes it', () => {
      // Prepare
      const text = `${MINIMAL_PLAN}      - id: build-api
        agent: beta
        estimate: 1d
        dependsOn: [write-docs]
      - id: write-docs
        agent: beta
        estimate: 1d
        dependsOn: [write-tests]
      - id: write-tests
        agent: beta
        estimate: 1d
        dependsOn: [build-api]
`;
      // Act
      const result = parsePlan(text);

      // Assess
      expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
        'plan.yaml:31:21: phases[1].tasks[1].dependsOn[0]: dependency cycle: build-api → write-docs → write-tests → build-api (each depends on the next)',
      ]);
    });

    it('finds a cycle that runs through an implicit phase dependency', () => {
      // Prepare: task-1a waits for task-x of an unrelated phase, which waits for task-2a, which waits for all of phase-1.
      const text = `${replace('        estimate: 1d\n      - id: task-1b', '        estimate: 1d\n        dependsOn: [task-x]\n      - id: task-1b')}  - id: side
    tasks:
      - id: task-x
        agent: beta
        estimate: 1d
        dependsOn: [task-2a]
`;
      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toEqual([
        'phases[0].tasks[0].dependsOn[0]: dependency cycle: task-1a → task-x → task-2a → (every task of phase "phase-1") → task-1a (each depends on the next)',
      ]);
    });

    it('reports a cycle among phases and a task depending on a later phase', () => {
      // Prepare
      const cyclic = replace('  - id: phase-1\n', '  - id: phase-1\n    dependsOn: [phase-2]\n');
      const backwards = replace('        estimate: 2d', '        estimate: 2d\n        dependsOn: [task-2a]');

      // Act
      const cycleErrors = planErrors(cyclic);
      const laterErrors = planErrors(backwards);

      // Assess
      expect(cycleErrors).toEqual([
        'phases[0].dependsOn[0]: dependency cycle among phases: phase-1 → phase-2 → phase-1 (each depends on the next)',
      ]);
      expect(laterErrors).toEqual([
        'phases[0].tasks[1].dependsOn[0]: task "task-1b" of phase "phase-1" depends on task "task-2a" of the later phase "phase-2" (which waits for phase "phase-1")',
      ]);
    });

    it('rejects a self-dependency, a repeated dependency and a shared gate', () => {
      // Prepare
      let text = replace(
        '        estimate: 2d',
        '        estimate: 2d\n        dependsOn: [task-1b, task-1a, task-1a]',
      );
      text = replace('  - id: phase-1\n', '  - id: phase-1\n    gate: g\n', text);
      text = replace('    dependsOn: [phase-1]', '    dependsOn: [phase-1]\n    gate: g', text);

      // Act
      const errors = planErrors(`${text}gates:\n  - id: g\n`);

      // Assess
      expect(errors).toEqual([
        'phases[0].tasks[1].dependsOn[0]: task "task-1b" depends on itself',
        'phases[0].tasks[1].dependsOn[2]: "task-1a" is listed twice',
        'phases[1].gate: gate "g" is already the gate of phase "phase-1"; each phase needs its own gate',
      ]);
    });

    it('requires exactly one of when / on in an escalation rule', () => {
      // Prepare
      const text = `${MINIMAL_PLAN}escalations:
  - { id: both, when: "tps < 1", on: x.y, notify: [pm] }
  - { id: neither, notify: [owner] }
  - { id: cond, when: "tps < 1", resolvedBy: x.ok, notify: [backup] }
`;
      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toEqual([
        'escalations[0]: has both "when" and "on"; a rule needs exactly one of them',
        'escalations[1]: needs exactly one of "when" (a condition) or "on" (an event type)',
        'escalations[2].resolvedBy: applies to event rules ("on") only; a "when" rule resolves itself when its condition stops holding',
      ]);
    });

    it('rejects a JIRA key outside the projects Convoy takes keys from', () => {
      // Prepare
      const text = `${replace('        estimate: 2d', '        estimate: 2d\n        jira: OPS-7')}integrations:\n  jira:\n    projects: [PAY]\n`;

      // Act
      const errors = planErrors(text);

      // Assess
      expect(errors).toEqual([
        'phases[0].tasks[1].jira: issue key "OPS-7" is not in integrations.jira.projects (PAY), so Convoy would never link it',
      ]);
    });

    it('never throws on arbitrary input', () => {
      for (const text of [
        '{',
        ']]]',
        '\t',
        'version: [1',
        '*alias',
        '&a [*a]',
        'phases: 3',
        '{"a":',
        'null',
        '42',
        '"x"',
      ]) {
        expect(() => parsePlan(text)).not.toThrow();
        expect(parsePlan(text).ok).toBe(false);
      }
    });
  });
});
