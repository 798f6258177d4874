import type { Plan, TaskStatus } from '../plan/index.js';
import type { Actor, PhaseState, PhaseStatus, TaskState } from './model.js';

/**
 * The task lifecycle of docs/plan-format.md: `todo → in_progress → in_review → done`, with
 * `in_progress → done` and `in_review → in_progress` too; `done` is final unless an admin reopens it.
 */
const NEXT: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  todo: ['in_progress'],
  in_progress: ['in_review', 'done'],
  in_review: ['done', 'in_progress'],
  done: [],
};

export type TransitionCheck =
  | { readonly outcome: 'allowed' }
  /** Already in the target status: a retried request changes nothing and succeeds. */
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'forbidden'; readonly reason: string };

export interface TransitionContext {
  readonly plan: Plan;
  readonly task: TaskState;
  readonly to: TaskStatus;
  readonly actor: Actor;
  /** Status of the task's phase. */
  readonly phaseStatus: PhaseStatus | undefined;
  /** States of the task's explicit predecessors (`dependsOn`). */
  readonly predecessors: ReadonlyMap<string, TaskState>;
}

/** Whether the lifecycle allows moving a task to `to`, and if not, a reason a user can act on. */
export function checkTransition(context: TransitionContext): TransitionCheck {
  const { task, to, actor } = context;
  if (task.status === to) return { outcome: 'unchanged' };
  if (task.status === 'done') {
    if (actor.kind !== 'admin')
      return { outcome: 'forbidden', reason: `task ${task.id} is done; only an admin can reopen it` };
    return { outcome: 'allowed' };
  }
  if (!NEXT[task.status].includes(to)) {
    const allowed = NEXT[task.status];
    return {
      outcome: 'forbidden',
      reason: `task ${task.id} cannot go from ${task.status} to ${to} (from ${task.status} it can go to ${allowed.join(' or ')})`,
    };
  }
  if (to === 'in_progress' && task.status === 'todo') {
    // A task has state only once it has moved; until then it is todo.
    const dependsOn = definition(context.plan, task.id)?.task.dependsOn ?? [...context.predecessors.keys()];
    const notDone = dependsOn
      .map((id) => [id, context.predecessors.get(id)?.status ?? 'todo'] as const)
      .filter(([, status]) => status !== 'done')
      .map(([id, status]) => `${id} (${status})`);
    if (notDone.length > 0) {
      return { outcome: 'forbidden', reason: `task ${task.id} waits for ${notDone.join(', ')} to be done` };
    }
    if (context.phaseStatus !== 'active') {
      const phase = definition(context.plan, task.id)?.phase;
      return {
        outcome: 'forbidden',
        reason: `phase ${phase?.id} of task ${task.id} is ${context.phaseStatus ?? 'unknown'}, not active${
          context.phaseStatus === 'pending' && phase ? ` (it waits for ${phase.dependsOn.join(', ')})` : ''
        }`,
      };
    }
  }
  return { outcome: 'allowed' };
}

type Phase = Plan['phases'][number];
type TaskDefinition = Phase['tasks'][number];

/**
 * Each plan's tasks by id, built once per plan object: a plan is never changed once parsed (a new
 * version is a new object), and every request looks its tasks up, up to several times, in plans of
 * thousands of tasks.
 */
const taskIndexes = new WeakMap<Plan, ReadonlyMap<string, { task: TaskDefinition; phase: Phase }>>();

/** The task's definition and its phase in the plan. */
export function definition(plan: Plan, taskId: string) {
  let index = taskIndexes.get(plan);
  if (!index) {
    const built = new Map<string, { task: TaskDefinition; phase: Phase }>();
    // The first phase naming a task wins, as a scan in plan order would find it.
    for (const phase of plan.phases)
      for (const task of phase.tasks) if (!built.has(task.id)) built.set(task.id, { task, phase });
    index = built;
    taskIndexes.set(plan, index);
  }
  return index.get(taskId);
}

/**
 * Phase progression until gates land: a pending phase becomes active when every phase it depends
 * on has passed; an active phase without a gate passes when all its tasks are done. Phases are
 * visited in dependency order, so a cascade (a phase passing activates the next, which has no tasks
 * and passes too) settles in one call. Returns only the phases whose status changes.
 */
export function progressPhases(
  plan: Plan,
  phases: ReadonlyMap<string, PhaseState>,
  tasks: ReadonlyMap<string, TaskState>,
  at: string,
): PhaseState[] {
  const status = new Map<string, PhaseStatus>();
  for (const phase of plan.phases) status.set(phase.id, phases.get(phase.id)?.status ?? 'pending');
  const changed = new Map<string, PhaseStatus>();
  for (const phase of phaseOrder(plan)) {
    let current = status.get(phase.id) as PhaseStatus;
    if (current === 'pending' && phase.dependsOn.every((id) => status.get(id) === 'passed'))
      current = 'active';
    if (
      current === 'active' &&
      phase.gate === undefined &&
      phase.tasks.every((task) => tasks.get(task.id)?.status === 'done')
    ) {
      current = 'passed';
    }
    if (current !== status.get(phase.id)) {
      status.set(phase.id, current);
      changed.set(phase.id, current);
    }
  }
  return [...changed].map(([id, next]) => {
    const previous = phases.get(id);
    return { id, status: next, updatedAt: at, version: (previous?.version ?? 0) + 1 };
  });
}

/** Phases in an order where each comes after the phases it depends on (plans are acyclic). */
function phaseOrder(plan: Plan): Plan['phases'] {
  const byId = new Map(plan.phases.map((phase) => [phase.id, phase]));
  const ordered: Plan['phases'] = [];
  const seen = new Set<string>();
  const visit = (phase: Plan['phases'][number]) => {
    if (seen.has(phase.id)) return;
    seen.add(phase.id);
    for (const id of phase.dependsOn) {
      const dependency = byId.get(id);
      if (dependency) visit(dependency);
    }
    ordered.push(phase);
  };
  for (const phase of plan.phases) visit(phase);
  return ordered;
}
