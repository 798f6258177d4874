import type { StatusView } from '../../../dashboard/src/types.js';

type Task = StatusView['tasks'][number];
type Agent = StatusView['agents'][number];

export const NOW = Date.parse('2026-03-02T12:00:00.000Z');
export const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
export const HOUR = 3_600_000;

export function task(overrides: Partial<Task> & { id: string }): Task {
  return {
    title: `Task ${overrides.id}`,
    phase: 'build',
    status: 'todo',
    agent: 'alpha',
    holder: 'alpha',
    reassignment: null,
    claim: null,
    jira: null,
    blocked: false,
    reason: null,
    updatedAt: iso(-HOUR),
    ...overrides,
  };
}

export function agent(overrides: Partial<Agent> & { id: string }): Agent {
  return {
    name: overrides.id,
    kind: 'ai',
    status: 'active',
    currentTask: null,
    lastHeartbeat: iso(-60_000),
    downSince: null,
    completion: 0,
    reportedCompletion: null,
    risk: 'green',
    blockers: [],
    reassigned: [],
    ...overrides,
  };
}

/** A status with the parts a test names; the rest empty. */
export function status(overrides: Partial<StatusView> = {}): StatusView {
  return {
    project: 'demo',
    name: 'Demo',
    planVersion: 1,
    timezone: 'UTC',
    generatedAt: iso(0),
    activePhases: ['build'],
    phases: [
      {
        id: 'build',
        name: 'Build',
        status: 'active',
        total: 0,
        tasks: { todo: 0, in_progress: 0, in_review: 0, done: 0, blocked: 0 },
      },
      {
        id: 'ship',
        name: 'Ship',
        status: 'pending',
        total: 0,
        tasks: { todo: 0, in_progress: 0, in_review: 0, done: 0, blocked: 0 },
      },
    ],
    agents: [],
    tasks: [],
    metrics: {},
    leases: [],
    escalations: [],
    gates: [],
    ...overrides,
  };
}
