import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  handoffContent,
  handoffTargets,
  suggestChecklistItem,
} from '../../../../functions/core/coordination/handoff.js';
import { parsePlan } from '../../../../functions/core/plan/index.js';
import { validPlan } from '../../../fixtures/plans.js';

const example = (file: string) => {
  const parsed = parsePlan(readFileSync(`examples/${file}`, 'utf8'), { file });
  if (!parsed.ok) throw new Error(`examples/${file} is invalid`);
  return parsed.plan;
};

describe('suggestChecklistItem', () => {
  const sprint = example('sprint-20-23.yaml').handoff;
  const proto = example('proto-refactor.yaml').handoff;

  it.each([
    ['Code review completed', sprint, 'Code review completed (24-hour turnaround)'],
    ['code review completed (24 hour turnaround)', sprint, 'Code review completed (24-hour turnaround)'],
    ['PR linked to its AV12 JIRA tciket', sprint, 'PR linked to its AV12 JIRA ticket'],
    ['No credentials in code or logs', sprint, 'No credentials in code, logs, JIRA or Slack'],
    ['Code: all tests passing', proto, 'Code: All tests pass'],
    ['Docs: all examples tested.', proto, 'Docs: All examples tested'],
  ])('suggests for %j the item meant', (item, items, expected) => {
    expect(suggestChecklistItem(item, items)).toBe(expected);
  });

  it.each([
    ['Deployed to production', sprint],
    ['', sprint],
    ['tests', proto],
  ])('suggests nothing for %j, which means no item', (item, items) => {
    expect(suggestChecklistItem(item, items)).toBeUndefined();
  });
});

describe('handoffTargets', () => {
  const plan = validPlan(`version: 1
project: { id: demo, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }]
phases:
  - id: build
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
      - { id: client, agent: alpha, estimate: 1d, dependsOn: [api] }
      - { id: docs, agent: alpha, estimate: 1d, dependsOn: [client] }
      - { id: lint, agent: alpha, estimate: 1d }
  - id: ship
    dependsOn: [build]
    tasks:
      - { id: deploy, agent: alpha, estimate: 1d }
  - id: other
    tasks:
      - { id: survey, agent: alpha, estimate: 1d }
`);

  it('names the tasks that depend on a task, directly, through other tasks or through its phase', () => {
    // Act
    const targets = handoffTargets(plan, 'api');

    // Assess
    expect([...targets.all].sort()).toEqual(['client', 'deploy', 'docs']);
    expect(targets.direct).toEqual(['client']);
  });

  it('falls back to the next phase when no task names it, and to nothing for an independent phase', () => {
    expect(handoffTargets(plan, 'lint')).toEqual({ all: new Set(['deploy']), direct: ['deploy'] });
    expect(handoffTargets(plan, 'survey')).toEqual({ all: new Set(), direct: [] });
  });
});

describe('handoffContent', () => {
  it('is the same for the same handoff in any order, and differs when anything differs', () => {
    const base = { task: 'api', to: ['docs', 'client'], checklist: { b: true, a: true }, notes: 'n' };
    expect(handoffContent(base)).toBe(
      handoffContent({ task: 'api', to: ['client', 'docs'], checklist: { a: true, b: true }, notes: 'n' }),
    );
    expect(handoffContent(base)).not.toBe(handoffContent({ ...base, notes: 'other' }));
    expect(handoffContent(base)).not.toBe(handoffContent({ ...base, to: ['docs'] }));
  });
});
