import { type CoordinationPorts, initialTask, withRetries } from '../coordination/commands.js';
import {
  checkEvidence,
  gatherEvidence,
  needsGithub,
  type PullRequestReport,
  requiredEvidence,
  tasksNamedBy,
  withCheck,
  withPullRequest,
} from '../coordination/evidence.js';
import { definition } from '../coordination/lifecycle.js';
import type { PullRequestEvidence, TaskState } from '../coordination/model.js';
import type { Plan, TaskStatus } from '../plan/index.js';

/**
 * What GitHub tells Convoy that counts as evidence for done (core/coordination/evidence.ts): the pull
 * requests naming a task, whether they merged, and the checks that finished on their head commits. It
 * is kept on the task's state (`pullRequests`, bounded), and only for the tasks whose evidence needs it,
 * so plans without evidence see no change at all.
 */

type Move = (project: string, task: string, to: TaskStatus, why: string) => Promise<boolean>;

/** Whether any task of the plan needs what GitHub says (pr-merged or checks-passed). */
const planNeedsGithub = (plan: Plan) =>
  plan.phases.some((phase) => phase.tasks.some((task) => needsGithub(requiredEvidence(plan, task))));

/** Writes a task's pull requests, re-reading on a lost race; false when `update` changes nothing. */
async function updatePullRequests(
  ports: CoordinationPorts,
  project: string,
  appliedAt: string,
  task: string,
  update: (state: TaskState) => readonly PullRequestEvidence[] | undefined,
): Promise<boolean> {
  return withRetries(ports, async () => {
    const state = (await ports.store.getTasks(project, [task])).get(task) ?? initialTask(task, appliedAt);
    const pullRequests = update(state);
    if (!pullRequests) return false;
    // Not a change of the task's work: who changed it last and when stay as they are.
    await ports.store.commit(project, {
      tasks: [
        { next: { ...state, pullRequests, version: state.version + 1 }, expectedVersion: state.version },
      ],
      events: [],
    });
    return true;
  });
}

/** Records a pull request on the tasks it names that need GitHub evidence; answers those tasks. */
export async function recordPullRequest(
  ports: CoordinationPorts,
  plan: Plan,
  appliedAt: string,
  report: PullRequestReport,
  named: readonly string[],
): Promise<string[]> {
  const project = plan.project.id;
  const at = ports.clock.now().toISOString();
  const tasks = named.filter((id) => {
    const task = definition(plan, id)?.task;
    return task !== undefined && needsGithub(requiredEvidence(plan, task));
  });
  for (const task of tasks)
    await updatePullRequests(ports, project, appliedAt, task, (state) => withPullRequest(state, report, at));
  return tasks;
}

/**
 * Records a finished check (a check suite of an app, or a GitHub Actions workflow run) on the tasks
 * whose pull request has `sha` as its head commit, and on the tasks its branch names that need GitHub
 * evidence (their PRs taken from the event's `pull_requests`). Answers the tasks it touched.
 */
export async function recordCheck(
  ports: CoordinationPorts,
  plan: Plan,
  appliedAt: string,
  check: {
    repo: string;
    sha: string;
    name: string;
    conclusion: string;
    /** Tasks the check's branch names. */
    named: readonly string[];
    /** The event's `pull_requests` whose head is `sha`. */
    pullRequests: readonly number[];
  },
): Promise<string[]> {
  if (!check.sha || !planNeedsGithub(plan)) return [];
  const project = plan.project.id;
  const at = ports.clock.now().toISOString();
  const snapshot = await ports.store.snapshot(project);
  const touched = new Set<string>();
  for (const [id, state] of snapshot?.tasks ?? [])
    if (state.pullRequests?.some((pr) => pr.headSha === check.sha)) touched.add(id);
  // A check that finished before Convoy heard of its pull request: the branch says which task.
  for (const id of check.named) {
    const task = definition(plan, id)?.task;
    if (!task || !needsGithub(requiredEvidence(plan, task)) || check.pullRequests.length === 0) continue;
    for (const number of check.pullRequests)
      await updatePullRequests(ports, project, appliedAt, id, (state) =>
        withPullRequest(state, { repo: check.repo, number, headSha: check.sha, merged: false }, at),
      );
    touched.add(id);
  }
  for (const task of touched)
    await updatePullRequests(ports, project, appliedAt, task, (state) => withCheck(state, check));
  return [...touched];
}

/**
 * Moves to done each of these tasks whose evidence is now all there (as `integration:github`, which
 * records the verification), unless the plan's `integrations.github.doneOn` is `never`. A task that is
 * done already, or whose evidence is still missing, is left as it is.
 */
export async function completeWithEvidence(
  ports: CoordinationPorts,
  plan: Plan,
  tasks: readonly string[],
  move: Move,
): Promise<void> {
  if ((plan.integrations.github?.doneOn ?? 'merged') !== 'merged' || tasks.length === 0) return;
  const project = plan.project.id;
  const states = await ports.store.getTasks(project, tasks);
  for (const id of tasks) {
    const task = definition(plan, id)?.task;
    const state = states.get(id);
    if (!task || !state || state.status === 'done' || state.status === 'todo') continue;
    const required = requiredEvidence(plan, task);
    const check = checkEvidence(required, {
      plan,
      task,
      state,
      ...(await gatherEvidence(ports.store, project, required)),
    });
    if (check.missing.length === 0) await move(project, id, 'done', check.items.join(', '));
  }
}

/** What the GitHub delivery handler passes for one project (core/integrations/github-events.ts). */
export interface EvidenceContext {
  readonly ports: CoordinationPorts;
  readonly plan: Plan;
  readonly appliedAt: string;
  readonly repository: string;
  /** The JIRA keys in a text, as the handler reads them (its plan's JIRA projects). */
  readonly keysIn: (text: string) => string[];
  readonly move: Move;
}

const obj = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A pull_request event: its PR recorded on the tasks it names, and those with all their evidence done. */
export async function pullRequestEvidence(
  context: EvidenceContext,
  pr: Record<string, unknown>,
): Promise<void> {
  const { ports, plan } = context;
  if (!planNeedsGithub(plan) || !Number.isSafeInteger(pr.number)) return;
  const text = [str(pr.title), str(obj(pr.head).ref), str(pr.body)].join('\n');
  const tasks = await recordPullRequest(
    ports,
    plan,
    context.appliedAt,
    {
      repo: context.repository,
      number: pr.number as number,
      headSha: str(obj(pr.head).sha).slice(0, 64),
      merged: pr.merged === true,
    },
    tasksNamedBy(plan, context.keysIn(text), text),
  );
  await completeWithEvidence(ports, plan, tasks, context.move);
}

/**
 * A completed check_suite or workflow_run: its conclusion recorded on the tasks whose PR head it ran
 * on, and those with all their evidence done.
 */
export async function checkEvidenceOf(
  context: EvidenceContext,
  check: { sha: string; name: string; conclusion: string; branch: string; pullRequests: unknown },
): Promise<void> {
  if (!check.conclusion) return;
  const pullRequests = (Array.isArray(check.pullRequests) ? check.pullRequests : [])
    .map(obj)
    .filter((pr) => str(obj(pr.head).sha) === check.sha && Number.isSafeInteger(pr.number))
    .map((pr) => pr.number as number)
    .slice(0, 5);
  const tasks = await recordCheck(context.ports, context.plan, context.appliedAt, {
    repo: context.repository,
    sha: check.sha.slice(0, 64),
    name: check.name.slice(0, 200) || 'checks',
    conclusion: check.conclusion.slice(0, 50),
    named: tasksNamedBy(context.plan, context.keysIn(check.branch), check.branch),
    pullRequests,
  });
  await completeWithEvidence(context.ports, context.plan, tasks, context.move);
}
