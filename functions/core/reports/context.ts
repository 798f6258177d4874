import type { PhaseStatus, TaskState } from '../coordination/model.js';
import type { ProjectStatus } from '../coordination/status.js';
import {
  type Agent,
  analysePlan,
  type Person,
  type Phase,
  type Plan,
  type PlanAnalysis,
  type Task,
  type TaskSchedule,
  WorkingCalendar,
  workingMinutes,
} from '../plan/index.js';
import { doneInstant } from './burndown.js';
import { lastWorkingOffset, localDate } from './dates.js';
import type { ReportContext } from './model.js';

/** A task of the plan with its state and planned dates: what every report line is made of. */
export interface TaskView {
  readonly task: Task;
  readonly phase: Phase;
  /** Plan order, across phases. */
  readonly order: number;
  readonly state: TaskState;
  /** Whose task it is: the agent that claimed it, else the plan's; absent for a task nobody took yet. */
  readonly agent?: string;
  readonly schedule?: TaskSchedule;
  readonly minutes: number;
  /** When it became done (`doneAt`, else `updatedAt`); absent unless done. */
  readonly doneAt?: string;
  readonly doneMs?: number;
}

export type AgentStatusView = ProjectStatus['agents'][number];

/**
 * The context indexed once per report, so every builder step is a lookup: reports stay linear in
 * tasks plus events however many agents there are.
 */
export interface ReportIndex {
  readonly ctx: ReportContext;
  readonly plan: Plan;
  readonly timeZone: string;
  /** Today in the project's time zone. */
  readonly today: string;
  readonly todayOffset: number;
  readonly calendar: WorkingCalendar;
  /** `analysePlan` of the current plan. */
  readonly analysis: PlanAnalysis;
  /** `analysePlan` of the baseline plan (the current one unless the context names another). */
  readonly baseline: PlanAnalysis;
  readonly tasks: ReadonlyMap<string, TaskView>;
  readonly ordered: readonly TaskView[];
  readonly byAgent: ReadonlyMap<string, readonly TaskView[]>;
  /** Tasks of no agent yet: a pool or any agent may claim them. */
  readonly unassigned: readonly TaskView[];
  readonly agents: ReadonlyMap<string, Agent>;
  readonly people: ReadonlyMap<string, Person>;
  readonly agentStatus: ReadonlyMap<string, AgentStatusView>;
  readonly phaseStatus: (phase: string) => PhaseStatus;
  readonly sinceMs: number;
  readonly nowMs: number;
}

const analyses = new WeakMap<Plan, PlanAnalysis>();

/** `analysePlan`, once per plan object: the reports of one job share it. */
export function analysisOf(plan: Plan): PlanAnalysis {
  let found = analyses.get(plan);
  if (!found) {
    found = analysePlan(plan);
    analyses.set(plan, found);
  }
  return found;
}

const indexes = new WeakMap<ReportContext, ReportIndex>();

export function indexContext(ctx: ReportContext): ReportIndex {
  const cached = indexes.get(ctx);
  if (cached) return cached;
  const plan = ctx.stored.plan;
  const timeZone = plan.project.timezone;
  const calendar = new WorkingCalendar(plan.project);
  const analysis = analysisOf(plan);
  const baseline = ctx.baselinePlan ? analysisOf(ctx.baselinePlan) : analysis;
  const today = localDate(ctx.now, timeZone);

  const tasks = new Map<string, TaskView>();
  const ordered: TaskView[] = [];
  const byAgent = new Map<string, TaskView[]>();
  const unassigned: TaskView[] = [];
  for (const phase of plan.phases)
    for (const task of phase.tasks) {
      const stored = ctx.snapshot.tasks.get(task.id);
      // Like computeStatus: a task nobody touched is todo, and a done task is never blocked.
      const state: TaskState = stored
        ? stored.status === 'done' && stored.blocked
          ? { ...stored, blocked: false }
          : stored
        : {
            id: task.id,
            status: 'todo',
            blocked: false,
            updatedAt: ctx.stored.appliedAt,
            updatedBy: 'system',
            version: 0,
          };
      const doneAt = doneInstant(state);
      const schedule = analysis.tasks[task.id];
      const agent = state.assignee ?? task.agent;
      const view: TaskView = {
        task,
        phase,
        order: ordered.length,
        state,
        ...(agent === undefined ? {} : { agent }),
        minutes: workingMinutes(task.estimate),
        ...(schedule ? { schedule } : {}),
        ...(doneAt === undefined ? {} : { doneAt, doneMs: Date.parse(doneAt) }),
      };
      tasks.set(task.id, view);
      ordered.push(view);
      if (agent === undefined) unassigned.push(view);
      else {
        const own = byAgent.get(agent);
        if (own) own.push(view);
        else byAgent.set(agent, [view]);
      }
    }

  const phaseStates = ctx.snapshot.phases;
  const index: ReportIndex = {
    ctx,
    plan,
    timeZone,
    today,
    todayOffset: lastWorkingOffset(calendar, today),
    calendar,
    analysis,
    baseline,
    tasks,
    ordered,
    byAgent,
    unassigned,
    agents: new Map(plan.agents.map((agent) => [agent.id, agent])),
    people: new Map(plan.people.map((person) => [person.id, person])),
    agentStatus: new Map(ctx.status.agents.map((agent) => [agent.id, agent])),
    phaseStatus: (phase) => phaseStates.get(phase)?.status ?? 'pending',
    sinceMs: ctx.since.getTime(),
    nowMs: ctx.now.getTime(),
  };
  indexes.set(ctx, index);
  return index;
}

/** Done within the report's period: `since <= doneAt <= now`. */
export function doneInPeriod(index: ReportIndex, view: TaskView): boolean {
  return view.doneMs !== undefined && view.doneMs >= index.sinceMs && view.doneMs <= index.nowMs;
}

/**
 * Why a todo task cannot start yet: its predecessors that are not done and its phase when that is
 * not active. Empty when it is ready (a blocked task is never ready; the caller says so).
 */
export function waitingFor(index: ReportIndex, view: TaskView): { tasks: TaskView[]; phase?: Phase } {
  const tasks = view.task.dependsOn.flatMap((id) => {
    const dependency = index.tasks.get(id);
    return dependency && dependency.state.status !== 'done' ? [dependency] : [];
  });
  return index.phaseStatus(view.phase.id) === 'active' ? { tasks } : { tasks, phase: view.phase };
}

export function isReady(index: ReportIndex, view: TaskView): boolean {
  if (view.state.status !== 'todo' || view.state.blocked) return false;
  const waiting = waitingFor(index, view);
  return waiting.tasks.length === 0 && waiting.phase === undefined;
}

/** Open tasks first by planned start, then plan order: the order work is expected to happen in. */
export const byPlannedStart = (a: TaskView, b: TaskView) =>
  (a.schedule?.earliestStart ?? 0) - (b.schedule?.earliestStart ?? 0) || a.order - b.order;

export const byPlannedFinish = (a: TaskView, b: TaskView) =>
  (a.schedule?.earliestFinish ?? 0) - (b.schedule?.earliestFinish ?? 0) || a.order - b.order;
