import { NotFoundError } from '../errors.js';
import { analysePlan, type Plan, type TaskStatus } from '../plan/index.js';
import { didYouMean } from '../plan/suggest.js';
import type { CoordinationStore } from '../ports.js';
import { requiredEvidence } from './evidence.js';
import { definition } from './lifecycle.js';
import type { Actor, PhaseState, TaskState, Verification } from './model.js';
import { requirePlan } from './records.js';

type TaskDefinition = Plan['phases'][number]['tasks'][number];

/**
 * A task as an agent needs to see it to work on it: what it is, where it stands, what it waits for
 * and what waits for it, who holds it. The claim's lease id is shown to its holder only: it is the
 * token that lets a write on the task through.
 */
export interface TaskView {
  readonly id: string;
  readonly title: string;
  readonly phase: string;
  readonly status: TaskStatus;
  readonly blocked: boolean;
  readonly blockedReason?: string;
  /** The agent the plan assigns the task to, if any. */
  readonly agent?: string;
  /** Who else may claim it (the plan's `pool`). */
  readonly pool?: readonly string[];
  /** The agent that last claimed it. */
  readonly assignee?: string;
  /** The agent holding its claim now. */
  readonly holder?: string;
  readonly lease?: { readonly id?: string; readonly expiresAt: string };
  /** Todo, not blocked, unclaimed, its phase active and every task it depends on done. */
  readonly ready: boolean;
  readonly dependsOn: readonly { readonly id: string; readonly status: TaskStatus }[];
  /** The tasks that depend on this one. */
  readonly unblocks: readonly string[];
  readonly deliverables: readonly string[];
  /** The plan's handoff checklist, confirmed when the task is handed off or done. */
  readonly handoffChecklist: readonly string[];
  readonly jira?: string;
  readonly touches: readonly string[];
  /** From the plan's schedule: working days the task can slip without delaying the plan. */
  readonly slackDays?: number;
  /** From the plan's schedule: the working day it can start on at the earliest. */
  readonly earliestStart?: number;
  /** What must be there before it is done (its `evidence`, else the plan's `definitionOfDone`). */
  readonly evidence?: readonly string[];
  /** Done: how that was verified, by its evidence or by whose override. */
  readonly verification?: Verification;
}

/** A task's state; a task nobody touched yet has none and is todo. */
export const stateOf = (states: ReadonlyMap<string, TaskState>, id: string, since: string): TaskState =>
  states.get(id) ?? { id, status: 'todo', blocked: false, updatedAt: since, updatedBy: 'system', version: 0 };

/** Whether `agent` may claim the task: its agent, one of its pool, or anyone when it names neither. */
export function mayClaim(task: TaskDefinition, agent: string): boolean {
  if (task.agent === undefined && (task.pool === undefined || task.pool.length === 0)) return true;
  return task.agent === agent || (task.pool ?? []).includes(agent);
}

interface ScheduleOrder {
  readonly rank: ReadonlyMap<string, number>;
  readonly schedule: ReturnType<typeof analysePlan>['tasks'];
  readonly unblocks: ReadonlyMap<string, readonly string[]>;
}

// The schedule of a plan version, computed once per container: plans change rarely, claims often.
const orders = new Map<string, ScheduleOrder>();
const MAX_CACHED_ORDERS = 16;

/**
 * The order in which ready tasks are offered: least slack first, then the earliest start, then the id
 * (docs/agents.md); and, for each task, the tasks that depend on it.
 */
export function scheduleOrder(plan: Plan, cacheKey?: string): ScheduleOrder {
  const cached = cacheKey === undefined ? undefined : orders.get(cacheKey);
  if (cached) return cached;
  const schedule = analysePlan(plan).tasks;
  const ids = plan.phases.flatMap((phase) => phase.tasks.map((task) => task.id));
  const sorted = [...ids].sort((a, b) => {
    const x = schedule[a];
    const y = schedule[b];
    return (
      (x?.slackDays ?? 0) - (y?.slackDays ?? 0) ||
      (x?.earliestStart ?? 0) - (y?.earliestStart ?? 0) ||
      (a < b ? -1 : a > b ? 1 : 0)
    );
  });
  const unblocks = new Map<string, string[]>();
  for (const phase of plan.phases)
    for (const task of phase.tasks)
      for (const predecessor of task.dependsOn)
        unblocks.set(predecessor, [...(unblocks.get(predecessor) ?? []), task.id]);
  const order = { rank: new Map(sorted.map((id, index) => [id, index])), schedule, unblocks };
  if (cacheKey !== undefined) {
    if (orders.size >= MAX_CACHED_ORDERS) orders.delete(orders.keys().next().value as string);
    orders.set(cacheKey, order);
  }
  return order;
}

/** The cache key of a stored plan version. */
export const planKey = (stored: { project: string; version: number; appliedAt: string }) =>
  `${stored.project}\n${stored.version}\n${stored.appliedAt}`;

/**
 * Whether a task is ready to be claimed, from the states read: todo, not blocked, unclaimed, its phase
 * active, and every task it depends on done. `done(id)` says whether a predecessor is done.
 */
export function isReady(
  task: TaskDefinition,
  state: TaskState,
  phaseStatus: PhaseState['status'] | undefined,
  done: (id: string) => boolean,
): boolean {
  return (
    state.status === 'todo' &&
    !state.blocked &&
    state.claim === undefined &&
    phaseStatus === 'active' &&
    task.dependsOn.every(done)
  );
}

/** The view of one task for `viewer`; `states` holds the task and its predecessors. */
export function taskView(
  plan: Plan,
  stored: { project: string; version: number; appliedAt: string },
  taskId: string,
  states: ReadonlyMap<string, TaskState>,
  phaseStatus: PhaseState['status'] | undefined,
  viewer: Actor,
): TaskView {
  const found = definition(plan, taskId);
  if (!found) throw new NotFoundError(`task ${taskId} is not in the plan of project ${plan.project.id}`);
  const { task, phase } = found;
  const state = stateOf(states, task.id, stored.appliedAt);
  const order = scheduleOrder(plan, planKey(stored));
  const schedule = order.schedule[task.id];
  const dependsOn = task.dependsOn.map((id) => ({
    id,
    status: stateOf(states, id, stored.appliedAt).status,
  }));
  const claim = state.claim;
  const holderSees = claim !== undefined && viewer.kind === 'agent' && viewer.id === claim.agent;
  const evidence = requiredEvidence(plan, task);
  return {
    id: task.id,
    title: task.title,
    phase: phase.id,
    status: state.status,
    blocked: state.blocked,
    ...(state.blockedReason !== undefined ? { blockedReason: state.blockedReason } : {}),
    ...(task.agent !== undefined ? { agent: task.agent } : {}),
    ...(task.pool !== undefined && task.pool.length > 0 ? { pool: task.pool } : {}),
    ...(state.assignee !== undefined ? { assignee: state.assignee } : {}),
    ...(claim
      ? {
          holder: claim.agent,
          lease: { ...(holderSees ? { id: claim.lease } : {}), expiresAt: claim.expiresAt },
        }
      : {}),
    ready: isReady(task, state, phaseStatus, (id) => stateOf(states, id, stored.appliedAt).status === 'done'),
    dependsOn,
    unblocks: order.unblocks.get(task.id) ?? [],
    deliverables: task.deliverables,
    handoffChecklist: plan.handoff,
    ...(task.jira !== undefined ? { jira: task.jira } : {}),
    touches: task.touches,
    ...(schedule ? { slackDays: schedule.slackDays, earliestStart: schedule.earliestStart } : {}),
    ...(evidence.length > 0 ? { evidence } : {}),
    ...(state.verification ? { verification: state.verification } : {}),
  };
}

export interface TaskQuery {
  readonly status?: TaskStatus;
  readonly phase?: string;
  /** Tasks the plan assigns to this agent, or that it holds or last claimed. */
  readonly agent?: string;
  /** Only the tasks that are ready to be claimed (by `agent`, when given). */
  readonly ready?: boolean;
}

/** The plan's tasks in offer order (see `scheduleOrder`), filtered, as `viewer` sees them. */
export async function listTasks(
  ports: { readonly store: CoordinationStore },
  input: { project: string; viewer: Actor } & TaskQuery,
): Promise<{ tasks: TaskView[] }> {
  const snapshot = await ports.store.snapshot(input.project);
  if (!snapshot) throw new NotFoundError(`project ${input.project} has no plan`);
  const { plan: stored, tasks: states, phases } = snapshot;
  const known = (what: string, id: string, ids: readonly string[]) => {
    if (!ids.includes(id))
      throw new NotFoundError(
        `${what} ${id} is not in the plan of project ${input.project}${didYouMean(id, ids)}`,
      );
  };
  if (input.phase !== undefined)
    known(
      'phase',
      input.phase,
      stored.plan.phases.map((phase) => phase.id),
    );
  if (input.agent !== undefined)
    known(
      'agent',
      input.agent,
      stored.plan.agents.map((agent) => agent.id),
    );
  const order = scheduleOrder(stored.plan, planKey(stored));
  const views: TaskView[] = [];
  for (const phase of stored.plan.phases) {
    if (input.phase !== undefined && phase.id !== input.phase) continue;
    for (const task of phase.tasks) {
      const state = stateOf(states, task.id, stored.appliedAt);
      if (input.status !== undefined && state.status !== input.status) continue;
      if (input.agent !== undefined) {
        const theirs =
          task.agent === input.agent || state.claim?.agent === input.agent || state.assignee === input.agent;
        const claimable = input.ready === true && mayClaim(task, input.agent);
        if (!theirs && !claimable) continue;
      }
      const view = taskView(stored.plan, stored, task.id, states, phases.get(phase.id)?.status, input.viewer);
      if (input.ready !== undefined && view.ready !== input.ready) continue;
      views.push(view);
    }
  }
  views.sort((a, b) => (order.rank.get(a.id) ?? 0) - (order.rank.get(b.id) ?? 0));
  return { tasks: views };
}

/** One task, as `viewer` sees it. */
export async function getTask(
  ports: { readonly store: CoordinationStore },
  input: { project: string; task: string; viewer: Actor },
): Promise<TaskView> {
  const stored = await requirePlan(ports, input.project);
  const found = definition(stored.plan, input.task);
  if (!found) {
    const ids = stored.plan.phases.flatMap((phase) => phase.tasks.map((task) => task.id));
    throw new NotFoundError(
      `task ${input.task} is not in the plan of project ${input.project}${didYouMean(input.task, ids)}`,
    );
  }
  const context = await ports.store.getTaskContext(
    input.project,
    [found.task.id, ...found.task.dependsOn],
    found.phase.id,
  );
  return taskView(stored.plan, stored, found.task.id, context.tasks, context.phase?.status, input.viewer);
}
