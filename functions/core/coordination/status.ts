import { wallClockMillis, workingMinutes } from '../plan/lexical.js';
import { TASK_STATUSES, type TaskStatus } from '../plan/schema.js';
import type { PhaseStatus, ProjectSnapshot, Risk, TaskState } from './model.js';

export type AgentStatus = 'active' | 'idle' | 'down';

export interface ProjectStatus {
  readonly project: string;
  readonly name: string;
  readonly planVersion: number;
  readonly generatedAt: string;
  readonly activePhases: string[];
  readonly phases: {
    id: string;
    name: string;
    status: PhaseStatus;
    due?: string;
    gate?: string;
    total: number;
    tasks: Record<TaskStatus | 'blocked', number>;
  }[];
  readonly agents: {
    id: string;
    name: string;
    kind: 'ai' | 'human';
    status: AgentStatus;
    currentTask: string | null;
    lastHeartbeat: string | null;
    /** When the heartbeat monitor marked the agent down; null while it is up. */
    downSince: string | null;
    /** Share of the agent's estimated work that is done, 0–100. */
    completion: number;
    /** What the agent last reported for its current task, 0–100. */
    reportedCompletion: number | null;
    risk: Risk;
    blockers: { task: string; reason: string }[];
  }[];
  readonly tasks: {
    id: string;
    title: string;
    phase: string;
    status: TaskStatus;
    agent: string;
    jira: string | null;
    blocked: boolean;
    reason: string | null;
    updatedAt: string;
  }[];
  readonly metrics: Record<string, { value: number; at: string }>;
  /** Open escalations; the escalation engine fills this in. */
  readonly escalations: unknown[];
}

const RISK_ORDER: readonly Risk[] = ['green', 'yellow', 'red'];
const worst = (a: Risk, b: Risk): Risk => (RISK_ORDER.indexOf(a) >= RISK_ORDER.indexOf(b) ? a : b);

/**
 * The coordination status of a project, computed from a snapshot of its state (cf. seed 004's
 * coordination_status.json). An agent with a heartbeat interval is down after two missed intervals;
 * its risk is the worse of what it reported and what its state shows (down → red, blocked → yellow).
 */
export function computeStatus(
  snapshot: ProjectSnapshot,
  now: Date,
  escalations: unknown[] = [],
): ProjectStatus {
  const { plan } = snapshot.plan;
  const taskState = (id: string): TaskState => {
    const state = snapshot.tasks.get(id) ?? {
      id,
      status: 'todo',
      blocked: false,
      updatedAt: snapshot.plan.appliedAt,
      updatedBy: 'system',
      version: 0,
    };
    // A done task is never blocked, whatever flag an older version of Convoy left on it.
    return state.status === 'done' && state.blocked ? { ...state, blocked: false } : state;
  };
  const allTasks = plan.phases.flatMap((phase) =>
    phase.tasks.map((task) => ({ task, phase, state: taskState(task.id) })),
  );

  const phases = plan.phases.map((phase) => {
    const counts = Object.fromEntries([...TASK_STATUSES, 'blocked'].map((status) => [status, 0])) as Record<
      TaskStatus | 'blocked',
      number
    >;
    for (const task of phase.tasks) {
      const state = taskState(task.id);
      counts[state.status]++;
      if (state.blocked) counts.blocked++;
    }
    return {
      id: phase.id,
      name: phase.name,
      status: snapshot.phases.get(phase.id)?.status ?? 'pending',
      ...(phase.due ? { due: phase.due } : {}),
      ...(phase.gate ? { gate: phase.gate } : {}),
      total: phase.tasks.length,
      tasks: counts,
    };
  });

  const agents = plan.agents.map((agent) => {
    const state = snapshot.agents.get(agent.id);
    const own = allTasks.filter(({ task }) => task.agent === agent.id);
    const total = own.reduce((sum, { task }) => sum + workingMinutes(task.estimate), 0);
    const done = own
      .filter(({ state: s }) => s.status === 'done')
      .reduce((sum, { task }) => sum + workingMinutes(task.estimate), 0);
    const working = own.find(({ state: s }) => s.status === 'in_progress' || s.status === 'in_review');
    // A heartbeat's task stays recorded until the next one names another; once done it is history.
    const reported =
      state?.currentTask !== undefined && taskState(state.currentTask).status !== 'done'
        ? state.currentTask
        : undefined;
    const silentFor = state?.lastHeartbeatAt ? now.getTime() - Date.parse(state.lastHeartbeatAt) : undefined;
    // Down as the heartbeat monitor recorded it, or as the clock already shows between two runs of it.
    const down =
      state?.downSince !== undefined ||
      (agent.heartbeat !== undefined &&
        silentFor !== undefined &&
        silentFor > 2 * wallClockMillis(agent.heartbeat));
    const blockers = own
      .filter(({ state: s }) => s.blocked)
      .map(({ task, state: s }) => ({ task: task.id, reason: s.blockedReason ?? '' }));
    let risk: Risk = state?.risk ?? 'green';
    if (blockers.length > 0) risk = worst(risk, 'yellow');
    if (down) risk = 'red';
    return {
      id: agent.id,
      name: agent.name,
      kind: agent.kind,
      status: (down ? 'down' : working || reported ? 'active' : 'idle') as AgentStatus,
      currentTask: reported ?? working?.task.id ?? null,
      lastHeartbeat: state?.lastHeartbeatAt ?? null,
      downSince: state?.downSince ?? null,
      completion: total === 0 ? 0 : Math.round((1000 * done) / total) / 10,
      reportedCompletion: state?.completion ?? null,
      risk,
      blockers,
    };
  });

  return {
    project: plan.project.id,
    name: plan.project.name,
    planVersion: snapshot.plan.version,
    generatedAt: now.toISOString(),
    activePhases: phases.filter((phase) => phase.status === 'active').map((phase) => phase.id),
    phases,
    agents,
    tasks: allTasks.map(({ task, phase, state }) => ({
      id: task.id,
      title: task.title,
      phase: phase.id,
      status: state.status,
      agent: task.agent,
      jira: task.jira ?? null,
      blocked: state.blocked,
      reason: state.blockedReason ?? null,
      updatedAt: state.updatedAt,
    })),
    metrics: Object.fromEntries(
      [...snapshot.metrics]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, point]) => [name, { value: point.value, at: point.at }]),
    ),
    escalations,
  };
}
