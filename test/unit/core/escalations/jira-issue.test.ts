import { describe, expect, it } from 'vitest';
import {
  type EscalationChange,
  onEvent,
  onMetrics,
  onTick,
  wantsJiraIssue,
} from '../../../../functions/core/escalations/index.js';
import { escalationIssue } from '../../../../functions/core/escalations/service.js';
import type { Plan } from '../../../../functions/core/plan/index.js';
import { at, HOUR, MemoryEscalations, PLAN, point } from './support.js';

/** The support plan with a `jira` field on the tps-low rule. */
const PLAN_WITH_JIRA: Plan = {
  ...PLAN,
  escalations: PLAN.escalations.map((rule) =>
    rule.id === 'tps-low'
      ? { ...rule, name: 'TPS below target', jira: { project: 'AV12', type: 'Task' } }
      : rule,
  ),
  integrations: {
    ...PLAN.integrations,
    jira: {
      projects: ['AV12'],
      statuses: { in_progress: 'In Progress', in_review: 'In Review', done: 'Done' },
    },
  },
};

function opening(plan: Plan = PLAN_WITH_JIRA, offset = 0): EscalationChange {
  const [change] = onMetrics(plan, [], point('tps', 1_200_000, offset), at(offset));
  if (!change) throw new Error('the tps-low rule did not open an escalation');
  return change;
}

function issueOf(change: EscalationChange, plan: Plan = PLAN_WITH_JIRA) {
  const notice = change.notices[0];
  if (!notice?.jiraIssue) throw new Error('the opening asks for no JIRA issue');
  return escalationIssue(plan, change.escalation, notice, notice.jiraIssue);
}

describe('wantsJiraIssue', () => {
  it("reads the rule's jira field, and nothing for a rule without one", () => {
    // Act
    const asked = PLAN_WITH_JIRA.escalations.map((rule) => [rule.id, wantsJiraIssue(rule)]);

    // Assess
    expect(asked).toEqual([
      ['tps-low', { project: 'AV12', type: 'Task' }],
      ['blocked', undefined],
      ['security', undefined],
      ['deploy', undefined],
    ]);
  });
});

describe('escalationIssue', () => {
  it("describes the opening: the rule and reason in the summary, who is notified and the escalation's id in the description", () => {
    // Prepare
    const change = opening();

    // Act
    const command = issueOf(change);

    // Assess
    expect(command).toMatchObject({
      kind: 'create-issue',
      project: 'AV12',
      type: 'Task',
      summary: 'Escalation TPS below target: tps is 1,200,000 (tps < 1,500,000)',
    });
    expect(command.label).toMatch(/^convoy-[0-9a-f]{16}$/);
    expect(command.description).toContain('Notified: Tech Lead and CTO.');
    expect(command.description).toContain('tps is 1,200,000 (tps < 1,500,000)');
    expect(command.description).toContain(change.escalation.id);
  });

  it('gives the same escalation the same label, and other escalations or projects other labels', () => {
    // Prepare
    const first = opening();
    const later = opening(PLAN_WITH_JIRA, 3 * HOUR);
    const elsewhere = opening({ ...PLAN_WITH_JIRA, project: { ...PLAN_WITH_JIRA.project, id: 'other' } });

    // Act
    const labels = [issueOf(first), issueOf(first), issueOf(later), issueOf(elsewhere)].map((c) => c.label);

    // Assess
    expect(labels[0]).toBe(labels[1]);
    expect(new Set(labels).size).toBe(3);
  });

  it('is asked for by the opening only, never by an update, a climb or a resolution', () => {
    // Prepare
    const store = new MemoryEscalations();
    const opened = store.apply([opening()]);

    // Act
    const later = [
      ...store.apply(onMetrics(PLAN_WITH_JIRA, store.unresolved(), point('tps', 1_100_000, HOUR), at(HOUR))),
      ...store.apply(onTick(PLAN_WITH_JIRA, store.unresolved(), at(3 * HOUR))),
      ...store.apply(
        onMetrics(PLAN_WITH_JIRA, store.unresolved(), point('tps', 2_000_000, 4 * HOUR), at(4 * HOUR)),
      ),
    ];

    // Assess
    expect(opened.flatMap((change) => change.notices.map((notice) => notice.jiraIssue))).toEqual([
      { project: 'AV12', type: 'Task' },
    ]);
    expect(later.flatMap((change) => change.kinds)).toEqual(
      expect.arrayContaining(['updated', 'escalated', 'resolved']),
    );
    expect(later.flatMap((change) => change.notices).filter((notice) => notice.jiraIssue)).toEqual([]);
  });

  it('is not asked for by a rule without jira', () => {
    // Act
    const change = opening(PLAN);
    const security = onEvent(
      PLAN_WITH_JIRA,
      [],
      { type: 'security.critical', at: at(0).toISOString() },
      at(0),
    );

    // Assess
    expect(change.notices[0]?.jiraIssue).toBeUndefined();
    expect(security[0]?.notices[0]?.jiraIssue).toBeUndefined();
  });
});
