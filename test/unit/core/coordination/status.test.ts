import { describe, expect, it } from 'vitest';
import type {
  AgentState,
  MetricPoint,
  PhaseState,
  PhaseStatus,
  ProjectSnapshot,
  ResourceLease,
  TaskState,
} from '../../../../functions/core/coordination/model.js';
import {
  computeStatus,
  reassignmentsFrom,
  statusView,
} from '../../../../functions/core/coordination/status.js';
import type { Escalation } from '../../../../functions/core/escalations/model.js';
import type { GateOverview } from '../../../../functions/core/gates/service.js';
import type { TaskStatus } from '../../../../functions/core/plan/index.js';
import { validPlan } from '../../../fixtures/plans.js';

/**
 * alpha (heartbeat 15m) has three 1d tasks; beta (human, no heartbeat) has 2d and 4h; gamma has none.
 * phase-1 has a due date and a gate, phase-2 neither.
 */
const PLAN = validPlan(`version: 1
project:
  id: demo
  name: Demo Project
  timezone: America/New_York
  start: 2026-01-05
people:
  - id: pm
agents:
  - id: alpha
    name: Agent Alpha
    owner: pm
    heartbeat: 15m
  - id: beta
    kind: human
    owner: pm
  - id: gamma
    owner: pm
phases:
  - id: phase-1
    name: Foundations
    due: 2026-01-09
    gate: g1
    tasks:
      - id: task-1a
        title: Schema
        agent: alpha
        estimate: 1d
        jira: PAY-101
      - id: task-1b
        agent: beta
        estimate: 2d
      - id: task-1c
        agent: alpha
        estimate: 1d
  - id: phase-2
    dependsOn: [phase-1]
    tasks:
      - id: task-2a
        agent: alpha
        estimate: 1d
      - id: task-2b
        agent: beta
        estimate: 4h
gates:
  - id: g1
    criteria: [{ go: "tps >= 2_000_000" }]
`);

const APPLIED_AT = '2026-01-05T14:00:00.000Z';
const NOW = new Date('2026-01-06T15:00:00.000Z');
const minutesBeforeNow = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

const task = (id: string, status: TaskStatus, extra: Partial<TaskState> = {}): TaskState => ({
  id,
  status,
  blocked: false,
  updatedAt: '2026-01-06T10:00:00.000Z',
  updatedBy: 'agent:alpha',
  version: 1,
  ...extra,
});

const phase = (id: string, status: PhaseStatus): PhaseState => ({
  id,
  status,
  updatedAt: APPLIED_AT,
  version: 1,
});

const agent = (id: string, extra: Partial<AgentState> = {}): AgentState => ({
  id,
  heartbeats: 1,
  version: 1,
  ...extra,
});

const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((item) => [item.id, item]));

const snapshot = (
  state: { phases?: PhaseState[]; tasks?: TaskState[]; agents?: AgentState[]; metrics?: MetricPoint[] } = {},
): ProjectSnapshot => ({
  plan: { project: 'demo', version: 3, plan: PLAN, appliedAt: APPLIED_AT, appliedBy: 'admin' },
  phases: byId(state.phases ?? [phase('phase-1', 'active')]),
  tasks: byId(state.tasks ?? []),
  agents: byId(state.agents ?? []),
  metrics: new Map((state.metrics ?? []).map((point) => [point.name, point])),
});

const agentStatus = (status: ReturnType<typeof computeStatus>, id: string) => {
  const found = status.agents.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`agent ${id} is missing from the status`);
  return found;
};

describe('computeStatus', () => {
  it('identifies the project, its plan version and when the status was computed', () => {
    // Prepare
    const state = snapshot();

    // Act
    const status = computeStatus(state, NOW, [{ rule: 'tps-below-target' }]);

    // Assess
    expect(status).toMatchObject({
      project: 'demo',
      name: 'Demo Project',
      planVersion: 3,
      generatedAt: '2026-01-06T15:00:00.000Z',
      escalations: [{ rule: 'tps-below-target' }],
    });
    expect(computeStatus(state, NOW).escalations).toEqual([]);
  });

  describe('phases', () => {
    it('counts the tasks of each phase by status, plus the blocked ones', () => {
      // Prepare: task-1c has no state, so it is todo
      const state = snapshot({
        tasks: [
          task('task-1a', 'done'),
          task('task-1b', 'in_progress', { blocked: true, blockedReason: 'waiting for the schema review' }),
          task('task-2a', 'in_review'),
          task('task-2b', 'in_progress', { blocked: true, blockedReason: 'no access' }),
        ],
      });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.phases).toEqual([
        {
          id: 'phase-1',
          name: 'Foundations',
          status: 'active',
          due: '2026-01-09',
          gate: 'g1',
          total: 3,
          tasks: { todo: 1, in_progress: 1, in_review: 0, done: 1, blocked: 1 },
        },
        {
          id: 'phase-2',
          name: 'phase-2',
          status: 'pending',
          total: 2,
          tasks: { todo: 0, in_progress: 1, in_review: 1, done: 0, blocked: 1 },
        },
      ]);
    });

    it('lists the active phases', () => {
      // Prepare
      const state = snapshot({ phases: [phase('phase-1', 'passed'), phase('phase-2', 'active')] });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.activePhases).toEqual(['phase-2']);
      expect(status.phases.map((p) => [p.id, p.status])).toEqual([
        ['phase-1', 'passed'],
        ['phase-2', 'active'],
      ]);
    });

    it('lists no active phase when every phase is pending', () => {
      // Prepare
      const state = snapshot({ phases: [] });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.activePhases).toEqual([]);
      expect(status.phases.map((p) => p.status)).toEqual(['pending', 'pending']);
    });
  });

  describe('tasks', () => {
    it('lists every task of the plan with its JIRA key, blocked flag and reason', () => {
      // Prepare
      const state = snapshot({
        tasks: [
          task('task-1a', 'in_progress', { blocked: true, blockedReason: 'schema review pending' }),
          task('task-1b', 'done', { updatedAt: '2026-01-06T11:30:00.000Z' }),
        ],
      });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.tasks.map((t) => t.id)).toEqual(['task-1a', 'task-1b', 'task-1c', 'task-2a', 'task-2b']);
      expect(status.tasks[0]).toEqual({
        id: 'task-1a',
        title: 'Schema',
        phase: 'phase-1',
        status: 'in_progress',
        agent: 'alpha',
        holder: 'alpha',
        reassignment: null,
        claim: null,
        jira: 'PAY-101',
        blocked: true,
        reason: 'schema review pending',
        updatedAt: '2026-01-06T10:00:00.000Z',
      });
      expect(status.tasks[1]).toEqual({
        id: 'task-1b',
        title: 'task-1b',
        phase: 'phase-1',
        status: 'done',
        agent: 'beta',
        holder: 'beta',
        reassignment: null,
        claim: null,
        jira: null,
        blocked: false,
        reason: null,
        updatedAt: '2026-01-06T11:30:00.000Z',
      });
    });

    it('shows an unassigned task with no agent and no holder until an agent claims it, then under that agent', () => {
      // Prepare: the plan names no agent for task-1c; gamma claims it in the second snapshot.
      const plan = {
        ...PLAN,
        phases: PLAN.phases.map((p) => ({
          ...p,
          tasks: p.tasks.map((t) => {
            if (t.id !== 'task-1c') return t;
            const { agent: _planned, ...rest } = t;
            return rest;
          }),
        })),
      };
      const open = { ...snapshot(), plan: { ...snapshot().plan, plan } };
      const claimed = {
        ...snapshot({ tasks: [task('task-1c', 'done', { assignee: 'gamma' })] }),
        plan: open.plan,
      };

      // Act
      const before = computeStatus(open, NOW);
      const after = computeStatus(claimed, NOW);

      // Assess
      expect(before.tasks[2]).toMatchObject({ id: 'task-1c', agent: null, holder: null });
      expect(after.tasks[2]).toMatchObject({ id: 'task-1c', agent: null, holder: 'gamma' });
      expect(agentStatus(after, 'gamma').completion).toBe(100);
      expect(agentStatus(after, 'alpha').completion).toBe(0);
    });

    it('shows who holds a claimed task and until when, never the claim’s lease id', () => {
      // Prepare: gamma claimed task-1c (the plan gives it to alpha) at 14:40; its lease runs to 15:20.
      const state = snapshot({
        tasks: [
          task('task-1c', 'in_progress', {
            assignee: 'gamma',
            claim: {
              agent: 'gamma',
              lease: 'L0123456789abcdef',
              at: minutesBeforeNow(20),
              expiresAt: '2026-01-06T15:20:00.000Z',
            },
          }),
        ],
      });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      const claimed = status.tasks.find((t) => t.id === 'task-1c');
      expect(claimed).toMatchObject({
        holder: 'gamma',
        claim: { agent: 'gamma', at: '2026-01-06T14:40:00.000Z', expiresAt: '2026-01-06T15:20:00.000Z' },
      });
      expect(JSON.stringify(status)).not.toContain('L0123456789abcdef');
      expect(status.tasks.find((t) => t.id === 'task-1a')?.claim).toBeNull();
      expect(agentStatus(status, 'gamma')).toMatchObject({ status: 'active', currentTask: 'task-1c' });
    });

    it('treats tasks missing from the snapshot as todo since the plan was applied', () => {
      // Prepare
      const state = snapshot({ tasks: [] });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.tasks.find((t) => t.id === 'task-2b')).toEqual({
        id: 'task-2b',
        title: 'task-2b',
        phase: 'phase-2',
        status: 'todo',
        agent: 'beta',
        holder: 'beta',
        reassignment: null,
        claim: null,
        jira: null,
        blocked: false,
        reason: null,
        updatedAt: APPLIED_AT,
      });
      expect(status.phases.map((p) => p.tasks.todo)).toEqual([3, 2]);
    });

    it('ignores states of tasks that are no longer in the plan', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-old', 'in_progress', { blocked: true, blockedReason: 'gone' })],
      });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.tasks.map((t) => t.id)).not.toContain('task-old');
      expect(status.phases.map((p) => p.tasks.blocked)).toEqual([0, 0]);
    });
  });

  describe('agents', () => {
    it('reports an agent silent for more than two heartbeat intervals as down and at red risk', () => {
      // Prepare: alpha's interval is 15m; 31 minutes of silence
      const state = snapshot({
        tasks: [task('task-1a', 'in_progress')],
        agents: [
          agent('alpha', { lastHeartbeatAt: minutesBeforeNow(31), risk: 'green', currentTask: 'task-1a' }),
        ],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha).toMatchObject({
        status: 'down',
        risk: 'red',
        currentTask: 'task-1a',
        lastHeartbeat: minutesBeforeNow(31),
      });
    });

    it.each([29, 30])('keeps an agent silent for %i minutes of a 15m interval active', (minutes) => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'in_progress')],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(minutes), risk: 'green' })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha).toMatchObject({ status: 'active', risk: 'green', currentTask: 'task-1a' });
    });

    it('never reports an agent without a heartbeat interval as down', () => {
      // Prepare: beta has no heartbeat in the plan and was last heard from two days ago
      const state = snapshot({ agents: [agent('beta', { lastHeartbeatAt: minutesBeforeNow(2 * 24 * 60) })] });

      // Act
      const beta = agentStatus(computeStatus(state, NOW), 'beta');

      // Assess
      expect(beta).toMatchObject({ kind: 'human', status: 'idle', risk: 'green' });
    });

    it('does not report an agent that has never sent a heartbeat as down', () => {
      // Prepare: alpha has a 15m interval but no heartbeat at all since the plan was applied a day ago
      const state = snapshot();

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha).toMatchObject({
        name: 'Agent Alpha',
        kind: 'ai',
        status: 'idle',
        lastHeartbeat: null,
        currentTask: null,
        reportedCompletion: null,
        risk: 'green',
        blockers: [],
      });
    });

    it.each<TaskStatus>(['in_progress', 'in_review'])(
      'reports an agent with a task %s as active on that task',
      (taskStatus) => {
        // Prepare: no heartbeat names the task
        const state = snapshot({ tasks: [task('task-1a', 'done'), task('task-1c', taskStatus)] });

        // Act
        const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

        // Assess
        expect(alpha).toMatchObject({ status: 'active', currentTask: 'task-1c' });
      },
    );

    it('reports the task an agent names in its heartbeat as its current task', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'in_progress')],
        agents: [
          agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), currentTask: 'task-1c', completion: 40 }),
        ],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha).toMatchObject({ status: 'active', currentTask: 'task-1c', reportedCompletion: 40 });
    });

    it('reports an agent with nothing in progress as idle', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'done'), task('task-1c', 'todo')],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1) })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha).toMatchObject({ status: 'idle', currentTask: null });
    });

    it('reports an agent as idle when the task it last named is done and nothing is in progress', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'done')],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), currentTask: 'task-1a' })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha).toMatchObject({ status: 'idle', currentTask: null });
    });

    it('reports the task in progress rather than a done task the agent named earlier', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'done'), task('task-1c', 'in_progress')],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), currentTask: 'task-1a' })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha.currentTask).toBe('task-1c');
    });

    it('weights completion by the estimates of the done tasks', () => {
      // Prepare: beta's 4h task is done, its 2d one is not: 4h of 20h
      const state = snapshot({ tasks: [task('task-1b', 'in_progress'), task('task-2b', 'done')] });

      // Act
      const beta = agentStatus(computeStatus(state, NOW), 'beta');

      // Assess
      expect(beta.completion).toBe(20);
    });

    it('rounds completion to one decimal', () => {
      // Prepare: one of alpha's three 1d tasks is done
      const state = snapshot({ tasks: [task('task-1a', 'done')] });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha.completion).toBe(33.3);
    });

    it('reports 0% completion for an agent without tasks and 100% for one with all tasks done', () => {
      // Prepare
      const state = snapshot({ tasks: [task('task-1b', 'done'), task('task-2b', 'done')] });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(agentStatus(status, 'gamma').completion).toBe(0);
      expect(agentStatus(status, 'beta').completion).toBe(100);
    });

    it('reports the risk the agent reported', () => {
      // Prepare
      const state = snapshot({
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), risk: 'yellow' })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha.risk).toBe('yellow');
    });

    it('raises the risk to yellow and lists the blockers with their reasons when a task is blocked', () => {
      // Prepare
      const state = snapshot({
        tasks: [
          task('task-1a', 'in_progress', { blocked: true, blockedReason: 'schema review pending' }),
          task('task-1c', 'todo', { blocked: true }),
          task('task-1b', 'in_progress', { blocked: true, blockedReason: 'not alpha' }),
        ],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), risk: 'green' })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha.risk).toBe('yellow');
      expect(alpha.blockers).toEqual([
        { task: 'task-1a', reason: 'schema review pending' },
        { task: 'task-1c', reason: '' },
      ]);
    });

    it('keeps a reported red risk when a task is blocked', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'in_progress', { blocked: true, blockedReason: 'schema review pending' })],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), risk: 'red' })],
      });

      // Act
      const alpha = agentStatus(computeStatus(state, NOW), 'alpha');

      // Assess
      expect(alpha.risk).toBe('red');
    });

    it('does not count a done task that still carries a blocked flag as a blocker', () => {
      // Prepare
      const state = snapshot({
        tasks: [task('task-1a', 'done', { blocked: true, blockedReason: 'schema review pending' })],
        agents: [agent('alpha', { lastHeartbeatAt: minutesBeforeNow(1), risk: 'green' })],
      });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(agentStatus(status, 'alpha')).toMatchObject({ risk: 'green', blockers: [] });
      expect(status.phases[0]?.tasks.blocked).toBe(0);
    });
  });

  describe('metrics', () => {
    it('reports the latest point of every metric, by name', () => {
      // Prepare
      const state = snapshot({
        metrics: [
          { name: 'tps', value: 1_800_000, at: '2026-01-06T14:00:00.000Z' },
          { name: 'coverage.unit', value: 82.5, at: '2026-01-06T13:00:00.000Z' },
        ],
      });

      // Act
      const status = computeStatus(state, NOW);

      // Assess
      expect(status.metrics).toEqual({
        'coverage.unit': { value: 82.5, at: '2026-01-06T13:00:00.000Z' },
        tps: { value: 1_800_000, at: '2026-01-06T14:00:00.000Z' },
      });
      expect(Object.keys(status.metrics)).toEqual(['coverage.unit', 'tps']);
    });
  });
});

describe('leases', () => {
  const lease = (id: string, extra: Partial<ResourceLease>): ResourceLease => ({
    id,
    holder: 'agent:alpha',
    paths: ['src/**'],
    mode: 'exclusive',
    acquiredAt: minutesBeforeNow(10),
    expiresAt: '2026-01-06T15:30:00.000Z',
    ...extra,
  });

  it('lists the active resource leases with holder, coverage, mode, task and expiry, soonest to end first', () => {
    // Prepare: one lease on a resource for a task, one on paths, one that ran out a minute ago.
    const state: ProjectSnapshot = {
      ...snapshot(),
      leases: [
        lease('Lfeed000000000001', {}),
        lease('Lfeed000000000002', {
          holder: 'person:pm',
          resource: 'db',
          paths: ['db/migrations/**'],
          mode: 'shared',
          task: 'task-1a',
          expiresAt: '2026-01-06T15:05:00.000Z',
        }),
        lease('Lfeed000000000003', { expiresAt: minutesBeforeNow(1) }),
      ],
    };

    // Act
    const status = computeStatus(state, NOW);

    // Assess
    expect(status.leases).toEqual([
      {
        id: 'Lfeed000000000002',
        holder: 'person:pm',
        resource: 'db',
        paths: ['db/migrations/**'],
        mode: 'shared',
        task: 'task-1a',
        acquiredAt: '2026-01-06T14:50:00.000Z',
        expiresAt: '2026-01-06T15:05:00.000Z',
      },
      {
        id: 'Lfeed000000000001',
        holder: 'agent:alpha',
        resource: null,
        paths: ['src/**'],
        mode: 'exclusive',
        task: null,
        acquiredAt: '2026-01-06T14:50:00.000Z',
        expiresAt: '2026-01-06T15:30:00.000Z',
      },
    ]);
  });

  it('has no leases for a project that never took one', () => {
    // Act
    const status = computeStatus(snapshot(), NOW);

    // Assess
    expect(status.leases).toEqual([]);
  });

  it('carries the leases into the full status view', () => {
    // Prepare
    const state: ProjectSnapshot = { ...snapshot(), leases: [lease('Lfeed000000000001', {})] };

    // Act
    const view = statusView(state, NOW, { escalations: [], gates: [] });

    // Assess
    expect(view.leases.map((l) => l.id)).toEqual(['Lfeed000000000001']);
  });
});

describe('reassignments', () => {
  const reassigned = (taskId: string, from: string, to: string, at = '2026-01-06T12:00:00.000Z') => ({
    id: `${at}-${taskId}`,
    type: 'task.reassigned',
    at,
    actor: 'person:pm',
    subject: taskId,
    data: { from, to, escalation: 'agent-down:1' },
  });

  it('lists a reassigned task under the person who holds it, and no longer under the down agent', () => {
    // Prepare
    const state = snapshot({
      tasks: [
        task('task-1a', 'in_progress', { blocked: true, blockedReason: 'waiting for schema' }),
        task('task-1c', 'done'),
      ],
      agents: [agent('alpha', { downSince: minutesBeforeNow(90), currentTask: 'task-1a' })],
    });
    // Newest first, as the audit trail lists them: task-1a went to pm after an earlier move to beta.
    const reassignments = reassignmentsFrom([
      reassigned('task-1a', 'alpha', 'pm', '2026-01-06T12:00:00.000Z'),
      reassigned('task-2a', 'alpha', 'pm'),
      reassigned('task-1a', 'alpha', 'beta', '2026-01-06T11:00:00.000Z'),
    ]);

    // Act
    const status = computeStatus(state, NOW, [], reassignments);

    // Assess
    expect(status.tasks.find((t) => t.id === 'task-1a')).toMatchObject({
      agent: 'alpha',
      holder: 'pm',
      reassignment: { from: 'alpha', to: 'pm', by: 'person:pm', at: '2026-01-06T12:00:00.000Z' },
    });
    expect(status.tasks.find((t) => t.id === 'task-1c')).toMatchObject({
      holder: 'alpha',
      reassignment: null,
    });
    expect(agentStatus(status, 'alpha')).toMatchObject({
      status: 'down',
      // Its last heartbeat named task-1a, which pm holds now.
      currentTask: null,
      blockers: [],
      reassigned: [
        { task: 'task-1a', to: 'pm' },
        { task: 'task-2a', to: 'pm' },
      ],
      // Only task-1c (done) is still its own: all of what it holds is done.
      completion: 100,
    });
  });

  it('ignores a reassignment the plan overrode since: the task belongs to another agent now', () => {
    // Prepare
    const state = snapshot({ tasks: [task('task-1b', 'in_progress')] });

    // Act
    const status = computeStatus(state, NOW, [], reassignmentsFrom([reassigned('task-1b', 'alpha', 'pm')]));

    // Assess
    expect(status.tasks.find((t) => t.id === 'task-1b')).toMatchObject({ agent: 'beta', holder: 'beta' });
  });
});

describe('statusView', () => {
  const gate = (overrides: Partial<GateOverview>): GateOverview => ({
    gate: 'g1',
    phase: 'phase-1',
    approvers: ['pm'],
    status: 'not-evaluated',
    attempt: 0,
    latest: null,
    updatedAt: null,
    ...overrides,
  });
  const escalation = (overrides: Partial<Escalation>): Escalation => ({
    id: 'e-1',
    project: 'demo',
    rule: 'agent-down',
    kind: 'event',
    subject: 'alpha',
    dedupKey: 'agent-down:alpha',
    agent: 'alpha',
    status: 'open',
    level: 1,
    targets: ['pm'],
    openedAt: minutesBeforeNow(30),
    levelSince: minutesBeforeNow(30),
    dueAt: minutesBeforeNow(-90),
    occurrences: 1,
    reason: 'agent.down for Agent Alpha',
    history: [{ at: minutesBeforeNow(30), what: 'opened at level 1: pm' }],
    version: 1,
    ...overrides,
  });

  it('says what each gate waits for: the phase’s last tasks, a decision, or nothing once passed', () => {
    // Prepare
    const state = snapshot({ tasks: [task('task-1a', 'done'), task('task-1b', 'done')] });
    const decided = {
      gate: 'g1',
      phase: 'phase-1',
      attempt: 1,
      decision: 'NO-GO' as const,
      evaluation: {
        gate: 'g1',
        phase: 'phase-1',
        decision: 'NO-GO' as const,
        criteria: [],
        tasksNotDone: [],
        reasons: ['NO-GO: tps is 1.2M'],
        evaluatedAt: minutesBeforeNow(5),
      },
      at: minutesBeforeNow(5),
    };

    // Act
    const waiting = (overrides: Partial<GateOverview>) =>
      statusView(state, NOW, { escalations: [], gates: [gate(overrides)] }).gates[0]?.waitsFor;

    // Assess
    expect(waiting({})).toBe('the last 1 of 3 tasks of phase phase-1');
    expect(waiting({ status: 'awaiting-decision', attempt: 1, latest: decided })).toBe(
      'a decision by an approver (pm) or an admin: convoy gates decide g1 advance|hold',
    );
    expect(
      waiting({
        status: 'awaiting-decision',
        attempt: 1,
        latest: { ...decided, override: 'advance', decidedBy: 'person:pm' },
      }),
    ).toBe('its workflow to carry out the decision (advance by person:pm)');
    expect(waiting({ status: 'passed', attempt: 1, latest: decided })).toBeNull();
    expect(waiting({ status: 'held', attempt: 1, latest: decided })).toBe(
      "a new evaluation: the next gate review, or an admin's convoy gates evaluate g1",
    );
    expect(waiting({ status: 'failed', attempt: 1, error: 'States.Timeout: gate-step' })).toBe(
      'a person: its workflow failed (States.Timeout: gate-step); evaluate it again once fixed',
    );
    expect(
      statusView(state, NOW, {
        escalations: [],
        gates: [gate({ status: 'awaiting-decision', latest: decided })],
      }).gates[0]?.latest,
    ).toEqual(decided);
  });

  it('shows each open escalation with its rule, level of how many, reason and SLA left, oldest first', () => {
    // Prepare
    const state = snapshot();
    const late = escalation({
      id: 'e-2',
      openedAt: minutesBeforeNow(10),
      dueAt: minutesBeforeNow(5),
      level: 2,
    });

    // Act
    const view = statusView(state, NOW, { escalations: [late, escalation({})], gates: [] });

    // Assess
    expect(view.escalations.map((e) => e.id)).toEqual(['e-1', 'e-2']);
    expect(view.escalations[0]).toMatchObject({
      rule: 'agent-down',
      level: 1,
      reason: 'agent.down for Agent Alpha',
      slaLeftSeconds: 90 * 60,
    });
    expect(view.escalations[0]).not.toHaveProperty('history');
    expect(view.escalations[1]).toMatchObject({ level: 2, slaLeftSeconds: -5 * 60 });
    expect(view.timezone).toBe('America/New_York');
  });
});
