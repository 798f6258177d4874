import { addDays, WorkingCalendar } from './calendar.js';
import { dependencyOrder } from './graph.js';
import { LIMITS, MINUTES_PER_WORKING_DAY, workingMinutes } from './lexical.js';
import type { Plan } from './schema.js';

export interface TaskSchedule {
  readonly phase: string;
  /** The agent the plan assigns the task to; absent for a task claimed from a pool or by any agent. */
  readonly agent?: string;
  /** Calendar date the task starts on (project time zone). */
  readonly start: string;
  /** Calendar date the task finishes on, inclusive. */
  readonly finish: string;
  /** In working days from the project start, like the four below. */
  readonly earliestStart: number;
  readonly earliestFinish: number;
  readonly latestStart: number;
  readonly latestFinish: number;
  readonly slackDays: number;
  readonly wave: number;
}

export interface PhaseSchedule {
  readonly start: string;
  readonly finish: string;
  readonly due?: string;
  readonly earliestStart: number;
  readonly earliestFinish: number;
}

/** The schedule of a plan computed from its estimates alone (docs/plan-format.md, "Schedule analysis"). */
export interface PlanAnalysis {
  readonly project: string;
  readonly durationDays: number;
  readonly start: string;
  readonly finish: string;
  readonly criticalPath: string[];
  readonly waves: string[][];
  readonly maxParallel: number;
  readonly tasks: Record<string, TaskSchedule>;
  readonly phases: Record<string, PhaseSchedule>;
  readonly warnings: string[];
}

const days = (minutes: number) => minutes / MINUTES_PER_WORKING_DAY;

interface DependencyGraph {
  readonly tasks: { readonly task: Plan['phases'][number]['tasks'][number]; readonly phase: number }[];
  readonly taskCount: number;
  /** Per phase, the nodes of its tasks. */
  readonly phaseTasks: number[][];
  /** Working minutes of each node (0 for a phase node). */
  readonly duration: Float64Array;
  /** Each node's predecessors. */
  readonly dependencies: number[][];
  readonly order: Int32Array;
  readonly earliestStart: Float64Array;
  readonly earliestFinish: Float64Array;
  readonly wave: Int32Array;
}

/**
 * The task graph of a valid plan with its forward pass: nodes 0 … tasks−1 are the tasks, then one
 * node per phase standing for "every task of that phase", so a phase dependency is one edge per
 * task instead of an edge from every task to every task. Linear in tasks plus dependencies.
 */
function forwardPass(plan: Plan): DependencyGraph {
  const tasks = plan.phases.flatMap((phase, p) => phase.tasks.map((task) => ({ task, phase: p })));
  const taskCount = tasks.length;
  const nodeCount = taskCount + plan.phases.length;
  const taskIndex = new Map(tasks.map(({ task }, i) => [task.id, i]));
  const phaseIndex = new Map(plan.phases.map((phase, p) => [phase.id, p]));
  const phaseNode = (p: number) => taskCount + p;

  const duration = new Float64Array(nodeCount);
  const dependencies: number[][] = new Array(nodeCount);
  tasks.forEach(({ task, phase }, i) => {
    duration[i] = workingMinutes(task.estimate);
    const deps = task.dependsOn.map((id) => taskIndex.get(id) as number);
    for (const id of (plan.phases[phase] as Plan['phases'][number]).dependsOn)
      deps.push(phaseNode(phaseIndex.get(id) as number));
    dependencies[i] = deps;
  });
  const phaseTasks: number[][] = plan.phases.map(() => []);
  tasks.forEach(({ phase }, i) => {
    (phaseTasks[phase] as number[]).push(i);
  });
  plan.phases.forEach((phase, p) => {
    const members = phaseTasks[p] as number[];
    dependencies[phaseNode(p)] =
      members.length > 0 ? members : phase.dependsOn.map((id) => phaseNode(phaseIndex.get(id) as number));
  });

  const order = dependencyOrder(dependencies);
  const earliestStart = new Float64Array(nodeCount);
  const earliestFinish = new Float64Array(nodeCount);
  const wave = new Int32Array(nodeCount);
  for (const node of order) {
    let start = 0;
    let level = -1;
    for (const dependency of dependencies[node] as number[]) {
      if ((earliestFinish[dependency] as number) > start) start = earliestFinish[dependency] as number;
      if ((wave[dependency] as number) > level) level = wave[dependency] as number;
    }
    earliestStart[node] = start;
    earliestFinish[node] = start + (duration[node] as number);
    // A task sits one wave after its latest predecessor; a phase node carries its latest task's wave.
    wave[node] = node < taskCount ? level + 1 : level;
  }
  return {
    tasks,
    taskCount,
    phaseTasks,
    duration,
    dependencies,
    order,
    earliestStart,
    earliestFinish,
    wave,
  };
}

/** Where the schedule of a plan runs past `LIMITS.lastDate`, the last date Convoy plans for. */
export interface HorizonOverrun {
  /** The first working day on or after `project.start`. */
  readonly start: string;
  /** Working days from `start` up to and including the last date. */
  readonly workingDays: number;
  /**
   * The task that finishes first among those finishing after the last date (its phase's index and
   * its own within the phase); absent when `start` itself is after the last date.
   */
  readonly task?: {
    readonly phase: number;
    readonly index: number;
    readonly id: string;
    readonly earliestFinish: number;
  };
}

/**
 * Whether every task of a valid plan finishes by `LIMITS.lastDate`, so that the dates of the
 * analysis, the reports and the burndown all stay in the calendar; the validator runs it. Linear, like
 * the analysis.
 */
export function horizonOverrun(plan: Plan): HorizonOverrun | undefined {
  const calendar = new WorkingCalendar(plan.project);
  const start = calendar.start;
  const workingDays = calendar.offsetOf(addDays(LIMITS.lastDate, 1));
  if (start > LIMITS.lastDate) return { start, workingDays: 0 };
  const { tasks, taskCount, earliestFinish } = forwardPass(plan);
  // A task finishing at `f` working minutes ends on working day ceil(f / day) − 1.
  const limit = workingDays * MINUTES_PER_WORKING_DAY;
  let first = -1;
  for (let i = 0; i < taskCount; i++) {
    const finish = earliestFinish[i] as number;
    if (finish > limit && (first < 0 || finish < (earliestFinish[first] as number))) first = i;
  }
  if (first < 0) return undefined;
  const { task, phase } = tasks[first] as DependencyGraph['tasks'][number];
  return {
    start,
    workingDays,
    task: {
      phase,
      index: (plan.phases[phase] as Plan['phases'][number]).tasks.indexOf(task),
      id: task.id,
      earliestFinish: days(earliestFinish[first] as number),
    },
  };
}

/**
 * Earliest and latest times, slack, the critical path, waves and calendar dates of every task, and
 * the warnings a planner wants before the work starts. Linear in tasks plus dependencies (and
 * O(n log n) for the warnings' sort), whatever the estimates and dates: the calendar computes a
 * date in O(log holidays) (docs/plan-format.md, "Schedule analysis").
 */
export function analysePlan(plan: Plan): PlanAnalysis {
  const { tasks, taskCount, phaseTasks, duration, dependencies, order, earliestStart, earliestFinish, wave } =
    forwardPass(plan);
  const nodeCount = dependencies.length;
  const phaseNode = (p: number) => taskCount + p;

  let total = 0;
  for (let i = 0; i < taskCount; i++) total = Math.max(total, earliestFinish[i] as number);
  const latestFinish = new Float64Array(nodeCount).fill(total);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k] as number;
    const latestStart = (latestFinish[node] as number) - (duration[node] as number);
    for (const dependency of dependencies[node] as number[]) {
      if (latestStart < (latestFinish[dependency] as number)) latestFinish[dependency] = latestStart;
    }
  }
  const slack = (i: number) =>
    (latestFinish[i] as number) - (duration[i] as number) - (earliestStart[i] as number);

  const calendar = new WorkingCalendar(plan.project);
  const startDate = (minutes: number) => calendar.dateAt(Math.floor(minutes / MINUTES_PER_WORKING_DAY));
  const finishDate = (minutes: number) =>
    calendar.dateAt(Math.max(0, Math.ceil(minutes / MINUTES_PER_WORKING_DAY) - 1));

  const waves: string[][] = [];
  const taskResults: Record<string, TaskSchedule> = {};
  tasks.forEach(({ task, phase }, i) => {
    const level = wave[i] as number;
    while (waves.length <= level) waves.push([]);
    (waves[level] as string[]).push(task.id);
    taskResults[task.id] = {
      phase: (plan.phases[phase] as Plan['phases'][number]).id,
      ...(task.agent === undefined ? {} : { agent: task.agent }),
      start: startDate(earliestStart[i] as number),
      finish: finishDate(earliestFinish[i] as number),
      earliestStart: days(earliestStart[i] as number),
      earliestFinish: days(earliestFinish[i] as number),
      latestStart: days((latestFinish[i] as number) - (duration[i] as number)),
      latestFinish: days(latestFinish[i] as number),
      slackDays: days(slack(i)),
      wave: level,
    };
  });

  const phaseResults: Record<string, PhaseSchedule> = {};
  plan.phases.forEach((phase, p) => {
    const members = phaseTasks[p] as number[];
    const node = phaseNode(p);
    let first = members.length > 0 ? Number.POSITIVE_INFINITY : (earliestStart[node] as number);
    for (const i of members) first = Math.min(first, earliestStart[i] as number);
    const last = earliestFinish[node] as number;
    phaseResults[phase.id] = {
      start: startDate(first),
      finish: finishDate(last),
      ...(phase.due === undefined ? {} : { due: phase.due }),
      earliestStart: days(first),
      earliestFinish: days(last),
    };
  });

  return {
    project: plan.project.id,
    durationDays: days(total),
    start: calendar.start,
    finish: finishDate(total),
    criticalPath: criticalPath(),
    waves,
    maxParallel: waves.reduce((most, level) => Math.max(most, level.length), 0),
    tasks: taskResults,
    phases: phaseResults,
    warnings: warnings(plan, taskResults, phaseResults),
  };

  function criticalPath(): string[] {
    if (taskCount === 0) return [];
    let current = -1;
    for (let i = 0; i < taskCount && current < 0; i++)
      if (slack(i) === 0 && earliestFinish[i] === total) current = i;
    const path: number[] = [];
    while (current >= 0) {
      path.push(current);
      current = criticalPredecessor(current);
    }
    return path.reverse().map((i) => (tasks[i] as (typeof tasks)[number]).task.id);
  }

  /** A zero-slack task finishing exactly when `node` starts, looking through phase nodes. */
  function criticalPredecessor(node: number): number {
    const target = earliestStart[node] as number;
    const pending = [...(dependencies[node] as number[])];
    const seen = new Set<number>();
    for (let head = 0; head < pending.length; head++) {
      const candidate = pending[head] as number;
      if (seen.has(candidate) || earliestFinish[candidate] !== target) continue;
      seen.add(candidate);
      if (candidate < taskCount) {
        if (slack(candidate) === 0) return candidate;
      } else for (const dependency of dependencies[candidate] as number[]) pending.push(dependency);
    }
    return -1;
  }
}

interface Interval {
  readonly id: string;
  readonly agent?: string;
  readonly start: number;
  readonly finish: number;
}

/**
 * Each interval paired with an earlier-starting one it overlaps, for which `sameGroup` is false: the
 * one that finishes last (the first of them on a tie). O(n log n): after the sort, one pass keeping
 * the latest-finishing interval seen and the latest-finishing one of any other group, since
 * whichever of those two is not in the current interval's group overlaps it if any does.
 */
function overlaps(
  intervals: Interval[],
  group: (interval: Interval) => string | undefined,
): [Interval, Interval][] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let latest: Interval | undefined;
  let latestOther: Interval | undefined;
  const pairs: [Interval, Interval][] = [];
  for (const interval of sorted) {
    const mine = group(interval);
    const candidate = latest && (mine === undefined || group(latest) !== mine) ? latest : latestOther;
    if (candidate && candidate.finish > interval.start) pairs.push([candidate, interval]);
    // Keep the two latest finishes of distinct groups (one group when `group` gives undefined).
    if (!latest || interval.finish > latest.finish) {
      if (latest && (mine === undefined || group(latest) !== mine)) latestOther = latest;
      latest = interval;
    } else if (
      (mine === undefined || group(latest) !== mine) &&
      (!latestOther || interval.finish > latestOther.finish)
    )
      latestOther = interval;
  }
  return pairs;
}

function append<T>(groups: Map<string, T[]>, key: string, value: T): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

function warnings(
  plan: Plan,
  tasks: Record<string, TaskSchedule>,
  phases: Record<string, PhaseSchedule>,
): string[] {
  const result: string[] = [];
  const interval = (id: string): Interval => {
    const task = tasks[id] as TaskSchedule;
    return { id, agent: task.agent, start: task.earliestStart, finish: task.earliestFinish };
  };
  // Grouped in one pass each, so the warnings stay linear however many agents and resources there are.
  const byAgent = new Map<string, Interval[]>();
  const byResource = new Map<string, Interval[]>();
  for (const phase of plan.phases) {
    for (const task of phase.tasks) {
      const scheduled = interval(task.id);
      // An unassigned task is claimed by whichever agent is free: it overlaps no agent's work.
      if (task.agent !== undefined) append(byAgent, task.agent, scheduled);
      for (const resource of new Set(task.touches)) append(byResource, resource, scheduled);
    }
  }

  for (const agent of plan.agents) {
    for (const [a, b] of overlaps(byAgent.get(agent.id) ?? [], () => undefined)) {
      result.push(`agent ${agent.id} has overlapping tasks ${a.id} and ${b.id}`);
    }
  }
  for (const resource of plan.resources) {
    for (const [a, b] of overlaps(byResource.get(resource.id) ?? [], (x) => x.agent)) {
      result.push(
        `tasks ${a.id} (${a.agent ?? 'unassigned'}) and ${b.id} (${b.agent ?? 'unassigned'}) both touch resource ${resource.id} at overlapping times; its owner ${resource.owner} takes precedence`,
      );
    }
  }
  for (const phase of plan.phases) {
    const finish = (phases[phase.id] as PhaseSchedule).finish;
    if (phase.due !== undefined && phase.tasks.length > 0 && finish > phase.due) {
      result.push(`phase ${phase.id} finishes on ${finish}, after its due date ${phase.due}`);
    }
  }
  return result;
}
