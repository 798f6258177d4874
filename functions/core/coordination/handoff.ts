import type { Plan, TaskStatus } from '../plan/index.js';
import { closest } from '../plan/suggest.js';

/** The task statuses a handoff may start from: work that exists and is not yet finished. */
export const HANDOFF_STATUSES: readonly TaskStatus[] = ['in_progress', 'in_review'];

/**
 * The tasks a task may be handed off to: those that depend on it, directly or through other tasks
 * (`dependsOn`, and every task of a phase that depends on the task's phase). `direct` lists the
 * nearest ones, which an error message suggests.
 */
export function handoffTargets(plan: Plan, taskId: string): { all: Set<string>; direct: string[] } {
  const phaseOf = new Map<string, string>();
  for (const phase of plan.phases) for (const task of phase.tasks) phaseOf.set(task.id, phase.id);
  // Who depends on whom, task to task: explicit dependencies and those implied by phase order.
  const dependents = new Map<string, Set<string>>();
  const add = (from: string, to: string) => {
    const set = dependents.get(from) ?? new Set<string>();
    set.add(to);
    dependents.set(from, set);
  };
  for (const phase of plan.phases) {
    for (const task of phase.tasks) for (const before of task.dependsOn) add(before, task.id);
    for (const earlier of phase.dependsOn) {
      const earlierPhase = plan.phases.find((candidate) => candidate.id === earlier);
      for (const before of earlierPhase?.tasks ?? []) for (const task of phase.tasks) add(before.id, task.id);
    }
  }
  const direct = [...(dependents.get(taskId) ?? [])].filter((id) => {
    // Explicit dependencies first: a task in a later phase that names it is nearer than the whole phase.
    const task = plan.phases.flatMap((phase) => phase.tasks).find((candidate) => candidate.id === id);
    return task?.dependsOn.includes(taskId) ?? false;
  });
  const all = new Set<string>();
  const queue = [...(dependents.get(taskId) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift() as string;
    if (all.has(next)) continue;
    all.add(next);
    queue.push(...(dependents.get(next) ?? []));
  }
  return { all, direct: direct.length > 0 ? direct : [...(dependents.get(taskId) ?? [])] };
}

/** Lower case, punctuation dropped, single spaces: how two spellings of an item are compared. */
const normalize = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}%<>=]+/gu, ' ')
    .trim();

const words = (text: string) => new Set(normalize(text).split(' ').filter(Boolean));

/**
 * The checklist item of the plan that `item` most likely means, if any: the same words in another
 * case or punctuation, a few typos (edit distance), the item cut short or with words added, or most
 * of its words. Checklist items are sentences, so a plain edit distance misses "Code review
 * completed" for "Code review completed (24-hour turnaround)".
 */
export function suggestChecklistItem(item: string, items: readonly string[]): string | undefined {
  const wanted = normalize(item);
  if (wanted === '') return undefined;
  const same = items.find((candidate) => normalize(candidate) === wanted);
  if (same) return same;
  const typo = closest(item, items);
  if (typo) return typo;
  const byNormalized = new Map(items.map((candidate) => [normalize(candidate), candidate]));
  const near = closest(wanted, byNormalized.keys());
  if (near) return byNormalized.get(near);
  const prefix = items.filter((candidate) => {
    const other = normalize(candidate);
    const [short, long] = other.length < wanted.length ? [other, wanted] : [wanted, other];
    return short.length >= 8 && long.startsWith(short);
  });
  if (prefix.length === 1) return prefix[0];
  // Most words in common (Jaccard similarity of the word sets), when that is clearly most of them.
  const mine = words(item);
  let best: string | undefined;
  let bestScore = 0.5;
  let tie = false;
  for (const candidate of items) {
    const theirs = words(candidate);
    const shared = [...mine].filter((word) => theirs.has(word)).length;
    const score = shared / (mine.size + theirs.size - shared);
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
      tie = false;
    } else if (score === bestScore && best !== undefined) tie = true;
  }
  return tie ? undefined : best;
}

/** ` (did you mean "x"?)` for a checklist item, or an empty string. */
export function didYouMeanItem(item: string, items: readonly string[]): string {
  const suggestion = suggestChecklistItem(item, items);
  return suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
}

/** The items a handoff may confirm, quoted, for a message about one it may not: the first ten, and how many more. */
export function describeChecklist(items: readonly string[]): string {
  if (items.length === 0) return 'the plan has no handoff checklist';
  const shown = items.slice(0, 10).map((item) => `"${item}"`);
  const more = items.length > shown.length ? ` and ${items.length - shown.length} more` : '';
  return `its items are ${shown.join(', ')}${more}`;
}

/**
 * What makes two handoffs the same: the task, its targets (in any order), the confirmed checklist
 * and the notes. A retry with this content is the same handoff, whoever sends it.
 */
export function handoffContent(input: {
  task: string;
  to: readonly string[];
  checklist: Readonly<Record<string, boolean>>;
  notes?: string | undefined;
}): string {
  return JSON.stringify([
    input.task,
    [...input.to].sort(),
    Object.entries(input.checklist).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    input.notes ?? '',
  ]);
}
