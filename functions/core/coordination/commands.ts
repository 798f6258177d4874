import {
  type DomainEvent,
  type DomainEventBus,
  domainEvent,
  eventRecordedEvent,
  type TaskChangedDetail,
} from '../domain-events.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  VersionConflictError,
} from '../errors.js';
import { shortHash } from '../hash.js';
import type { Notice } from '../integrations/model.js';
import { leaseDuration, type Plan, type TaskStatus } from '../plan/index.js';
import { didYouMean } from '../plan/suggest.js';
import type {
  Clock,
  CoordinationStore,
  EscalationStore,
  EventPage,
  IdempotencyStore,
  Outbox,
  OutboxWrite,
  Pause,
} from '../ports.js';
import { assertMayOverride, verifyDone, withVerification } from './evidence.js';
import { assertClaimedBeforeStart, assertHoldsLease, withoutTaskLeases } from './fencing.js';
import {
  describeChecklist,
  didYouMeanItem,
  HANDOFF_STATUSES,
  handoffContent,
  handoffTargets,
  suggestChecklistItem,
} from './handoff.js';
import { checkTransition, definition, progressPhases } from './lifecycle.js';
import {
  type Actor,
  type AgentState,
  type AuditEvent,
  afterHeartbeat,
  describeActor,
  type Handoff,
  type LeaseSet,
  type MetricPoint,
  type PhaseState,
  type ResourceLease,
  type Risk,
  type StoredPlan,
  type TaskClaim,
  type TaskState,
} from './model.js';
import { auditEvent, requirePlan } from './records.js';
import { mayClaim } from './tasks.js';

/** Produces ids that sort by creation time (events, handoffs). */
export interface IdGenerator {
  next(at: string): string;
}

/** What every coordination use case needs. */
export interface CoordinationPorts {
  readonly store: CoordinationStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Where JIRA commands go; without one, JIRA is not kept in step (plans without integrations.jira). */
  readonly outbox?: Outbox;
  /** The escalations the engine keeps; without them (unit tests), nothing is escalated. */
  readonly escalations?: EscalationStore;
  /** Where domain events are published (EventBridge, the in-process bus); without one, nowhere. */
  readonly events?: DomainEventBus;
  /**
   * Runs the followers of domain events just committed (the settling of phases, the escalation rules)
   * at once, so that the answer already reflects them. The publisher runs them again from the table's
   * stream, idempotently on the event id: that is the guarantee, this the shortcut. Injected by the
   * composition (core/integrations/publisher.ts `follow`); without it, only the publisher runs them.
   */
  readonly follow?: (events: readonly DomainEvent[]) => Promise<void>;
  /** Remembers handoffs just recorded, so a concurrent retry records nothing twice; optional. */
  readonly idempotency?: IdempotencyStore;
  /**
   * Waits between the attempts of a step that lost a race (real timers); without one (unit tests on
   * in-memory stores), the step is tried again at once.
   */
  readonly pause?: Pause;
}

/**
 * Runs a read-decide-write step again when a conditional write lost a race, with full-jitter
 * backoff, so concurrent writers on one item all get their turn and none is lost. Gives up (the
 * caller answers 409 "retry") once `budgetMs` is spent, well before a Lambda function times out.
 * The waits are the `pause` port's.
 */
export async function withRetries<T>(
  ports: { readonly pause?: Pause },
  step: () => Promise<T>,
  budgetMs = 4000,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      // A random delay up to a growing cap spreads a herd of writers on one item apart.
      const delay = Math.random() * Math.min(250, 4 * 2 ** attempt);
      if (!(error instanceof VersionConflictError) || Date.now() - started + delay > budgetMs) throw error;
      await ports.pause?.(delay);
    }
  }
}

export function requireTask(plan: Plan, taskId: string) {
  const found = definition(plan, taskId);
  if (!found) {
    const ids = plan.phases.flatMap((phase) => phase.tasks.map((task) => task.id));
    throw new NotFoundError(
      `task ${taskId} is not in the plan of project ${plan.project.id}${didYouMean(taskId, ids)}`,
    );
  }
  return found;
}

export function requireAgent(plan: Plan, agentId: string) {
  const agent = plan.agents.find((candidate) => candidate.id === agentId);
  if (!agent) {
    throw new NotFoundError(
      `agent ${agentId} is not in the plan of project ${plan.project.id}${didYouMean(
        agentId,
        plan.agents.map((a) => a.id),
      )}`,
    );
  }
  return agent;
}

/**
 * Who may act for an agent: the agent itself, the people who own or back it up (humans step in
 * when an agent is down), and the admin.
 */
export function assertMayActFor(plan: Plan, actor: Actor, agentId: string, what: string): void {
  if (actor.kind === 'admin' || actor.kind === 'system' || actor.kind === 'integration') return;
  if (actor.kind === 'agent' && actor.id === agentId) return;
  const agent = plan.agents.find((candidate) => candidate.id === agentId);
  if (actor.kind === 'person' && agent && (agent.owner === actor.id || agent.backup === actor.id)) return;
  throw new ForbiddenError(
    `${describeActor(actor)} may not ${what} of agent ${agentId}; only that agent, its owner or backup, or an admin may`,
  );
}

type TaskDefinition = Plan['phases'][number]['tasks'][number];

/**
 * The agent working on a task: the one holding its claim, else the one that last claimed it, else the
 * one the plan assigns it to (undefined for an unassigned task nobody claimed yet); the views read it so.
 */
export const workingAgent = (task: TaskDefinition, state?: TaskState): string | undefined =>
  state?.claim?.agent ?? state?.assignee ?? task.agent;

/**
 * Who may act on a task: an agent the plan assigns it to, that holds its claim or may claim it (its
 * pool, or any agent for an unassigned task; fencing then asks for the lease), the owners and backups
 * of those agents, and the admin.
 */
export function assertMayActOnTask(
  plan: Plan,
  actor: Actor,
  task: TaskDefinition,
  state: TaskState | undefined,
  what: string,
): void {
  if (actor.kind === 'admin' || actor.kind === 'system' || actor.kind === 'integration') return;
  const open = task.agent === undefined && (task.pool ?? []).length === 0;
  const agents = open
    ? plan.agents.map((agent) => agent.id)
    : [task.agent, state?.claim?.agent, ...(task.pool ?? [])].filter((id): id is string => id !== undefined);
  if (actor.kind === 'agent' && agents.includes(actor.id)) return;
  if (
    actor.kind === 'person' &&
    plan.agents.some(
      (agent) => agents.includes(agent.id) && (agent.owner === actor.id || agent.backup === actor.id),
    )
  )
    return;
  const who = task.agent ?? state?.claim?.agent;
  throw new ForbiddenError(
    `${describeActor(actor)} may not ${what} ${task.id}; only ${
      who ? `agent ${who}` : `the agents that may claim it (${agents.join(', ')})`
    }, ${who ? 'its' : 'their'} owner or backup, or an admin may`,
  );
}

export interface PlanChanges {
  readonly tasksAdded: string[];
  readonly tasksRemoved: string[];
  readonly tasksChanged: string[];
  readonly phasesAdded: string[];
  readonly phasesRemoved: string[];
  readonly agentsAdded: string[];
  readonly agentsRemoved: string[];
}

/** What differs between two plans, by id. A task "changed" when its definition or phase differs. */
export function diffPlans(before: Plan | undefined, after: Plan): PlanChanges {
  const tasks = (plan: Plan | undefined) =>
    new Map(
      plan?.phases.flatMap((phase) =>
        phase.tasks.map((task) => [task.id, JSON.stringify({ phase: phase.id, ...task })]),
      ) ?? [],
    );
  const ids = <T extends { id: string }>(list: readonly T[] | undefined) =>
    new Set(list?.map((item) => item.id) ?? []);
  const [oldTasks, newTasks] = [tasks(before), tasks(after)];
  const [oldPhases, newPhases] = [ids(before?.phases), ids(after.phases)];
  const [oldAgents, newAgents] = [ids(before?.agents), ids(after.agents)];
  const added = (a: Iterable<string>, b: { has(id: string): boolean }) => [...a].filter((id) => !b.has(id));
  return {
    tasksAdded: added(newTasks.keys(), oldTasks),
    tasksRemoved: added(oldTasks.keys(), newTasks),
    tasksChanged: [...newTasks]
      .filter(([id, text]) => oldTasks.has(id) && oldTasks.get(id) !== text)
      .map(([id]) => id),
    phasesAdded: added(newPhases, oldPhases),
    phasesRemoved: added(oldPhases, newPhases),
    agentsAdded: added(newAgents, oldAgents),
    agentsRemoved: added(oldAgents, newAgents),
  };
}

export interface ApplyResult {
  readonly project: string;
  readonly version: number;
  /** False when the plan is identical to the current one (nothing was written). */
  readonly changed: boolean;
  readonly created: boolean;
  readonly changes: PlanChanges;
  readonly phases: Record<string, PhaseState['status']>;
}

/**
 * Applies a (validated) plan: the first apply creates the project's state; a later one keeps the
 * progress of every task that still exists, starts new ones at `todo`, and answers with what changed.
 */
export async function applyPlan(
  ports: CoordinationPorts,
  input: { project: string; plan: Plan; actor: Actor },
): Promise<ApplyResult> {
  const { project, plan, actor } = input;
  if (plan.project.id !== project) {
    throw new ValidationError(
      `the plan's project.id is "${plan.project.id}" but it is being applied to project "${project}"`,
    );
  }
  return withRetries(ports, async () => {
    const current = await ports.store.currentPlan(project);
    const changes = diffPlans(current?.plan, plan);
    const identical = current !== undefined && JSON.stringify(current.plan) === JSON.stringify(plan);
    let stored = current as StoredPlan;
    if (!identical) {
      const at = ports.clock.now().toISOString();
      const applied = auditEvent(ports, at, actor, {
        type: 'plan.applied',
        subject: project,
        note: `plan version ${(current?.version ?? 0) + 1}`,
        data: { ...changes },
      });
      stored = await ports.store.savePlan(project, plan, current?.version ?? 0, {
        at,
        by: describeActor(actor),
        event: applied,
      });
      await renewTakenClaims(ports, project, current?.plan, plan, at);
    }
    const { phases } = await settlePhases(ports, project, actor);
    return {
      project,
      version: stored.version,
      changed: !identical,
      created: current === undefined,
      changes,
      phases: statuses(phases.values()),
    };
  });
}

/**
 * Heartbeats do not renew a claim on a task the plan assigns to its holder: it never lapses while the
 * plan says so. A new plan that takes the task from that agent (to a pool, to anyone, to another
 * agent) gives the claim a full lease from now, which the holder's heartbeats then renew; without it,
 * the monitor would release at its next tick a task its holder is still working on.
 */
async function renewTakenClaims(
  ports: CoordinationPorts,
  project: string,
  before: Plan | undefined,
  after: Plan,
  at: string,
): Promise<void> {
  const assigned = new Map<string, string>();
  for (const phase of before?.phases ?? [])
    for (const task of phase.tasks) if (task.agent !== undefined) assigned.set(task.id, task.agent);
  const taken = after.phases
    .flatMap((phase) => phase.tasks)
    .filter((task) => assigned.has(task.id) && task.agent !== assigned.get(task.id))
    .map((task) => task.id);
  if (taken.length === 0) return;
  for (const state of (await ports.store.getTasks(project, taken)).values()) {
    const claim = state.claim;
    if (!claim || claim.agent !== assigned.get(state.id)) continue;
    const holder = after.agents.find((candidate) => candidate.id === claim.agent) ?? {};
    await ports.store.renewClaim(project, state.id, {
      agent: claim.agent,
      at,
      expiresAt: new Date(Date.parse(at) + leaseDuration(holder)).toISOString(),
    });
  }
}

/**
 * Moves phases forward as far as the current state allows and records each move, with its domain
 * events, in one transaction. With `completed` (a task of that phase just reached done), also
 * `phase.tasks_completed` when the phase is active, has a gate and all its tasks are done: the event
 * its gate starts from, written even when no phase moves. Repeating a settle writes nothing new.
 */
async function settlePhases(
  ports: CoordinationPorts,
  project: string,
  actor: Actor,
  completed?: { readonly phase: string; readonly at: string },
): Promise<{ phases: ReadonlyMap<string, PhaseState>; moved: PhaseState[]; allDone: ReadonlySet<string> }> {
  return withRetries(ports, async () => {
    const snapshot = await ports.store.snapshot(project);
    if (!snapshot) return { phases: new Map(), moved: [], allDone: new Set<string>() };
    const plan = snapshot.plan.plan;
    const allDone = new Set(
      plan.phases
        .filter((phase) => phase.tasks.every((task) => snapshot.tasks.get(task.id)?.status === 'done'))
        .map((phase) => phase.id),
    );
    const at = ports.clock.now().toISOString();
    const changed = progressPhases(plan, snapshot.phases, snapshot.tasks, at);
    const phases = new Map(snapshot.phases);
    for (const phase of changed) phases.set(phase.id, phase);
    const gate = plan.phases.find((phase) => phase.id === completed?.phase)?.gate;
    const published = phaseEvents(plan, changed, at);
    if (
      completed &&
      gate &&
      phases.get(completed.phase)?.status === 'active' &&
      allDone.has(completed.phase)
    ) {
      // When the phase's last task was done: every settle after it (this transition's, the publisher's
      // for each task of the phase) names the same event, so the phase completing is one event.
      const lastDone =
        (plan.phases.find((phase) => phase.id === completed.phase)?.tasks ?? [])
          .map((task) => snapshot.tasks.get(task.id)?.doneAt ?? completed.at)
          .sort()
          .at(-1) ?? completed.at;
      published.push(
        domainEvent('phase.tasks_completed', { project, phase: completed.phase, gate, at: lastDone }),
      );
    }
    if (changed.length === 0 && published.length === 0) return { phases, moved: [], allDone };
    await ports.store.commit(project, {
      phases: changed.map((next) => ({ next, expectedVersion: next.version - 1 })),
      events: changed.map((next) =>
        auditEvent(ports, at, actor, {
          type: next.status === 'passed' ? 'phase.passed' : 'phase.activated',
          subject: next.id,
          note: next.status === 'passed' ? 'all its tasks are done' : 'every phase it depends on has passed',
        }),
      ),
      published,
    });
    return { phases, moved: changed, allDone };
  });
}

/**
 * What a task reaching done sets off: when the phase's done counter (moved in the task's own
 * transaction) says every task of the phase may be done, the phases are settled, and a gated phase
 * gets its `phase.tasks_completed`. The publisher runs this for every delivered `task.changed`, and
 * the transition runs it at once for its answer; both may run, and running it again writes nothing new.
 */
export async function followTaskChange(
  ports: CoordinationPorts,
  change: Pick<TaskChangedDetail, 'project' | 'phase' | 'from' | 'to' | 'at'>,
): Promise<PhaseState[]> {
  if (change.to !== 'done' || change.from === 'done') return [];
  const stored = await ports.store.currentPlan(change.project);
  const phase = stored?.plan.phases.find((candidate) => candidate.id === change.phase);
  if (!phase) return [];
  const done = await ports.store.countDone(change.project, phase.id, 0);
  if (done < phase.tasks.length) return [];
  const settled = await settlePhases(
    ports,
    change.project,
    { kind: 'system' },
    { phase: phase.id, at: change.at },
  );
  if (settled.moved.length > 0 || settled.phases.get(phase.id)?.status !== 'passed') return settled.moved;
  // The publisher, following the same task.changed, settled the phases a moment earlier: what this
  // task reaching done moved is the same, its phase passing and the phases waiting for it moving on.
  const waiting = stored?.plan.phases.filter((candidate) => candidate.dependsOn.includes(phase.id)) ?? [];
  return [phase, ...waiting].flatMap((candidate) => {
    const state = settled.phases.get(candidate.id);
    return state && state.status !== 'pending' ? [state] : [];
  });
}

const statuses = (phases: Iterable<PhaseState>) =>
  Object.fromEntries([...phases].map((phase) => [phase.id, phase.status]));

export interface TaskResult {
  readonly task: TaskState;
  readonly changed: boolean;
  /** Phases whose status changed as a consequence (a phase passing, the next becoming active). */
  readonly phases: Record<string, PhaseState['status']>;
}

/**
 * How many other tasks of a phase may reach done between a transition's read and its commit while the
 * answer still names the phase it completes; more, and only the publisher settles it (a moment later).
 */
const RACING_COMPLETIONS = 8;

/**
 * Moves a task along its lifecycle; 409 (ConflictError) with the reason when the rules forbid it. A
 * move to done of a task that needs evidence is refused (409 listing what is missing) unless the
 * evidence is there or its owner or an admin overrides with a note (core/coordination/evidence.ts).
 */
export async function transitionTask(
  ports: CoordinationPorts,
  input: {
    project: string;
    task: string;
    to: TaskStatus;
    note?: string;
    lease?: string;
    /** The owner's or an admin's move to done without (all) its evidence; needs a note. */
    override?: boolean;
    actor: Actor;
  },
): Promise<TaskResult> {
  const { project, actor } = input;
  const stored = await requirePlan(ports, project);
  const { task: taskDef, phase } = requireTask(stored.plan, input.task);
  assertMayActOnTask(stored.plan, actor, taskDef, undefined, 'move task');
  const result = await withRetries(ports, async () => {
    const context = await ports.store.getTaskContext(project, [taskDef.id, ...taskDef.dependsOn], phase.id);
    const states = context.tasks;
    const task = states.get(taskDef.id) ?? initialTask(taskDef.id, stored.appliedAt);
    assertMayActOnTask(stored.plan, actor, taskDef, task, 'move task');
    assertMayOverride(stored.plan, actor, taskDef, workingAgent(taskDef, task), input);
    if (task.status !== input.to) {
      assertHoldsLease(task, actor, input.lease, taskDef.agent);
      assertClaimedBeforeStart(task, actor, taskDef.agent, input.to);
    }
    // Task state is created on first write, so a predecessor nobody touched yet is simply todo.
    const predecessors = new Map(
      taskDef.dependsOn.map((id) => [id, states.get(id) ?? initialTask(id, stored.appliedAt)]),
    );
    // Like tasks, a phase has state only once it has moved; until then it is pending.
    const phaseStatus = context.phase?.status ?? 'pending';
    const check = checkTransition({
      plan: stored.plan,
      task,
      to: input.to,
      actor,
      phaseStatus,
      predecessors,
    });
    if (check.outcome === 'forbidden') throw new ConflictError(check.reason);
    if (check.outcome === 'unchanged')
      return { task, changed: false, from: task.status, published: [], done: context.done };
    const at = ports.clock.now().toISOString();
    const verification =
      input.to === 'done'
        ? await verifyDone(ports.store, { ...input, plan: stored.plan, task: taskDef, state: task, at })
        : undefined;
    // Finishing a task lifts its blocker: a done task cannot be blocked, and would otherwise stay so.
    const unblocks = input.to === 'done' && task.blocked;
    // A task that is done (or reopened to todo by an admin) is nobody's claim any more; the leases its
    // claim took on the resources it touches end with it.
    const endsClaim = task.claim !== undefined && (input.to === 'done' || input.to === 'todo');
    const moved = withCycleTimes(
      nextVersion(task, { status: input.to, ...(unblocks ? { blocked: false } : {}) }, actor, at),
      task.status,
      at,
    );
    const next = withVerification(endsClaim ? withoutClaim(moved) : moved, verification);
    const leaseChange =
      endsClaim && taskDef.touches.length > 0
        ? await taskLeasesEnded(ports, project, taskDef.id, task.claim as TaskClaim, actor, at)
        : undefined;
    const agent = workingAgent(taskDef, task);
    const outbox = [
      ...jiraCommands(ports, stored.plan, taskDef.jira, next, actor),
      ...(input.to === 'done'
        ? slackNotices(ports, stored.plan, agent, `task-done:${project}:${taskDef.id}:v${next.version}`, {
            type: 'task-done',
            project,
            task: { id: taskDef.id, title: taskDef.title },
            by: next.updatedBy,
            ...(input.note ? { note: input.note } : {}),
          })
        : []),
    ];
    // The change, its audit event, its JIRA and Slack commands, the phase's done counter and its domain
    // event in one transaction: a crash after it loses none of them, and the publisher delivers the event.
    const published = [
      taskChangedEvent(project, phase.id, agent, task.status, next, {
        // Finishing a blocked task lifts its blocker: escalations about the blocker end with it.
        ...(unblocks ? { unblocked: true as const } : {}),
        ...(input.note ? { note: input.note } : {}),
      }),
    ];
    await ports.store.commit(project, {
      tasks: [{ next, expectedVersion: task.version }],
      events: [
        auditEvent(ports, at, actor, {
          type: 'task.transitioned',
          subject: task.id,
          ...(input.note ? { note: input.note } : {}),
          data: {
            from: task.status,
            to: input.to,
            ...(agent !== undefined ? { agent } : {}),
            ...(unblocks ? { unblocked: task.blockedReason ?? true } : {}),
            ...(verification ? { verification } : {}),
          },
        }),
        ...(leaseChange?.events ?? []),
      ],
      ...(leaseChange ? { leases: leaseChange.leases } : {}),
      ...(input.to === 'done' || task.status === 'done'
        ? { doneCounts: [{ phase: phase.id, delta: input.to === 'done' ? 1 : -1 }] }
        : {}),
      ...(outbox.length > 0 ? { outbox: { entries: outbox, now: ports.clock.now() } } : {}),
      published: [...published, ...(leaseChange?.published ?? [])],
    });
    return { task: next, changed: true, from: task.status, published, done: context.done };
  });
  // Only a task reaching done can complete a phase (an admin reopening one leaves its phase as it is).
  // The publisher follows the task.changed event to settle the phases; settling here too (it is
  // idempotent) lets the answer say which phases moved. Far from the phase's end (by the count read
  // with the task, even if that many others finished meanwhile) there is nothing to settle, and the
  // read it takes is left out of the request.
  const nearEnd = result.done + 1 + RACING_COMPLETIONS >= phase.tasks.length;
  const moved =
    result.changed && nearEnd
      ? await followTaskChange(ports, {
          project,
          phase: phase.id,
          from: result.from,
          to: result.task.status,
          at: result.task.updatedAt,
        })
      : [];
  // A lifted blocker's escalations follow at once too (the publisher would a moment later); the phases
  // were settled just above, and following the event again would only settle them again.
  if (result.published.some((event) => event.type === 'task.changed' && event.detail.unblocked))
    await ports.follow?.(result.published);
  return { task: result.task, changed: result.changed, phases: statuses(moved) };
}

/**
 * Passes a phase whose gate said GO or whose approver accepted the risk, then activates the phases
 * waiting for it (and passes any gateless ones that were only waiting for it). A phase that passed
 * already is left as it is, so a retried step changes nothing.
 */
export async function passPhase(
  ports: CoordinationPorts,
  input: { project: string; phase: string; note: string; actor: Actor },
): Promise<PhaseState[]> {
  const { project } = input;
  await requirePlan(ports, project);
  // The phase passing, the phases it lets move and their events: one transaction.
  return withRetries(ports, async () => {
    const snapshot = await ports.store.snapshot(project);
    if (!snapshot) return [];
    const state = snapshot.phases.get(input.phase);
    if (state?.status === 'passed') return [];
    const plan = snapshot.plan.plan;
    const at = ports.clock.now().toISOString();
    const passed: PhaseState = {
      id: input.phase,
      status: 'passed',
      updatedAt: at,
      version: (state?.version ?? 0) + 1,
    };
    const phases = new Map(snapshot.phases);
    phases.set(passed.id, passed);
    const settled = progressPhases(plan, phases, snapshot.tasks, at);
    const moved = [passed, ...settled];
    await ports.store.commit(project, {
      phases: [
        { next: passed, expectedVersion: state?.version ?? 0 },
        ...settled.map((next) => ({ next, expectedVersion: next.version - 1 })),
      ],
      events: [
        auditEvent(ports, at, input.actor, { type: 'phase.passed', subject: input.phase, note: input.note }),
        ...settled.map((next) =>
          auditEvent(
            ports,
            at,
            { kind: 'system' },
            {
              type: next.status === 'passed' ? 'phase.passed' : 'phase.activated',
              subject: next.id,
              note:
                next.status === 'passed' ? 'all its tasks are done' : 'every phase it depends on has passed',
            },
          ),
        ),
      ],
      published: phaseEvents(plan, moved, at).map((published) =>
        published.type === 'phase.passed' && published.detail.phase === input.phase
          ? domainEvent('phase.passed', { ...published.detail, by: 'gate-decision' })
          : published,
      ),
    });
    return moved;
  });
}

/** `phase.passed` for every phase that passed, naming the phases that became active with it. */
export function phaseEvents(plan: Plan, moved: readonly PhaseState[], at: string): DomainEvent[] {
  const activated = moved.filter((phase) => phase.status === 'active').map((phase) => phase.id);
  return moved
    .filter((phase) => phase.status === 'passed')
    .map((passed) =>
      domainEvent('phase.passed', {
        project: plan.project.id,
        phase: passed.id,
        gate: plan.phases.find((candidate) => candidate.id === passed.id)?.gate ?? null,
        by: 'all-tasks-done',
        activated: activated.filter((id) =>
          plan.phases.find((candidate) => candidate.id === id)?.dependsOn.includes(passed.id),
        ),
        at,
      }),
    );
}

/**
 * The command that keeps the task's JIRA issue in step: its status moves to the name the plan maps the
 * task status to. The command id is the task version, so it is written once, with that version; a
 * change that came from JIRA itself is not sent back (no ping-pong).
 */
export function jiraCommands(
  ports: CoordinationPorts,
  plan: Plan,
  issue: string | undefined,
  task: TaskState,
  actor: Actor,
): OutboxWrite[] {
  const statuses = plan.integrations.jira?.statuses;
  const status = statuses?.[task.status];
  if (!ports.outbox || !issue || !status || (actor.kind === 'integration' && actor.id === 'jira')) return [];
  return [
    {
      id: `task:${plan.project.id}:${task.id}:v${task.version}`,
      project: plan.project.id,
      command: { kind: 'transition', issue, status },
    },
  ];
}

/**
 * The post that tells the team in Slack, through the outbox (so a Slack outage loses nothing and a
 * retry posts nothing new): in the agent's own channel, or the project's when the agent has none.
 */
export function slackNotices(
  ports: CoordinationPorts,
  plan: Plan,
  agentId: string | undefined,
  key: string,
  notice: Notice,
): OutboxWrite[] {
  const agent = plan.agents.find((candidate) => candidate.id === agentId);
  const channel = agent?.channel ?? plan.integrations.slack?.channel;
  if (!ports.outbox || !channel) return [];
  return [{ id: `slack:${key}`, project: plan.project.id, command: { kind: 'slack', channel, key, notice } }];
}

/** `{ outbox }` of a change that queues these entries, or nothing. */
export function queued(ports: CoordinationPorts, entries: readonly OutboxWrite[]) {
  return entries.length > 0 ? { outbox: { entries, now: ports.clock.now() } } : {};
}

/** The next version of a task: who changed it and when; a reason only while it is blocked. */
export function nextVersion(
  task: TaskState,
  changes: Partial<Pick<TaskState, 'status' | 'blocked' | 'blockedReason'>>,
  actor: Actor,
  at: string,
): TaskState {
  const next: TaskState = {
    ...task,
    ...changes,
    updatedAt: at,
    updatedBy: describeActor(actor),
    version: task.version + 1,
  };
  if (next.blocked) return next;
  const { blockedReason: _cleared, ...unblocked } = next;
  return unblocked;
}

/** Stamps when a task started and when it was done; a reopened task is no longer done. */
export function withCycleTimes(next: TaskState, from: TaskStatus, at: string): TaskState {
  if (next.status === 'done') return { ...next, doneAt: at };
  const { doneAt: _reopened, ...open } = next;
  return from === 'todo' && next.status === 'in_progress' ? { ...open, startedAt: at } : open;
}

/**
 * `task.changed` for a task written as `next`, coming `from` a status (equal to its own when only the
 * blocker changed): the one shape every use case that moves a task publishes.
 */
export function taskChangedEvent(
  project: string,
  phase: string,
  agent: string | undefined,
  from: TaskStatus,
  next: TaskState,
  extra: Pick<TaskChangedDetail, 'blockedReason' | 'unblocked' | 'note'> = {},
): DomainEvent {
  return domainEvent('task.changed', {
    project,
    task: next.id,
    phase,
    ...(agent !== undefined ? { agent } : {}),
    version: next.version,
    from,
    to: next.status,
    by: next.updatedBy,
    blocked: next.blocked,
    ...extra,
    at: next.updatedAt,
  });
}

/** A task state without its claim (the assignee stays). */
export function withoutClaim(task: TaskState): TaskState {
  const { claim: _ended, ...rest } = task;
  return rest;
}

/**
 * What ending a claim does to the leases it took on the resources its task touches: the lease set
 * without them, and the audit and domain events that say they were released (none: nothing to change).
 */
export async function taskLeasesEnded(
  ports: Pick<CoordinationPorts, 'store' | 'ids'>,
  project: string,
  task: string,
  claim: TaskClaim,
  actor: Actor,
  at: string,
  reason: 'released' | 'expired' = 'released',
): Promise<
  | { leases: { next: LeaseSet; expectedVersion: number }; events: AuditEvent[]; published: DomainEvent[] }
  | undefined
> {
  const set = await ports.store.getLeases(project);
  const { kept, dropped } = withoutTaskLeases(set, task, `agent:${claim.agent}`);
  if (dropped.length === 0) return undefined;
  const type = reason === 'expired' ? 'lease.expired' : 'lease.released';
  return {
    leases: { next: { leases: kept, version: set.version + 1 }, expectedVersion: set.version },
    events: dropped.map((lease) =>
      auditEvent(ports, at, actor, { type, subject: lease.id, data: leaseData(lease) }),
    ),
    published: dropped.map((lease) => domainEvent(type, { project, ...leaseDetail(lease), at })),
  };
}

/** What the audit trail keeps of a lease. */
export const leaseData = (lease: ResourceLease) => ({
  holder: lease.holder,
  mode: lease.mode,
  paths: [...lease.paths],
  expiresAt: lease.expiresAt,
  ...(lease.resource !== undefined ? { resource: lease.resource } : {}),
  ...(lease.task !== undefined ? { task: lease.task } : {}),
});

/** A lease's part of its domain events' detail. */
export const leaseDetail = (lease: ResourceLease) => ({
  lease: lease.id,
  holder: lease.holder,
  paths: [...lease.paths],
  mode: lease.mode,
  expiresAt: lease.expiresAt,
  ...(lease.resource !== undefined ? { resource: lease.resource } : {}),
  ...(lease.task !== undefined ? { task: lease.task } : {}),
});

export function initialTask(id: string, at: string): TaskState {
  return { id, status: 'todo', blocked: false, updatedAt: at, updatedBy: 'system', version: 0 };
}

/** Raises (with a reason) or clears the blocked flag of a task that is not done. */
export async function setBlocker(
  ports: CoordinationPorts,
  input: { project: string; task: string; reason: string | null; lease?: string; actor: Actor },
): Promise<TaskResult> {
  const { project, actor } = input;
  const stored = await requirePlan(ports, project);
  const { task: taskDef } = requireTask(stored.plan, input.task);
  assertMayActOnTask(stored.plan, actor, taskDef, undefined, 'block or unblock task');
  const result = await withRetries(ports, async (): Promise<TaskResult & { published: DomainEvent[] }> => {
    const task =
      (await ports.store.getTasks(project, [taskDef.id])).get(taskDef.id) ??
      initialTask(taskDef.id, stored.appliedAt);
    assertMayActOnTask(stored.plan, actor, taskDef, task, 'block or unblock task');
    assertHoldsLease(task, actor, input.lease, taskDef.agent);
    const agent = workingAgent(taskDef, task);
    if (task.status === 'done')
      throw new ConflictError(
        `task ${task.id} is done; a done task cannot be ${input.reason === null ? 'unblocked' : 'blocked'}`,
      );
    const blocked = input.reason !== null;
    if (task.blocked === blocked && (input.reason ?? undefined) === task.blockedReason)
      return { task, changed: false, phases: {}, published: [] };
    const at = ports.clock.now().toISOString();
    const next = nextVersion(
      task,
      { blocked, ...(blocked ? { blockedReason: input.reason as string } : {}) },
      actor,
      at,
    );
    const phase = requireTask(stored.plan, taskDef.id).phase.id;
    const published = [
      taskChangedEvent(project, phase, agent, next.status, next, {
        ...(next.blockedReason ? { blockedReason: next.blockedReason } : {}),
      }),
    ];
    await ports.store.commit(project, {
      tasks: [{ next, expectedVersion: task.version }],
      events: [
        auditEvent(ports, at, actor, {
          type: blocked ? 'task.blocked' : 'task.unblocked',
          subject: task.id,
          ...(blocked
            ? { note: input.reason as string }
            : task.blockedReason
              ? { note: `was: ${task.blockedReason}` }
              : {}),
          ...(agent !== undefined ? { data: { agent } } : {}),
        }),
      ],
      ...queued(
        ports,
        blocked
          ? slackNotices(
              ports,
              stored.plan,
              agent,
              `task-blocked:${project}:${taskDef.id}:v${next.version}`,
              {
                type: 'task-blocked',
                project,
                task: { id: taskDef.id, title: taskDef.title },
                by: next.updatedBy,
                reason: input.reason as string,
              },
            )
          : [],
      ),
      // Escalations about the blocker follow this event (the publisher runs them).
      published,
    });
    return { task: next, changed: true, phases: {}, published };
  });
  await ports.follow?.(result.published);
  return { task: result.task, changed: result.changed, phases: result.phases };
}

/** Records an agent's heartbeat: it is alive, what it works on, how far along, at what risk. */
export async function recordHeartbeat(
  ports: CoordinationPorts,
  input: {
    project: string;
    agent: string;
    task?: string;
    completion?: number;
    risk?: Risk;
    note?: string;
    actor: Actor;
  },
): Promise<AgentState> {
  const stored = await requirePlan(ports, input.project);
  assertMayActFor(stored.plan, input.actor, input.agent, 'send heartbeats');
  const agentDef = requireAgent(stored.plan, input.agent);
  const named = input.task === undefined ? undefined : requireTask(stored.plan, input.task).task;
  if (named !== undefined) {
    const task = named;
    if (task.agent !== input.agent && !mayClaim(task, input.agent))
      throw new ValidationError(
        task.agent
          ? `task ${task.id} is assigned to agent ${task.agent}, not ${input.agent}`
          : `task ${task.id} is not for agent ${input.agent}: its pool is ${(task.pool ?? []).join(', ')}`,
      );
  }
  const { project, agent, actor, ...reported } = input;
  const at = ports.clock.now().toISOString();
  const heartbeat = { ...reported, at };
  // One conditional write on the hottest request there is. An agent marked down is left as it is: its
  // heartbeat, the end of its down mark, the trail, the notice and `agent.up` are one transaction, so a
  // crash in between loses none of them (the agent stays down and its next heartbeat tries again). A
  // concurrent heartbeat that brought it back first wins: this one starts over and is recorded plainly.
  const { state, up } = await withRetries(ports, async () => {
    const recorded = await ports.store.recordHeartbeat(project, agent, heartbeat);
    if (recorded.down === undefined) return { state: recorded.agent, up: [] };
    return { state: afterHeartbeat(recorded.agent, agent, heartbeat), up: await bringBackUp(recorded.down) };
  });
  // A heartbeat naming a pool or open task renews the agent's claim on it (a no-op when it holds none).
  // A claim on a task the plan assigns to this very agent never lapses (the monitor leaves it, and its
  // lease id keeps working: nobody else may take the task), so renewing it would be a wasted write on
  // the hottest request there is; a silent agent is the agent-down path's to handle.
  if (named !== undefined && named.agent !== agent)
    await ports.store.renewClaim(project, named.id, {
      agent,
      at,
      expiresAt: new Date(Date.parse(at) + leaseDuration(agentDef)).toISOString(),
    });
  // Escalations about it being down follow the event.
  await ports.follow?.(up);
  return state;

  /** Heard from again: the agent is back up, and the trail says for how long it was gone. */
  async function bringBackUp(downSince: string): Promise<DomainEvent[]> {
    const published = [domainEvent('agent.up', { project, agent, downSince, at })];
    await ports.store.commit(project, {
      agentsUp: [{ agent, downSince, heartbeat }],
      events: [
        auditEvent(ports, at, actor, {
          type: 'agent.up',
          subject: agent,
          note: `${agent} is back after being down since ${downSince}`,
          data: { downSince },
        }),
      ],
      ...queued(
        ports,
        slackNotices(ports, stored.plan, agent, `agent-up:${project}:${agent}:${downSince}`, {
          type: 'agent-up',
          project,
          agent: { id: agent, name: agentDef.name ?? agent },
          downSince,
        }),
      ),
      published,
    });
    return published;
  }
}

/** How long a handoff's content is remembered: the same handoff sent again within it is recorded once. */
const HANDOFF_REPLAY_SECONDS = 24 * 60 * 60;
/** How long a handoff being recorded holds its content against a concurrent retry. */
const HANDOFF_HOLD_SECONDS = 30;

export interface HandoffResult {
  readonly handoff: Handoff;
  /** False when the same handoff (task, targets, checklist, notes) was recorded already: a retry. */
  readonly created: boolean;
}

/**
 * Records a handoff from a task to the tasks that continue its work. The task must be
 * `in_progress` or `in_review` (409 otherwise) and every target must depend on it, directly or
 * through other tasks or phases (422 naming the field otherwise); an admin's `override` lifts both
 * rules. Every item of the plan's handoff checklist must be confirmed (422 listing those that are
 * not); an item the plan does not have is a 400 with "did you mean". The same handoff sent again
 * within 24 hours (a retry) is recorded once: the retry gets the first one, `created: false`.
 */
export async function recordHandoff(
  ports: CoordinationPorts,
  input: {
    project: string;
    task: string;
    to: readonly string[];
    checklist: Readonly<Record<string, boolean>>;
    notes?: string;
    override?: boolean;
    lease?: string;
    actor: Actor;
  },
): Promise<HandoffResult> {
  const stored = await requirePlan(ports, input.project);
  const plan = stored.plan;
  const { task } = requireTask(plan, input.task);
  for (const target of input.to) requireTask(plan, target);
  assertMayActOnTask(plan, input.actor, task, undefined, 'hand off task');
  if (input.override && input.actor.kind !== 'admin')
    throw new ForbiddenError(
      `${describeActor(input.actor)} may not override the handoff rules; only an admin may (leave out "override")`,
    );
  if (input.to.length === 0)
    throw new ValidationError(
      `to: name at least one task to hand ${task.id} off to${describeTargets(plan, task.id)}`,
    );
  const seen = new Set<string>();
  for (const [index, target] of input.to.entries()) {
    if (seen.has(target)) throw new ValidationError(`to[${index}]: task ${target} is listed twice`);
    seen.add(target);
  }
  const unknown = Object.keys(input.checklist).filter((item) => !plan.handoff.includes(item));
  if (unknown.length > 0) {
    throw new ValidationError(
      `checklist has ${unknown.length === 1 ? 'an item' : 'items'} that ${unknown.length === 1 ? 'is' : 'are'} not in the plan's handoff checklist: ${unknown.map((item) => `"${item}"${didYouMeanItem(item, plan.handoff)}`).join(', ')}; ${describeChecklist(plan.handoff)}`,
      unknown.map((item) => ({
        field: `checklist.${item}`,
        suggestion: suggestChecklistItem(item, plan.handoff) ?? null,
      })),
    );
  }
  const state = (await ports.store.getTasks(input.project, [task.id])).get(task.id);
  if (state) {
    assertMayActOnTask(plan, input.actor, task, state, 'hand off task');
    assertHoldsLease(state, input.actor, input.lease, task.agent);
  }
  if (!input.override) {
    const status = state?.status ?? 'todo';
    if (!HANDOFF_STATUSES.includes(status))
      throw new ConflictError(
        `task ${task.id} is ${status}; only a task in ${HANDOFF_STATUSES.join(' or ')} can be handed off${
          status === 'todo' ? ' (start it first)' : ''
        }`,
      );
    const { all } = handoffTargets(plan, task.id);
    const unrelated = input.to
      .map((target, index) => ({ target, index }))
      .filter(({ target }) => !all.has(target));
    if (unrelated.length > 0)
      throw new UnprocessableError(
        `${unrelated.map(({ target, index }) => `to[${index}]: task ${target}`).join(', ')} ${unrelated.length === 1 ? 'does' : 'do'} not depend on ${task.id}; a task is handed off only to tasks that depend on it${describeTargets(plan, task.id)}, or by an admin with "override": true`,
        unrelated.map(({ target, index }) => ({ field: `to[${index}]`, task: target })),
      );
  }
  const unconfirmed = plan.handoff.filter((item) => input.checklist[item] !== true);
  if (unconfirmed.length > 0) {
    throw new UnprocessableError(
      `handoff of ${task.id} is missing ${unconfirmed.length} confirmed checklist item${unconfirmed.length === 1 ? '' : 's'}: ${unconfirmed.map((item) => `"${item}"`).join(', ')}`,
      unconfirmed.map((item) => ({ item, confirmed: input.checklist[item] ?? null })),
    );
  }
  const content = handoffContent({ ...input, task: task.id });
  const key = `handoff:${input.project}:${shortHash(content)}`;
  const claimed = await claimHandoff(ports, key, content);
  if (claimed.replay) return { handoff: claimed.replay, created: false };
  try {
    // A first attempt that recorded its handoff but died before remembering it: it counts.
    const at = ports.clock.now();
    const since = new Date(at.getTime() - HANDOFF_REPLAY_SECONDS * 1000).toISOString();
    const earlier = (await ports.store.listHandoffs(input.project, since)).find(
      (handoff) => handoffContent(handoff) === content,
    );
    if (earlier) {
      await remember(ports, claimed.held, key, content, earlier);
      return { handoff: earlier, created: false };
    }
    const handoff = await saveHandoff(
      ports,
      plan,
      { ...task, agent: workingAgent(task, state) },
      input,
      at.toISOString(),
    );
    await remember(ports, claimed.held, key, content, handoff);
    return { handoff, created: true };
  } catch (error) {
    if (claimed.held) await ports.idempotency?.release(key);
    throw error;
  }
}

/** ` (tasks that depend on X: a, b)` or ` (no task depends on X)`: where a handoff may go. */
function describeTargets(plan: Plan, taskId: string): string {
  const { direct } = handoffTargets(plan, taskId);
  return direct.length > 0
    ? ` (tasks that depend on ${taskId}: ${direct.join(', ')})`
    : ` (no task depends on ${taskId})`;
}

/**
 * Holds the handoff's content against a concurrent retry. A retry that finds the first still being
 * recorded waits for it (up to 5 s, then 409 "retry") and answers with it; without an idempotency store (unit
 * tests), only the recorded handoffs are compared.
 */
async function claimHandoff(
  ports: CoordinationPorts,
  key: string,
  content: string,
): Promise<{ held: boolean; replay?: Handoff }> {
  if (!ports.idempotency) return { held: false };
  for (let attempt = 0; ; attempt++) {
    const claim = await ports.idempotency.claim(key, content, ports.clock.now(), HANDOFF_HOLD_SECONDS);
    if (claim.state === 'new') return { held: true };
    if (claim.state === 'done')
      // The key is a hash: only the same content is the same handoff.
      return claim.fingerprint === content
        ? { held: false, replay: claim.outcome as Handoff }
        : { held: false };
    if (attempt >= 25)
      throw new ConflictError(
        'the same handoff is being recorded by another request right now; retry in a moment',
      );
    await ports.pause?.(200);
  }
}

async function remember(
  ports: CoordinationPorts,
  held: boolean,
  key: string,
  content: string,
  handoff: Handoff,
): Promise<void> {
  if (held)
    await ports.idempotency?.complete(key, content, handoff, ports.clock.now(), HANDOFF_REPLAY_SECONDS);
}

async function saveHandoff(
  ports: CoordinationPorts,
  plan: Plan,
  task: { id: string; title: string; agent: string | undefined },
  input: {
    project: string;
    to: readonly string[];
    checklist: Readonly<Record<string, boolean>>;
    notes?: string;
    override?: boolean;
    actor: Actor;
  },
  at: string,
): Promise<Handoff> {
  const handoff: Handoff = {
    id: ports.ids.next(at),
    task: task.id,
    to: [...input.to],
    checklist: { ...input.checklist },
    ...(input.notes ? { notes: input.notes } : {}),
    at,
    by: describeActor(input.actor),
  };
  const title = (id: string) => definition(plan, id)?.task.title ?? id;
  await ports.store.commit(input.project, {
    handoffs: [handoff],
    events: [
      auditEvent(ports, at, input.actor, {
        type: 'task.handed_off',
        subject: task.id,
        ...(input.notes ? { note: input.notes } : {}),
        data: { to: [...input.to], handoff: handoff.id, ...(input.override ? { override: true } : {}) },
      }),
    ],
    ...queued(
      ports,
      slackNotices(ports, plan, task.agent, `handoff:${input.project}:${handoff.id}`, {
        type: 'task-handed-off',
        project: input.project,
        task: { id: task.id, title: task.title },
        by: handoff.by,
        to: handoff.to.map((id) => ({ id, title: title(id) })),
        checklist: handoff.checklist,
        ...(handoff.notes ? { notes: handoff.notes } : {}),
      }),
    ),
  });
  return handoff;
}

/**
 * The plan's handoff checklist, and for a task whether it can be handed off now and to which tasks:
 * what an agent reads before `POST …/handoffs` rather than learning it from a 422.
 */
export async function handoffChecklist(
  ports: CoordinationPorts,
  input: { project: string; task?: string },
): Promise<{
  items: string[];
  template: Record<string, boolean>;
  task?: { id: string; status: TaskStatus; canHandOff: boolean; reason: string | null; to: string[] };
}> {
  const stored = await requirePlan(ports, input.project);
  const plan = stored.plan;
  const items = [...plan.handoff];
  const template = Object.fromEntries(items.map((item) => [item, true]));
  if (input.task === undefined) return { items, template };
  const { task } = requireTask(plan, input.task);
  const status = (await ports.store.getTasks(input.project, [task.id])).get(task.id)?.status ?? 'todo';
  const canHandOff = HANDOFF_STATUSES.includes(status);
  const { all } = handoffTargets(plan, task.id);
  return {
    items,
    template,
    task: {
      id: task.id,
      status,
      canHandOff,
      reason: canHandOff
        ? null
        : `task ${task.id} is ${status}; only a task in ${HANDOFF_STATUSES.join(' or ')} can be handed off`,
      to: plan.phases
        .flatMap((phase) => phase.tasks.map((candidate) => candidate.id))
        .filter((id) => all.has(id)),
    },
  };
}

/** Appends metric points (at most 100 a request), each timestamped now unless it says when. */
export async function recordMetrics(
  ports: CoordinationPorts,
  input: { project: string; metrics: readonly { name: string; value: number; at?: string }[] },
): Promise<MetricPoint[]> {
  await requirePlan(ports, input.project);
  const now = ports.clock.now();
  const points = input.metrics.map((metric, index) => {
    if (metric.at !== undefined && Date.parse(metric.at) > now.getTime() + 5 * 60_000) {
      throw new ValidationError(`metrics[${index}].at: ${metric.at} is in the future`);
    }
    return {
      name: metric.name,
      value: metric.value,
      at: metric.at === undefined ? now.toISOString() : new Date(metric.at).toISOString(),
    };
  });
  // The newest point of each metric posted: what the `when` rules over those metrics now see. The
  // escalations follow the event, written with the points.
  const latest = new Map<string, MetricPoint>();
  for (const point of points) {
    const seen = latest.get(point.name);
    if (!seen || seen.at <= point.at) latest.set(point.name, point);
  }
  const published = [
    domainEvent('metrics.recorded', {
      project: input.project,
      metrics: [...latest.values()].map(({ name, value, at }) => ({ name, value, at })),
      at: now.toISOString(),
    }),
  ];
  await ports.store.putMetrics(input.project, points, published);
  await ports.follow?.(published);
  return points;
}

/** Adds an event of any type to the audit trail (and, later, to escalation rules that listen for it). */
export async function recordEvent(
  ports: CoordinationPorts,
  input: { project: string; type: string; subject?: string; note?: string; actor: Actor },
): Promise<AuditEvent> {
  await requirePlan(ports, input.project);
  const at = ports.clock.now().toISOString();
  const recorded = auditEvent(ports, at, input.actor, {
    type: input.type,
    ...(input.subject ? { subject: input.subject } : {}),
    ...(input.note ? { note: input.note } : {}),
  });
  // Escalation rules that listen for the event follow the domain event written with it.
  const published = [eventRecordedEvent(input.project, recorded)];
  await ports.store.commit(input.project, { events: [recorded], published });
  await ports.follow?.(published);
  return recorded;
}

/** The audit trail, newest first. */
export async function listEvents(
  ports: CoordinationPorts,
  input: { project: string; type?: string; since?: string; limit?: number; cursor?: string },
): Promise<EventPage> {
  await requirePlan(ports, input.project);
  const { project, limit, ...query } = input;
  return ports.store.listEvents(project, { ...query, limit: limit ?? 50 });
}
