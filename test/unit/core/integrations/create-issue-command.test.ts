import { describe, expect, it } from 'vitest';
import { describeCommand } from '../../../../functions/adapters/jira/command-runner.js';
import { type JiraCommand, lineOf } from '../../../../functions/core/integrations/model.js';
import { requestsPerCommand } from '../../../../functions/core/integrations/outbox-worker.js';

const create: JiraCommand = {
  kind: 'create-issue',
  project: 'AV12',
  type: 'Task',
  summary: 'Escalation TPS below target: tps is 42 (tps < 100)',
  description: 'Tech Lead: please resolve within 2h.\n\nNotified: Tech Lead.',
  label: 'convoy-0123456789abcdef',
};

describe('the create-issue command', () => {
  it('is ordered by its JIRA project, apart from any issue of it', () => {
    // Act
    const lines = [lineOf(create), lineOf({ kind: 'comment', issue: 'av12-7', body: 'x' })];

    // Assess
    expect(lines).toEqual(['AV12', 'AV12-7']);
  });

  it('takes two limiter tokens: the search for its label and the create', () => {
    expect(requestsPerCommand(create)).toBe(2);
  });

  it('reads as one line saying what JIRA would get', () => {
    expect(describeCommand(create)).toBe(
      'AV12: create Task "Escalation TPS below target: tps is 42 (tps < 100)" (label convoy-0123456789abcdef): Tech Lead: please resolve within 2h. / Notified: Tech Lead.',
    );
  });
});
