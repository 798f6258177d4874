import type { StatusTask, StatusView, TaskStatus } from '../types.js';

export const COLUMNS: readonly TaskStatus[] = ['todo', 'in_progress', 'in_review', 'done'];

export type Grouping = 'phase' | 'agent';

export interface BoardCard {
  readonly task: StatusTask;
  /** Who the card names: the claim holder, else whoever holds it, else the plan's agent. */
  readonly who: string | null;
  /** Whether `who` holds a claim (rather than being the plan's assignment). */
  readonly claimed: boolean;
  /** Milliseconds in its current status (since its last update). */
  readonly ageMs: number;
}

export interface BoardLane {
  readonly key: string;
  readonly label: string;
  readonly columns: Record<TaskStatus, BoardCard[]>;
  readonly total: number;
}

const UNASSIGNED = '(unassigned)';

/**
 * The board: one lane per phase (plan order) or per agent (the plan's agents in order, then anyone
 * else holding a task, then unassigned), each with the four status columns. Cards keep plan order.
 */
export function buildBoard(status: StatusView, grouping: Grouping, now: number): BoardLane[] {
  const lanes = new Map<string, BoardLane>();
  const lane = (key: string, label: string) => {
    let found = lanes.get(key);
    if (!found) {
      found = { key, label, columns: { todo: [], in_progress: [], in_review: [], done: [] }, total: 0 };
      lanes.set(key, found);
    }
    return found;
  };
  if (grouping === 'phase') for (const phase of status.phases) lane(phase.id, phase.name || phase.id);
  else for (const agent of status.agents) lane(agent.id, agent.name || agent.id);
  for (const task of status.tasks) {
    const who = task.claim?.agent ?? task.holder ?? task.agent;
    const card: BoardCard = {
      task,
      who,
      claimed: task.claim !== null,
      ageMs: Math.max(0, now - Date.parse(task.updatedAt)),
    };
    const key = grouping === 'phase' ? task.phase : (who ?? UNASSIGNED);
    const target = lane(key, key);
    target.columns[task.status].push(card);
    (target as { total: number }).total++;
  }
  return [...lanes.values()].filter((l) => l.total > 0 || grouping === 'phase');
}

/** How many tasks each column holds over all lanes. */
export function columnTotals(lanes: readonly BoardLane[]): Record<TaskStatus, number> {
  const totals: Record<TaskStatus, number> = { todo: 0, in_progress: 0, in_review: 0, done: 0 };
  for (const l of lanes) for (const column of COLUMNS) totals[column] += l.columns[column].length;
  return totals;
}
