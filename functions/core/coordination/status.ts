import type { Escalation } from '../escalations/model.js';
import { findRule, levelCount } from '../escalations/rules.js';
import type { EscalationSummary } from '../escalations/service.js';
import type { GateOverview } from '../gates/service.js';
import { TASK_STATUSES, wallClockMillis, workingMinutes } from '../plan/lexical.js';
import type { TaskStatus } from '../plan/schema.js';
import type {
  AuditEvent,
  LeaseMode,
  PhaseStatus,
  ProjectSnapshot,
  Risk,
  TaskState,
  Verification,
} from './model.js';

export type AgentStatus = 'active' | 'idle' | 'down';

export interface ProjectStatus {
  readonly project: string;
  readonly name: string;
  readonly planVersion: number;
  /** The project's time zone: the one dates are shown in to people. */
  readonly timezone: string;
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
    /** Its tasks a confirmed reassignment gave to someone else: they count for their holder now. */
    reassigned: { task: string; to: string }[];
  }[];
  readonly tasks: {
    id: string;
    title: string;
    phase: string;
    status: TaskStatus;
    /** The agent the plan gives the task to; null for a task a pool or any agent may claim. */
    agent: string | null;
    /**
     * Who holds it now: the person a confirmed reassignment gave it to, else the agent that claimed
     * it, else the plan's agent; null for a task nobody took yet.
     */
    holder: string | null;
    /** The confirmed reassignment that moved it, when one did. */
    reassignment: Reassignment | null;
    /**
     * The claim an agent holds on it (in progress or in review), without its lease id, which only the
     * holder gets; null while nobody holds one. Past `expiresAt` the monitor releases the task, unless the
     * plan assigns it to the holder: such a claim never lapses.
     */
    claim: StatusClaim | null;
    jira: string | null;
    blocked: boolean;
    reason: string | null;
    updatedAt: string;
    /** A done task of a plan that asks for evidence: how it was verified, or whose override (#15). */
    verification?: Verification;
  }[];
  readonly metrics: Record<string, { value: number; at: string }>;
  /** The resource leases in force (expired ones left out), soonest to expire first. */
  readonly leases: StatusLease[];
  /** Open escalations; the escalation engine fills this in. */
  readonly escalations: unknown[];
}

/** Who holds a task's claim and until when: `TaskClaim` without the fencing token. */
export interface StatusClaim {
  readonly agent: string;
  /** When it was claimed. */
  readonly at: string;
  /** When the claim lapses unless a heartbeat naming the task renews it. */
  readonly expiresAt: string;
}

/** A resource lease as the status shows it. */
export interface StatusLease {
  readonly id: string;
  /** `agent:coder-a`, `person:lead`, `admin`. */
  readonly holder: string;
  readonly resource: string | null;
  readonly paths: readonly string[];
  readonly mode: LeaseMode;
  readonly task: string | null;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

/** A task a confirmed reassignment moved from a (down) agent to a person (`task.reassigned`). */
export interface Reassignment {
  readonly task: string;
  readonly from: string;
  readonly to: string;
  readonly at: string;
  readonly by: string;
}

/**
 * The reassignments in force, from the `task.reassigned` audit events (newest first, as the trail
 * lists them): the latest one of each task. One the plan overrode since (the task now belongs to
 * another agent) no longer counts; `computeStatus` checks that.
 */
export function reassignmentsFrom(events: readonly AuditEvent[]): Reassignment[] {
  const latest = new Map<string, Reassignment>();
  for (const event of events) {
    if (event.type !== 'task.reassigned' || !event.subject || latest.has(event.subject)) continue;
    const { from, to } = (event.data ?? {}) as { from?: unknown; to?: unknown };
    if (typeof from !== 'string' || typeof to !== 'string') continue;
    latest.set(event.subject, { task: event.subject, from, to, at: event.at, by: event.actor });
  }
  return [...latest.values()];
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
  reassignments: readonly Reassignment[] = [],
): ProjectStatus {
  const { plan } = snapshot.plan;
  const planAgent = new Map(plan.phases.flatMap((phase) => phase.tasks.map((task) => [task.id, task.agent])));
  // Only a reassignment away from the agent the plan still names: a re-applied plan has the last word.
  const moved = new Map(
    reassignments
      .filter((reassignment) => planAgent.get(reassignment.task) === reassignment.from)
      .map((reassignment) => [reassignment.task, reassignment]),
  );
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
    // The tasks it holds: a task reassigned to a person counts for that person, not for the agent.
    const own = allTasks.filter(
      ({ task, state: s }) => (s.assignee ?? task.agent) === agent.id && !moved.has(task.id),
    );
    const total = own.reduce((sum, { task }) => sum + workingMinutes(task.estimate), 0);
    const done = own
      .filter(({ state: s }) => s.status === 'done')
      .reduce((sum, { task }) => sum + workingMinutes(task.estimate), 0);
    const working = own.find(({ state: s }) => s.status === 'in_progress' || s.status === 'in_review');
    // A heartbeat's task stays recorded until the next one names another; once done it is history.
    // …and a task reassigned away from the agent is no longer its current one either.
    const reported =
      state?.currentTask !== undefined &&
      taskState(state.currentTask).status !== 'done' &&
      !moved.has(state.currentTask)
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
      // In the plan's task order: the events' order is not stable when two share an instant.
      reassigned: allTasks.flatMap(({ task }) => {
        const reassignment = moved.get(task.id);
        return reassignment?.from === agent.id ? [{ task: task.id, to: reassignment.to }] : [];
      }),
    };
  });

  return {
    project: plan.project.id,
    name: plan.project.name,
    planVersion: snapshot.plan.version,
    timezone: plan.project.timezone,
    generatedAt: now.toISOString(),
    activePhases: phases.filter((phase) => phase.status === 'active').map((phase) => phase.id),
    phases,
    agents,
    tasks: allTasks.map(({ task, phase, state }) => ({
      id: task.id,
      title: task.title,
      phase: phase.id,
      status: state.status,
      agent: task.agent ?? null,
      holder: moved.get(task.id)?.to ?? state.assignee ?? task.agent ?? null,
      reassignment: moved.get(task.id) ?? null,
      claim: state.claim
        ? { agent: state.claim.agent, at: state.claim.at, expiresAt: state.claim.expiresAt }
        : null,
      jira: task.jira ?? null,
      blocked: state.blocked,
      reason: state.blockedReason ?? null,
      updatedAt: state.updatedAt,
      ...(state.verification ? { verification: state.verification } : {}),
    })),
    metrics: Object.fromEntries(
      [...snapshot.metrics]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, point]) => [name, { value: point.value, at: point.at }]),
    ),
    leases: activeLeases(snapshot, now),
    escalations,
  };
}

/** The leases not expired at `now`, soonest to expire first (then by id, for a stable order). */
function activeLeases(snapshot: ProjectSnapshot, now: Date): StatusLease[] {
  const at = now.toISOString();
  return (snapshot.leases ?? [])
    .filter((lease) => lease.expiresAt > at)
    .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.id.localeCompare(b.id))
    .map((lease) => ({
      id: lease.id,
      holder: lease.holder,
      resource: lease.resource ?? null,
      paths: [...lease.paths],
      mode: lease.mode,
      task: lease.task ?? null,
      acquiredAt: lease.acquiredAt,
      expiresAt: lease.expiresAt,
    }));
}

/** An open escalation as the status shows it: why, at which level of how many, and how long its SLA has left. */
export type StatusEscalation = EscalationSummary & {
  /** The rule's name. */
  readonly name: string;
  /** How many levels the rule's ladder has. */
  readonly levels: number;
  /** Seconds until `dueAt` (the next level, or the next reminder): negative once overdue. */
  readonly slaLeftSeconds: number;
};

/** A gate as the status shows it: its state, the latest decision, and what it waits for. */
export type StatusGate = GateOverview & {
  /** What has to happen next for the gate to move, in words; null once it passed. */
  readonly waitsFor: string | null;
};

/** What `GET …/status` answers and `convoy status` shows. */
export type StatusView = Omit<ProjectStatus, 'escalations'> & {
  readonly escalations: StatusEscalation[];
  readonly gates: StatusGate[];
};

/**
 * The full status: `computeStatus` with the open escalations (oldest first) and every gate of the
 * plan, each saying what it waits for, and tasks under whoever holds them after a reassignment.
 */
export function statusView(
  snapshot: ProjectSnapshot,
  now: Date,
  input: {
    escalations: readonly Escalation[];
    gates: readonly GateOverview[];
    reassignments?: readonly Reassignment[];
  },
): StatusView {
  const { plan } = snapshot.plan;
  const escalations: StatusEscalation[] = [...input.escalations]
    .filter((escalation) => escalation.status !== 'resolved')
    .sort((a, b) => a.openedAt.localeCompare(b.openedAt))
    .map((escalation) => {
      const { history: _history, ...summary } = escalation;
      const rule = findRule(plan, escalation.rule);
      return {
        ...summary,
        name: rule?.name ?? escalation.rule,
        levels: rule ? levelCount(rule) : escalation.level,
        slaLeftSeconds: Math.round((Date.parse(escalation.dueAt) - now.getTime()) / 1000),
      };
    });
  const status = computeStatus(snapshot, now, [], input.reassignments ?? []);
  return { ...status, escalations, gates: gateViews(snapshot, status, input.gates) };
}

/** Every gate with what it waits for (`GET …/gates`, `convoy gates`). */
export function gateViews(
  snapshot: ProjectSnapshot,
  status: ProjectStatus,
  gates: readonly GateOverview[],
): StatusGate[] {
  return gates.map((gate) => ({ ...gate, waitsFor: waitsFor(snapshot, status, gate) }));
}

/** What a gate waits for, in words a person acts on. */
function waitsFor(snapshot: ProjectSnapshot, status: ProjectStatus, gate: GateOverview): string | null {
  const phase = status.phases.find((candidate) => candidate.id === gate.phase);
  const planGate = snapshot.plan.plan.gates.find((candidate) => candidate.id === gate.gate);
  switch (gate.status) {
    case 'passed':
      return null;
    case 'evaluating':
      return 'its evaluation, under way';
    case 'caution':
      return `a new evaluation once its caution window (${planGate?.cautionWindow ?? 'the caution window'}) is over`;
    case 'awaiting-decision': {
      // Decided a moment ago: the workflow has the decision and is carrying it out.
      if (gate.latest?.override)
        return `its workflow to carry out the decision (${gate.latest.override} by ${gate.latest.decidedBy ?? 'an approver'})`;
      const who =
        gate.approvers.length > 0 ? `an approver (${gate.approvers.join(', ')}) or an admin` : 'an admin';
      return `a decision by ${who}: convoy gates decide ${gate.gate} advance|hold`;
    }
    case 'held':
      return `a new evaluation: the next gate review, or an admin's convoy gates evaluate ${gate.gate}`;
    case 'failed':
      return `a person: its workflow failed${gate.error ? ` (${gate.error})` : ''}; evaluate it again once fixed`;
    default: {
      if (!phase) return 'nothing: it is the gate of no phase';
      if (phase.status === 'passed') return null;
      if (phase.status === 'pending') return `phase ${phase.id} to become active`;
      const open = phase.total - phase.tasks.done;
      return open > 0
        ? `the last ${open} of ${phase.total} tasks of phase ${phase.id}`
        : 'its evaluation to start (the heartbeat monitor starts it within a minute)';
    }
  }
}
