import { type DomainEvent, domainEvent } from '../domain-events.js';
import { ConflictError, LeaseConflictError, VersionConflictError } from '../errors.js';
import { leaseDuration, type Plan, type TaskStatus } from '../plan/index.js';
import type { Change } from '../ports.js';
import {
  assertMayActFor,
  type CoordinationPorts,
  jiraCommands,
  leaseData,
  leaseDetail,
  nextVersion,
  queued,
  requireAgent,
  requireTask,
  slackNotices,
  taskChangedEvent,
  taskLeasesEnded,
  withCycleTimes,
  withoutClaim,
  withRetries,
} from './commands.js';
import { assertHoldsLease, newLeaseId } from './fencing.js';
import { leaseConflicts } from './leases.js';
import type { Actor, AuditEvent, LeaseSet, PhaseState, ResourceLease, TaskState } from './model.js';
import { auditEvent, requirePlan } from './records.js';
import { isReady, mayClaim, planKey, scheduleOrder, stateOf, type TaskView, taskView } from './tasks.js';

type TaskDefinition = Plan['phases'][number]['tasks'][number];

export interface LeaseRef {
  readonly id: string;
  readonly expiresAt: string;
}

export interface WaitingFor {
  readonly task: string;
  readonly status: TaskStatus;
  /** The agent the plan assigns it to. */
  readonly agent?: string;
  /** The agent holding its claim. */
  readonly holder?: string;
}

/** What a claim answers: the task and its lease, or why there is nothing to take now. */
export interface ClaimResult {
  readonly task: TaskView | null;
  readonly lease?: LeaseRef;
  /** When `task` is null: why, in one sentence. */
  readonly reason?: string;
  /** When `task` is null: the unfinished tasks that the agent's next work waits for. */
  readonly waitingFor?: readonly WaitingFor[];
}

/** How many ready tasks one claim tries before it reads the state again. */
const CANDIDATES_PER_READ = 8;
/** How long a claim keeps re-reading while racers take its candidates: under a Lambda's 10 s timeout. */
const CLAIM_BUDGET_MS = 8000;

/**
 * Claims a task for an agent: the one named, or the next ready task the agent may take (least slack
 * first, then earliest start, then id). The task moves to in_progress with a lease; the write is
 * conditional on the task's version, so two agents racing for one task cannot both get it: the loser
 * moves on to the next ready task. An agent that still works on a task it claimed (in_progress) gets
 * that one back rather than a second one: a retried claim takes nothing new.
 */
export async function claimTask(
  ports: CoordinationPorts,
  input: { project: string; agent: string; task?: string; actor: Actor },
): Promise<ClaimResult> {
  const { project, agent } = input;
  const stored = await requirePlan(ports, project);
  const agentDef = requireAgent(stored.plan, agent);
  assertMayActFor(stored.plan, input.actor, agent, 'claim tasks');
  const duration = leaseDuration(agentDef);
  if (input.task !== undefined) {
    const { task: definition, phase } = requireTask(stored.plan, input.task);
    if (!mayClaim(definition, agent))
      throw new ConflictError(
        `agent ${agent} may not claim task ${definition.id}: ${
          definition.agent ? `the plan assigns it to ${definition.agent}` : ''
        }${definition.agent && definition.pool ? ' and ' : ''}${
          definition.pool ? `its pool is ${definition.pool.join(', ')}` : ''
        }`,
      );
    return withRetries(ports, async () => {
      const context = await contextOf(ports, project, definition, phase.id);
      const state = stateOf(context.tasks, definition.id, stored.appliedAt);
      const held = heldBy(state, agent);
      if (held) return held(stored, context.tasks, context.phase?.status);
      if (state.claim)
        throw new ConflictError(
          `task ${definition.id} is claimed by ${state.claim.agent} until ${state.claim.expiresAt}; ask for the next task instead`,
        );
      const plannedStart = definition.agent === agent && state.status === 'in_progress';
      if (
        !plannedStart &&
        !isReady(
          definition,
          state,
          context.phase?.status,
          (id) => stateOf(context.tasks, id, stored.appliedAt).status === 'done',
        )
      )
        throw new ConflictError(
          `task ${definition.id} is not ready to claim: ${notReadyReason(definition, state, context.tasks, context.phase?.status, stored.appliedAt)}`,
        );
      const claimed = await writeClaim(
        ports,
        stored,
        definition,
        phase.id,
        state,
        agent,
        duration,
        input.actor,
      );
      return claimedResult(stored, claimed, context.tasks, context.phase?.status);
    });
  }
  // Every read that finds its candidates all taken by others re-reads at once (after a short random
  // pause): each round some racer wins, so the herd thins out; 8 s at most, inside a Lambda's 10 s.
  return withRetries(
    ports,
    async () => {
      const { tasks: summaries, phases } = await ports.store.taskSummaries(project);
      // A task without state is todo: nobody touched it yet.
      const states = new Map<string, TaskState>();
      for (const phase of stored.plan.phases)
        for (const task of phase.tasks) {
          const summary = summaries.get(task.id);
          states.set(
            task.id,
            summary
              ? { ...summary, updatedAt: stored.appliedAt, updatedBy: 'system' }
              : stateOf(new Map(), task.id, stored.appliedAt),
          );
        }
      const done = (id: string) => states.get(id)?.status === 'done';
      // Still working on a task it claimed: that one, again.
      for (const state of states.values()) {
        if (state.claim?.agent === agent && state.status === 'in_progress') {
          const found = requireTask(stored.plan, state.id);
          const context = await contextOf(ports, project, found.task, found.phase.id);
          return claimedResult(
            stored,
            stateOf(context.tasks, state.id, stored.appliedAt),
            context.tasks,
            context.phase?.status,
          );
        }
      }
      const order = scheduleOrder(stored.plan, planKey(stored));
      const candidates: { definition: TaskDefinition; phase: string; state: TaskState }[] = [];
      for (const phase of stored.plan.phases) {
        const phaseStatus = phases.get(phase.id)?.status;
        if (phaseStatus !== 'active') continue;
        for (const definition of phase.tasks) {
          if (!mayClaim(definition, agent)) continue;
          const state = states.get(definition.id) as TaskState;
          if (isReady(definition, state, phaseStatus, done))
            candidates.push({ definition, phase: phase.id, state });
        }
      }
      candidates.sort(
        (a, b) => (order.rank.get(a.definition.id) ?? 0) - (order.rank.get(b.definition.id) ?? 0),
      );
      let lost = 0;
      for (const candidate of attemptOrder(candidates, stored.plan.agents.length)) {
        try {
          // The summary read is enough to write from: the claim sets every field a todo task has.
          const claimed = await writeClaim(
            ports,
            stored,
            candidate.definition,
            candidate.phase,
            candidate.state,
            agent,
            duration,
            input.actor,
          );
          return claimedResult(stored, claimed, new Map(states).set(claimed.id, claimed), 'active');
        } catch (error) {
          // Another agent took it first, or a lease on what it touches stands in the way: the next one.
          if (!(error instanceof VersionConflictError || error instanceof LeaseConflictError)) throw error;
          lost++;
        }
      }
      // Every candidate tried was taken meanwhile. When there are more, read again (withRetries backs off
      // first); when those were all there were, other agents hold them now: nothing is ready.
      if (lost > 0 && candidates.length > CANDIDATES_PER_READ) throw new VersionConflictError();
      if (lost > 0)
        return {
          task: null,
          reason: `nothing is ready for ${agent}: the last ${lost === 1 ? 'ready task was' : `${lost} ready tasks were`} just claimed by other agents`,
          waitingFor: [],
        };
      return nothingReady(stored.plan, agent, states, phases);
    },
    CLAIM_BUDGET_MS,
  );
}

/**
 * Which ready tasks a claim tries, and in what order: the first in offer order, then, should another
 * agent have taken it meanwhile, tasks drawn at random from the next ones (twice as many as the plan
 * has agents). A herd of agents asking at once would otherwise all lose the race for the same second
 * task, and the same third; and the tasks taken since a busy server read the state are the first ones,
 * so a run of them would fail together. `CANDIDATES_PER_READ` at most.
 */
function attemptOrder<T>(candidates: readonly T[], agents: number): T[] {
  const window = candidates.slice(1, 1 + Math.max(CANDIDATES_PER_READ, 2 * agents));
  for (let i = window.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [window[i], window[j]] = [window[j] as T, window[i] as T];
  }
  return [...candidates.slice(0, 1), ...window].slice(0, CANDIDATES_PER_READ);
}

/** A task with its predecessors and its phase, read in one pass. */
const contextOf = (ports: CoordinationPorts, project: string, definition: TaskDefinition, phase: string) =>
  ports.store.getTaskContext(project, [definition.id, ...definition.dependsOn], phase);

/** The answer for a task the agent already holds: the same claim again, for a retried claim. */
function heldBy(state: TaskState, agent: string) {
  if (state.claim?.agent !== agent) return undefined;
  return (
    stored: { project: string; version: number; appliedAt: string; plan: Plan },
    states: ReadonlyMap<string, TaskState>,
    phaseStatus: PhaseState['status'] | undefined,
  ) => claimedResult(stored, state, states, phaseStatus);
}

function claimedResult(
  stored: { project: string; version: number; appliedAt: string; plan: Plan },
  claimed: TaskState,
  states: ReadonlyMap<string, TaskState>,
  phaseStatus: PhaseState['status'] | undefined,
): ClaimResult {
  const claim = claimed.claim as NonNullable<TaskState['claim']>;
  // The holder sees its own lease id; an owner or admin claiming for the agent does too, to pass it on.
  const viewer: Actor = { kind: 'agent', id: claim.agent };
  const view = taskView(
    stored.plan,
    stored,
    claimed.id,
    new Map(states).set(claimed.id, claimed),
    phaseStatus,
    viewer,
  );
  return { task: view, lease: { id: claim.lease, expiresAt: claim.expiresAt } };
}

/**
 * Writes the claim: the task moves to in_progress (or keeps its status, for a task its plan agent had
 * started) with the agent's lease, and shared leases on the resources it touches, in one transaction
 * with the audit and domain events and the JIRA transition.
 */
async function writeClaim(
  ports: CoordinationPorts,
  stored: { project: string; appliedAt: string; plan: Plan },
  definition: TaskDefinition,
  phase: string,
  state: TaskState,
  agent: string,
  duration: number,
  actor: Actor,
): Promise<TaskState> {
  const project = stored.project;
  const now = ports.clock.now();
  const at = now.toISOString();
  const expiresAt = new Date(now.getTime() + duration).toISOString();
  const lease = newLeaseId(ports.ids, at);
  const moved = withCycleTimes(nextVersion(state, { status: 'in_progress' }, actor, at), state.status, at);
  const next: TaskState = { ...moved, claim: { agent, lease, at, expiresAt }, assignee: agent };
  const leases =
    definition.touches.length > 0
      ? await touchLeases(ports, stored.plan, definition, agent, at, expiresAt)
      : undefined;
  const events: AuditEvent[] = [
    auditEvent(ports, at, actor, {
      type: 'task.claimed',
      subject: definition.id,
      data: {
        agent,
        expiresAt,
        from: state.status,
        ...(leases ? { leases: leases.taken.map((l) => l.id) } : {}),
      },
    }),
    ...(leases?.taken ?? []).map((taken) =>
      auditEvent(ports, at, actor, { type: 'lease.acquired', subject: taken.id, data: leaseData(taken) }),
    ),
  ];
  const published: DomainEvent[] = [
    domainEvent('task.claimed', {
      project,
      task: definition.id,
      phase,
      agent,
      expiresAt,
      version: next.version,
      by: next.updatedBy,
      at,
    }),
    ...(state.status !== next.status ? [taskChangedEvent(project, phase, agent, state.status, next)] : []),
    ...(leases?.taken ?? []).map((taken) =>
      domainEvent('lease.acquired', { project, ...leaseDetail(taken), at }),
    ),
  ];
  const change: Change = {
    tasks: [{ next, expectedVersion: state.version }],
    events,
    ...(leases ? { leases: leases.write } : {}),
    ...queued(
      ports,
      state.status !== next.status ? jiraCommands(ports, stored.plan, definition.jira, next, actor) : [],
    ),
    published,
  };
  await ports.store.commit(project, change);
  return next;
}

/**
 * The shared leases a claim takes on the resources its task touches, in the claim's transaction.
 * @throws LeaseConflictError when another holder has an exclusive lease over one of them.
 */
async function touchLeases(
  ports: CoordinationPorts,
  plan: Plan,
  definition: TaskDefinition,
  agent: string,
  at: string,
  expiresAt: string,
): Promise<{ taken: ResourceLease[]; write: { next: LeaseSet; expectedVersion: number } }> {
  const set = await ports.store.getLeases(plan.project.id);
  const live = set.leases.filter((lease) => lease.expiresAt > at);
  const holder = `agent:${agent}`;
  const taken: ResourceLease[] = [];
  for (const resourceId of definition.touches) {
    const resource = plan.resources.find((candidate) => candidate.id === resourceId);
    const wanted = { resource: resourceId, paths: resource?.paths ?? [], mode: 'shared' as const, holder };
    const [conflict] = leaseConflicts(live, wanted);
    if (conflict)
      throw new LeaseConflictError(
        `resource ${resourceId}, which task ${definition.id} touches, is leased exclusively by ${conflict.holder}${
          conflict.task ? ` for ${conflict.task}` : ''
        } until ${conflict.expiresAt}`,
        {
          lease: conflict.id,
          holder: conflict.holder,
          expiresAt: conflict.expiresAt,
          ...(conflict.task ? { task: conflict.task } : {}),
        },
      );
    taken.push({
      id: newLeaseId(ports.ids, at),
      holder,
      resource: resourceId,
      paths: [...(resource?.paths ?? [])],
      mode: 'shared',
      task: definition.id,
      acquiredAt: at,
      expiresAt,
    });
  }
  return {
    taken,
    write: { next: { leases: [...live, ...taken], version: set.version + 1 }, expectedVersion: set.version },
  };
}

/** Why a named task cannot be claimed now. */
function notReadyReason(
  definition: TaskDefinition,
  state: TaskState,
  states: ReadonlyMap<string, TaskState>,
  phaseStatus: PhaseState['status'] | undefined,
  since: string,
): string {
  if (state.status !== 'todo') return `it is ${state.status}`;
  if (state.blocked) return `it is blocked${state.blockedReason ? `: ${state.blockedReason}` : ''}`;
  const waiting = definition.dependsOn.filter((id) => stateOf(states, id, since).status !== 'done');
  if (waiting.length > 0)
    return `it waits for ${waiting.map((id) => `${id} (${stateOf(states, id, since).status})`).join(', ')}`;
  return `its phase is ${phaseStatus ?? 'pending'}, not active`;
}

/** Nothing to claim: what the agent's remaining work waits for, and on whom. */
function nothingReady(
  plan: Plan,
  agent: string,
  states: ReadonlyMap<string, TaskState>,
  phases: ReadonlyMap<string, PhaseState>,
): ClaimResult {
  const open = plan.phases.flatMap((phase) =>
    phase.tasks
      .filter((task) => mayClaim(task, agent) && states.has(task.id))
      .map((task) => ({ task, phase })),
  );
  if (open.length === 0)
    return { task: null, reason: `no open task is left that ${agent} may claim`, waitingFor: [] };
  const waitingFor = new Map<string, WaitingFor>();
  let pendingPhase: string | undefined;
  let claimedElsewhere = 0;
  for (const { task, phase } of open) {
    const state = states.get(task.id) as TaskState;
    if (state.claim || state.status !== 'todo') {
      claimedElsewhere++;
      continue;
    }
    if (phases.get(phase.id)?.status !== 'active') pendingPhase ??= phase.id;
    for (const id of task.dependsOn) {
      const dependency = states.get(id);
      if (!dependency || dependency.status === 'done' || waitingFor.has(id)) continue;
      const owner = requireTask(plan, id).task.agent;
      waitingFor.set(id, {
        task: id,
        status: dependency.status,
        ...(owner !== undefined ? { agent: owner } : {}),
        ...(dependency.claim ? { holder: dependency.claim.agent } : {}),
      });
    }
  }
  const list = [...waitingFor.values()].slice(0, 10);
  const describe = (w: WaitingFor) =>
    `${w.task} (${w.status}${(w.holder ?? w.agent) ? `, ${w.holder ?? w.agent}` : ''})`;
  const reason =
    list.length > 0
      ? `nothing is ready for ${agent}: its next tasks wait for ${list.map(describe).join(', ')}`
      : pendingPhase
        ? `nothing is ready for ${agent}: phase ${pendingPhase} is not active yet`
        : claimedElsewhere > 0
          ? `nothing is ready for ${agent}: every open task it may take is claimed or in progress`
          : `nothing is ready for ${agent}: its open tasks are blocked`;
  return { task: null, reason, waitingFor: list };
}

/**
 * Gives a claim back: the task returns to todo, ready for the next claim, and the leases the claim
 * took end. The holder needs its lease id; the agent's owner or backup and admins need none. A task
 * already released answers `released: false`.
 */
export async function releaseTask(
  ports: CoordinationPorts,
  input: { project: string; task: string; lease?: string; actor: Actor },
): Promise<{ task: TaskView; released: boolean }> {
  const { project, actor } = input;
  const stored = await requirePlan(ports, project);
  const { task: definition, phase } = requireTask(stored.plan, input.task);
  return withRetries(ports, async () => {
    const context = await contextOf(ports, project, definition, phase.id);
    const state = stateOf(context.tasks, definition.id, stored.appliedAt);
    const view = (task: TaskState) =>
      taskView(
        stored.plan,
        stored,
        definition.id,
        new Map(context.tasks).set(task.id, task),
        context.phase?.status,
        actor,
      );
    if (!state.claim) {
      assertHoldsLease(state, actor, input.lease, definition.agent);
      return { task: view(state), released: false };
    }
    assertMayActFor(stored.plan, actor, state.claim.agent, 'release the claims');
    assertHoldsLease(state, actor, input.lease, definition.agent);
    const released = await writeRelease(ports, stored, definition, phase.id, state, actor, 'released');
    return { task: view(released), released: true };
  });
}

/**
 * Releases the claims whose lease ran out (the monitor calls it): each such task returns to todo for
 * the next claim, with `task.released` and a Slack notice. A task the plan assigns to the agent
 * that held it stays with it: the agent-down path (escalations, the backup) deals with a silent agent.
 */
export async function expireClaims(ports: CoordinationPorts, project: string): Promise<string[]> {
  const stored = await ports.store.currentPlan(project);
  if (!stored) return [];
  const at = ports.clock.now().toISOString();
  const { tasks: summaries } = await ports.store.taskSummaries(project);
  const lapsed = [...summaries.values()]
    .filter((task) => task.claim && task.claim.expiresAt <= at)
    .map((task) => task.id);
  if (lapsed.length === 0) return [];
  const tasks = await ports.store.getTasks(project, lapsed);
  const released: string[] = [];
  for (const state of tasks.values()) {
    const claim = state.claim;
    if (!claim || claim.expiresAt > at) continue;
    const found = requireTaskOrUndefined(stored.plan, state.id);
    if (!found || found.task.agent === claim.agent) continue;
    try {
      await writeRelease(ports, stored, found.task, found.phase.id, state, { kind: 'system' }, 'expired');
      released.push(state.id);
    } catch (error) {
      // Renewed, moved or released meanwhile: the next tick looks again.
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  return released;
}

function requireTaskOrUndefined(plan: Plan, id: string) {
  try {
    return requireTask(plan, id);
  } catch {
    return undefined;
  }
}

async function writeRelease(
  ports: CoordinationPorts,
  stored: { project: string; plan: Plan },
  definition: TaskDefinition,
  phase: string,
  state: TaskState,
  actor: Actor,
  reason: 'released' | 'expired',
): Promise<TaskState> {
  const project = stored.project;
  const claim = state.claim as NonNullable<TaskState['claim']>;
  const at = ports.clock.now().toISOString();
  const next = withoutClaim(
    withCycleTimes(nextVersion(state, { status: 'todo' }, actor, at), state.status, at),
  );
  const leases =
    definition.touches.length > 0
      ? await taskLeasesEnded(ports, project, definition.id, claim, actor, at, reason)
      : undefined;
  const published: DomainEvent[] = [
    domainEvent('task.released', {
      project,
      task: definition.id,
      phase,
      agent: claim.agent,
      reason,
      version: next.version,
      by: next.updatedBy,
      at,
    }),
    taskChangedEvent(project, phase, claim.agent, state.status, next),
    ...(leases?.published ?? []),
  ];
  await ports.store.commit(project, {
    tasks: [{ next, expectedVersion: state.version }],
    events: [
      auditEvent(ports, at, actor, {
        type: 'task.released',
        subject: definition.id,
        note:
          reason === 'expired'
            ? `${claim.agent}'s lease expired at ${claim.expiresAt} without a heartbeat naming the task`
            : `${claim.agent} gave the task back`,
        data: { agent: claim.agent, reason, from: state.status },
      }),
      ...(leases?.events ?? []),
    ],
    ...(leases ? { leases: leases.leases } : {}),
    ...queued(ports, [
      ...jiraCommands(ports, stored.plan, definition.jira, next, actor),
      ...slackNotices(
        ports,
        stored.plan,
        claim.agent,
        `task-released:${project}:${definition.id}:v${next.version}`,
        {
          type: 'task-released',
          project,
          task: { id: definition.id, title: definition.title },
          agent: claim.agent,
          reason,
        },
      ),
    ]),
    published,
  });
  return next;
}
