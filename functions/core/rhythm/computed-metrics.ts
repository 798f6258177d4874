import type { ProjectSnapshot, TaskState } from '../coordination/model.js';
import { addDays, WorkingCalendar } from '../plan/calendar.js';
import { MINUTES_PER_WORKING_DAY, type Plan, workingMinutes } from '../plan/index.js';
import { localTime } from '../schedules/index.js';

const stateOf = (snapshot: ProjectSnapshot, id: string): TaskState | undefined => snapshot.tasks.get(id);

/** `tasks.blocked`: tasks blocked right now (a done task is never blocked). */
export function blockedTasks(snapshot: ProjectSnapshot): number {
  let blocked = 0;
  for (const state of snapshot.tasks.values()) if (state.blocked && state.status !== 'done') blocked++;
  return blocked;
}

/** `agents.down`: agents the heartbeat monitor has marked down and not heard from since. */
export function downAgents(snapshot: ProjectSnapshot): number {
  const planned = new Set(snapshot.plan.plan.agents.map((agent) => agent.id));
  let down = 0;
  for (const agent of snapshot.agents.values()) if (agent.downSince && planned.has(agent.id)) down++;
  return down;
}

/**
 * `schedule.slip_days` (docs/plan-format.md): working days the forecast finish of the active phases is
 * past their `due` dates, the worst of them; 0 when on time or no active phase has a due date.
 *
 * The forecast finish of a phase starts today and runs the longest chain of its unfinished tasks
 * (their estimates, along their dependencies inside the phase), as the plan's own critical path
 * analysis would from here; a task in progress counts in full, since Convoy cannot know how far along
 * it really is.
 */
export function scheduleSlipDays(plan: Plan, snapshot: ProjectSnapshot, now: Date): number {
  const calendar = new WorkingCalendar(plan.project);
  const today = localTime(now, plan.project.timezone).date;
  let worst = 0;
  for (const phase of plan.phases) {
    if (!phase.due || snapshot.phases.get(phase.id)?.status !== 'active') continue;
    const open = new Map(
      phase.tasks
        .filter((task) => stateOf(snapshot, task.id)?.status !== 'done')
        .map((task) => [task.id, task]),
    );
    if (open.size === 0) continue;
    const finish = new Map<string, number>();
    const finishOf = (id: string): number => {
      const known = finish.get(id);
      if (known !== undefined) return known;
      const task = open.get(id);
      if (!task) return 0;
      // The plan has no cycles (validated), so this recursion ends.
      const start = Math.max(0, ...task.dependsOn.map(finishOf));
      const end = start + workingMinutes(task.estimate);
      finish.set(id, end);
      return end;
    };
    const remainingDays = Math.max(...[...open.keys()].map(finishOf)) / MINUTES_PER_WORKING_DAY;
    const first = calendar.offsetOf(today);
    const forecast = calendar.dateAt(first + Math.max(1, Math.ceil(remainingDays - 1e-9)) - 1);
    // Working days d with due < d <= forecast.
    const slip = calendar.offsetOf(addDays(forecast, 1)) - calendar.offsetOf(addDays(phase.due, 1));
    worst = Math.max(worst, slip);
  }
  return worst;
}
