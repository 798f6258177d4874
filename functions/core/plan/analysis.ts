import { WorkingCalendar } from './calendar.js';
import { dependencyOrder } from './graph.js';
import { MINUTES_PER_WORKING_DAY, workingMinutes } from './lexical.js';
import type { Plan } from './schema.js';

export interface TaskSchedule {
  readonly phase: string;
  readonly agent: string;
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

/**
 * Earliest and latest times, slack, the critical path, waves and calendar dates of every task, and
 * the warnings a planner wants before the work starts. Linear in tasks plus dependencies: each
 * phase dependency goes through one node standing for "every task of that phase", instead of an
 * edge from every task to every task.
 */
export function analysePlan(plan: Plan): PlanAnalysis {
  const tasks = plan.phases.flatMap((phase, p) => phase.tasks.map((task) => ({ task, phase: p })));
  const taskCount = tasks.length;
  const phaseCount = plan.phases.length;
  const nodeCount = taskCount + phaseCount;
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
      agent: task.agent,
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
    const first =
      members.length > 0
        ? Math.min(...members.map((i) => earliestStart[i] as number))
        : (earliestStart[node] as number);
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
    while (pending.length > 0) {
      const candidate = pending.shift() as number;
      if (seen.has(candidate) || earliestFinish[candidate] !== target) continue;
      seen.add(candidate);
      if (candidate < taskCount) {
        if (slack(candidate) === 0) return candidate;
      } else pending.push(...(dependencies[candidate] as number[]));
    }
    return -1;
  }
}

interface Interval {
  readonly id: string;
  readonly agent: string;
  readonly start: number;
  readonly finish: number;
}

/** Each interval paired with the first earlier one it overlaps that `conflicts` accepts. */
function overlaps(
  intervals: Interval[],
  conflicts: (a: Interval, b: Interval) => boolean,
): [Interval, Interval][] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const active: Interval[] = [];
  const pairs: [Interval, Interval][] = [];
  for (const interval of sorted) {
    for (let i = active.length - 1; i >= 0; i--)
      if ((active[i] as Interval).finish <= interval.start) active.splice(i, 1);
    const other = active.find((candidate) => conflicts(candidate, interval));
    if (other) pairs.push([other, interval]);
    active.push(interval);
  }
  return pairs;
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
  const allTasks = plan.phases.flatMap((phase) => phase.tasks);

  for (const agent of plan.agents) {
    const own = allTasks.filter((task) => task.agent === agent.id).map((task) => interval(task.id));
    for (const [a, b] of overlaps(own, () => true)) {
      result.push(`agent ${agent.id} has overlapping tasks ${a.id} and ${b.id}`);
    }
  }
  for (const resource of plan.resources) {
    const touching = allTasks
      .filter((task) => task.touches.includes(resource.id))
      .map((task) => interval(task.id));
    for (const [a, b] of overlaps(touching, (x, y) => x.agent !== y.agent)) {
      result.push(
        `tasks ${a.id} (${a.agent}) and ${b.id} (${b.agent}) both touch resource ${resource.id} at overlapping times; its owner ${resource.owner} takes precedence`,
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
