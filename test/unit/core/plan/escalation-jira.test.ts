import { describe, expect, it } from 'vitest';
import { formatPlanError, parsePlan, planJsonSchema } from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN, planErrors, validPlan } from '../../../fixtures/plans.js';

/** The minimal plan with one escalation rule whose `jira` field is `jira`, and `projects` as JIRA's. */
const withRule = (jira: string, projects = '[AV12, OPS]') => `${MINIMAL_PLAN}escalations:
  - id: tps-low
    when: "tps < 1_500_000"
    notify: [pm]
    jira: ${jira}
integrations:
  jira:
    projects: ${projects}
`;

describe('escalation rule jira', () => {
  it('defaults the issue type to Task and keeps the project', () => {
    // Act
    const plan = validPlan(withRule('{ project: AV12 }'));

    // Assess
    expect(plan.escalations[0]?.jira).toEqual({ project: 'AV12', type: 'Task' });
  });

  it('keeps an issue type the rule names', () => {
    // Act
    const plan = validPlan(withRule('{ project: OPS, type: Incident }'));

    // Assess
    expect(plan.escalations[0]?.jira).toEqual({ project: 'OPS', type: 'Incident' });
  });

  it('leaves a rule without it asking for no issue', () => {
    // Act
    const plan = validPlan(`${MINIMAL_PLAN}escalations:\n  - { id: slow, when: "tps < 1", notify: [pm] }\n`);

    // Assess
    expect(plan.escalations[0]?.jira).toBeUndefined();
  });

  it('reports a project outside integrations.jira.projects at its line and column, with the closest one', () => {
    // Act
    const result = parsePlan(withRule('{ project: AV21 }'));

    // Assess
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      'plan.yaml:32:22: escalations[0].jira.project: JIRA project "AV21" is not in integrations.jira.projects (AV12, OPS) (did you mean "AV12"?)',
    ]);
  });

  it('reports a project when the plan lists no JIRA projects at all', () => {
    // Prepare
    const text = `${MINIMAL_PLAN}escalations:
  - id: security
    on: security.critical
    notify: [pm]
    jira:
      project: SEC
`;

    // Act
    const result = parsePlan(text, { file: 'risky.yaml' });

    // Assess
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      'risky.yaml:33:16: escalations[0].jira.project: JIRA project "SEC" is not in integrations.jira.projects (the plan lists none); add it there',
    ]);
  });

  it('rejects a malformed project key, a missing project, an empty type and unknown fields', () => {
    // Act
    const lower = planErrors(withRule('{ project: av12 }'));
    const missing = planErrors(withRule('{ type: Bug }'));
    const empty = planErrors(withRule('{ project: AV12, type: "" }'));
    const unknown = planErrors(withRule('{ project: AV12, priority: High }'));

    // Assess
    expect(lower).toEqual([
      'escalations[0].jira.project: invalid JIRA project key "av12" (expected upper-case letters and digits, e.g. PAY)',
    ]);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^escalations\[0\]\.jira\.project: /);
    expect(empty).toHaveLength(1);
    expect(empty[0]).toMatch(/^escalations\[0\]\.jira\.type: /);
    expect(unknown).toEqual([
      expect.stringMatching(/^escalations\[0\]\.jira\.priority: unknown field "priority"/),
    ]);
  });

  it('is part of the JSON Schema that convoy schema prints', () => {
    // Act
    const schema = planJsonSchema() as {
      properties: { escalations: { items: { properties: Record<string, unknown> } } };
    };

    // Assess
    expect(schema.properties.escalations.items.properties.jira).toMatchObject({
      type: 'object',
      properties: { project: { type: 'string' }, type: { type: 'string', default: 'Task' } },
      required: ['project'],
      additionalProperties: false,
    });
  });
});
