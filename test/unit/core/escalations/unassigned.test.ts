import { describe, expect, it } from 'vitest';
import { agentAbout, resolveTargets } from '../../../../functions/core/escalations/index.js';
import { MINIMAL_PLAN, validPlan } from '../../../fixtures/plans.js';

/** task-1a has no agent: any agent may claim it. beta has a backup, alpha none. */
const PLAN = validPlan(
  MINIMAL_PLAN.replace(
    '        agent: alpha\n        estimate: 1d\n      - id: task-1b',
    '        estimate: 1d\n      - id: task-1b',
  )
    .replace('people:\n  - id: pm\n', 'people:\n  - id: pm\n  - id: pm2\n')
    .replace('  - id: beta\n    owner: pm\n', '  - id: beta\n    owner: pm\n    backup: pm2\n'),
);

describe('escalations about an unassigned task', () => {
  it('are about the agent that claimed it, as the event names it', () => {
    // Act
    const agent = agentAbout(PLAN, 'task-1a', { agent: 'beta' });

    // Assess: its owner and backup are reached, as for an assigned task.
    expect(agent).toBe('beta');
    expect(resolveTargets(PLAN, ['owner', 'backup'], agent)).toEqual(['pm', 'pm2']);
  });

  it('are about no agent while nobody claimed it: owner and backup targets reach no one', () => {
    // Act
    const agent = agentAbout(PLAN, 'task-1a', {});

    // Assess
    expect(agent).toBeUndefined();
    expect(resolveTargets(PLAN, ['owner', 'backup', 'pm'], agent)).toEqual(['pm']);
  });

  it('leave an assigned task about the agent the plan names, whatever the event says', () => {
    expect(agentAbout(PLAN, 'task-1b', { agent: 'alpha' })).toBe('beta');
  });
});
