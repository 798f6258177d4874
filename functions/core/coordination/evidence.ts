import { ConflictError, ForbiddenError, ValidationError } from '../errors.js';
import { formatBound, formatCondition, formatNumber } from '../gates/wording.js';
import type { Plan } from '../plan/index.js';
import { EVIDENCE_KINDS, holds, parseCondition } from '../plan/lexical.js';
import type { CoordinationStore } from '../ports.js';
import {
  type Actor,
  describeActor,
  type Handoff,
  type MetricPoint,
  type PullRequestEvidence,
  type TaskState,
  type Verification,
} from './model.js';

/**
 * Evidence for done (issue #15, docs/plan-format.md "Evidence for done"): what a task needs before it
 * may be done, whether the evidence is there, and where the missing pieces would come from. Each entry
 * of `tasks[].evidence` (or the plan's `definitionOfDone`, its default) is `pr-merged`,
 * `checks-passed`, `handoff` or a metric condition in the grammar of gate criteria.
 */

type TaskDefinition = Plan['phases'][number]['tasks'][number];

/** At most this many pull requests are kept per task (the newest); each keeps at most this many checks. */
export const MAX_PULL_REQUESTS = 5;
export const MAX_CHECKS = 20;
/** An override's note: required, and bounded like the design says. */
export const MAX_OVERRIDE_NOTE = 1000;

/** The evidence a task needs to be done: its own list, else the plan's `definitionOfDone`, else none. */
export function requiredEvidence(plan: Plan, task: TaskDefinition): readonly string[] {
  return task.evidence ?? plan.definitionOfDone ?? [];
}

/** Whether what GitHub says about a task's pull requests counts for it (it needs pr-merged or checks-passed). */
export const needsGithub = (required: readonly string[]) =>
  required.includes('pr-merged') || required.includes('checks-passed');

/** One piece of evidence that is not there: which entry, what is missing, where it would come from. */
export interface MissingEvidence {
  readonly evidence: string;
  readonly missing: string;
  readonly source: string;
}

export interface EvidenceCheck {
  /** The entries that hold, each said as a user reads it ("PR #42 merged", "CI green on abc1234"). */
  readonly items: string[];
  readonly missing: MissingEvidence[];
}

/** What the evidence is judged on. `handoffs` and `metrics` are needed only when the entries name them. */
export interface EvidenceInput {
  readonly plan: Plan;
  readonly task: TaskDefinition;
  readonly state: TaskState | undefined;
  readonly handoffs?: readonly Handoff[];
  readonly metrics?: ReadonlyMap<string, MetricPoint>;
}

const PASSED = new Set(['success', 'neutral', 'skipped']);
const short = (sha: string) => sha.slice(0, 7);

/** The pull request evidence is judged on: the newest merged one, else the newest one. */
export function judgedPullRequest(state: TaskState | undefined): PullRequestEvidence | undefined {
  const prs = state?.pullRequests ?? [];
  return [...prs].reverse().find((pr) => pr.merged) ?? prs.at(-1);
}

/** How a task is named in a pull request: its id, and its JIRA key when it has one. */
const namesOf = (task: TaskDefinition) =>
  task.jira ? `its id ${task.id} or its JIRA key ${task.jira}` : `its id ${task.id}`;

/** Judges every entry of the task's required evidence. */
export function checkEvidence(required: readonly string[], input: EvidenceInput): EvidenceCheck {
  const items: string[] = [];
  const missing: MissingEvidence[] = [];
  const { task, state } = input;
  const pr = judgedPullRequest(state);
  for (const evidence of required) {
    if (evidence === 'pr-merged') {
      const merged = [...(state?.pullRequests ?? [])].reverse().find((candidate) => candidate.merged);
      if (merged) items.push(`PR #${merged.number} merged`);
      else
        missing.push({
          evidence,
          missing: pr ? `PR #${pr.number} is not merged` : `no merged pull request names task ${task.id}`,
          source: `GitHub: a merged pull request whose title, branch or body names ${namesOf(task)} (pull_request event)`,
        });
    } else if (evidence === 'checks-passed') {
      const checks = Object.entries(pr?.checks ?? {});
      const failing = checks.filter(([, conclusion]) => !PASSED.has(conclusion));
      if (pr && checks.length > 0 && failing.length === 0) items.push(`CI green on ${short(pr.headSha)}`);
      else
        missing.push({
          evidence,
          missing: !pr
            ? `no pull request names task ${task.id}, so there is no head commit to check`
            : checks.length === 0
              ? `no check has finished on ${short(pr.headSha)}, the head commit of PR #${pr.number}`
              : `CI did not pass on ${short(pr.headSha)}: ${failing.map(([name, conclusion]) => `${name} ${conclusion}`).join(', ')}`,
          source:
            'GitHub: the last check_suite or workflow_run of each check on the pull request’s head commit, completed with success',
        });
    } else if (evidence === 'handoff') {
      const confirmed = (input.handoffs ?? [])
        .filter(
          (handoff) =>
            handoff.task === task.id && input.plan.handoff.every((item) => handoff.checklist[item] === true),
        )
        .at(-1);
      if (confirmed) items.push(`handoff ${confirmed.id} confirmed`);
      else
        missing.push({
          evidence,
          missing: `no handoff of task ${task.id} with every checklist item confirmed`,
          source: `a handoff of ${task.id} (POST /v1/plans/{project}/handoffs, MCP hand_off) confirming ${
            input.plan.handoff.length > 0
              ? input.plan.handoff.map((item) => `"${item}"`).join(', ')
              : 'the checklist'
          }`,
        });
    } else {
      const condition = parseCondition(evidence);
      const point = input.metrics?.get(condition.metric);
      if (holds(condition, point?.value))
        items.push(`${condition.metric} ${formatNumber(point?.value as number)} ${formatBound(condition)}`);
      else
        missing.push({
          evidence,
          missing:
            point === undefined
              ? `${condition.metric} has no value yet (needs ${formatBound(condition)})`
              : `${condition.metric} is ${formatNumber(point.value)}, needs ${formatBound(condition)}`,
          source: `the latest value of metric ${condition.metric} (POST /v1/plans/{project}/metrics, or a metric Convoy computes) meeting ${formatCondition(condition)}`,
        });
    }
  }
  return { items, missing };
}

/** A move to done refused for want of evidence: 409 `conflict`, with `[{ evidence, missing, source }]`. */
export class EvidenceMissingError extends ConflictError {
  constructor(
    message: string,
    readonly details: readonly MissingEvidence[],
  ) {
    super(message);
    this.name = 'EvidenceMissingError';
  }
}

/** The sentence a refused move to done answers with: every missing piece and where it would come from. */
export function describeMissing(task: string, missing: readonly MissingEvidence[]): string {
  return `task ${task} cannot be done yet: ${missing.length} piece${missing.length === 1 ? '' : 's'} of evidence ${
    missing.length === 1 ? 'is' : 'are'
  } missing: ${missing
    .map((entry) => `${entry.evidence}: ${entry.missing} (from ${entry.source})`)
    .join('; ')}. The task's owner or an admin may override with "override": true and a note`;
}

/** Reads what the entries need: handoffs for `handoff`, the latest metrics for a metric condition. */
export async function gatherEvidence(
  store: CoordinationStore,
  project: string,
  required: readonly string[],
): Promise<Pick<EvidenceInput, 'handoffs' | 'metrics'>> {
  const kinds: readonly string[] = EVIDENCE_KINDS;
  const [handoffs, metrics] = await Promise.all([
    required.includes('handoff') ? store.listHandoffs(project, '0') : undefined,
    required.some((entry) => !kinds.includes(entry))
      ? store.snapshot(project).then((snapshot) => snapshot?.metrics)
      : undefined,
  ]);
  return { ...(handoffs ? { handoffs } : {}), ...(metrics ? { metrics } : {}) };
}

/**
 * Checks an override before anything is read: only with a note (1–1000 characters), only for a move
 * to done, and only by the owner or backup of the agent working on the task, or an admin.
 */
export function assertMayOverride(
  plan: Plan,
  actor: Actor,
  task: TaskDefinition,
  agent: string | undefined,
  input: { to: string; override?: boolean; note?: string },
): void {
  if (!input.override) return;
  if (input.to !== 'done')
    throw new ValidationError(`override: only a move to done can be overridden (this one is to ${input.to})`);
  const note = input.note?.trim() ?? '';
  if (note.length === 0)
    throw new ValidationError(
      'note: an override needs a note saying why the task is done without its evidence',
    );
  if (note.length > MAX_OVERRIDE_NOTE)
    throw new ValidationError(
      `note: an override's note is at most ${MAX_OVERRIDE_NOTE} characters (this one has ${note.length})`,
    );
  if (actor.kind === 'admin') return;
  const owner = plan.agents.find((candidate) => candidate.id === agent);
  if (actor.kind === 'person' && owner && (owner.owner === actor.id || owner.backup === actor.id)) return;
  throw new ForbiddenError(
    `${describeActor(actor)} may not override the evidence of task ${task.id}; only ${
      owner
        ? `${owner.id}'s owner ${owner.owner}${owner.backup ? ` or backup ${owner.backup}` : ''}, or `
        : ''
    }an admin may`,
  );
}

/**
 * What a move to done is verified by: its evidence when all of it is there, else the override (who
 * and why, and what was missing). Undefined when the task needs no evidence. Throws
 * EvidenceMissingError when evidence is missing and there is no override: whoever asks, an agent, a
 * person, an admin, GitHub or JIRA.
 */
export async function verifyDone(
  store: CoordinationStore,
  input: {
    project: string;
    plan: Plan;
    task: TaskDefinition;
    state: TaskState;
    actor: Actor;
    override?: boolean;
    note?: string;
    at: string;
  },
): Promise<Verification | undefined> {
  const required = requiredEvidence(input.plan, input.task);
  if (required.length === 0) return undefined;
  const gathered = await gatherEvidence(store, input.project, required);
  const check = checkEvidence(required, { ...input, ...gathered });
  if (check.missing.length === 0) return { by: 'evidence', items: check.items, at: input.at };
  if (input.override)
    return {
      by: 'override',
      actor: describeActor(input.actor),
      note: (input.note ?? '').trim(),
      missing: check.missing.map((entry) => `${entry.evidence}: ${entry.missing}`),
      at: input.at,
    };
  throw new EvidenceMissingError(describeMissing(input.task.id, check.missing), check.missing);
}

/** A task state with its verification when it is done, and without one otherwise (reopened). */
export function withVerification(next: TaskState, verification: Verification | undefined): TaskState {
  if (next.status === 'done' && verification) return { ...next, verification };
  if (next.status === 'done') return next;
  const { verification: _reopened, ...open } = next;
  return open;
}

/** "PR #42 merged, CI green on abc1234", or "overridden by person:pm: <note>": how a done task was verified. */
export function describeVerification(verification: Verification | undefined): string | undefined {
  if (!verification) return undefined;
  return verification.by === 'evidence'
    ? verification.items.join(', ')
    : `overridden by ${verification.actor}: ${verification.note}`;
}

/**
 * A done task whose evidence Convoy never saw: done by override, or done while it needed evidence
 * but before Convoy asked for it (no verification recorded). Undefined for a verified or open task.
 */
export function unverifiedDone(
  plan: Plan,
  task: TaskDefinition,
  state: TaskState | undefined,
): { readonly reason: string; readonly verification?: Verification } | undefined {
  if (state?.status !== 'done') return undefined;
  const verification = state.verification;
  if (verification?.by === 'override')
    return { reason: `overridden by ${verification.actor}: ${verification.note}`, verification };
  if (verification?.by === 'evidence') return undefined;
  if (requiredEvidence(plan, task).length === 0) return undefined;
  return { reason: `done by ${state.updatedBy} before its evidence was asked for` };
}

/** The tasks a pull request names, in its title, branch or body: by JIRA key or by id. */
export function tasksNamedBy(plan: Plan, keys: readonly string[], text: string): string[] {
  const named = new Set<string>();
  const byKey = new Map<string, string>();
  for (const phase of plan.phases)
    for (const task of phase.tasks) if (task.jira) byKey.set(task.jira.toUpperCase(), task.id);
  for (const key of keys) {
    const task = byKey.get(key.toUpperCase());
    if (task) named.add(task);
  }
  // A task id is a word of lower-case letters, digits and hyphens: it counts only as a whole word.
  const words = new Set(
    text
      .toLowerCase()
      .split(/[^a-z0-9-]+/)
      .filter(Boolean),
  );
  for (const phase of plan.phases) for (const task of phase.tasks) if (words.has(task.id)) named.add(task.id);
  return [...named];
}

/** A pull request as a GitHub event reports it. */
export interface PullRequestReport {
  readonly repo: string;
  readonly number: number;
  readonly headSha: string;
  readonly merged: boolean;
}

/**
 * The task's pull requests with this report folded in: a new PR goes last (the oldest beyond
 * MAX_PULL_REQUESTS drops out); a known one takes the new head commit (its checks start over when
 * the head moved) and stays merged once merged. Undefined when nothing changes.
 */
export function withPullRequest(
  state: TaskState,
  report: PullRequestReport,
  at: string,
): readonly PullRequestEvidence[] | undefined {
  const prs = state.pullRequests ?? [];
  const same = (pr: PullRequestEvidence) =>
    pr.number === report.number && pr.repo.toLowerCase() === report.repo.toLowerCase();
  const known = prs.find(same);
  const headSha = report.headSha || known?.headSha || '';
  const merged = report.merged || (known?.merged ?? false);
  if (known && known.headSha === headSha && known.merged === merged) return undefined;
  const next: PullRequestEvidence = {
    repo: report.repo,
    number: report.number,
    headSha,
    merged,
    at,
    ...(known && known.headSha === headSha && known.checks ? { checks: known.checks } : {}),
  };
  return [...prs.filter((pr) => !same(pr)), next].slice(-MAX_PULL_REQUESTS);
}

/**
 * The task's pull requests with a finished check on `sha` recorded on each PR whose head it is (the
 * latest conclusion per check name, at most MAX_CHECKS names). Undefined when nothing changes.
 */
export function withCheck(
  state: TaskState,
  check: { sha: string; name: string; conclusion: string },
): readonly PullRequestEvidence[] | undefined {
  const prs = state.pullRequests ?? [];
  let changed = false;
  const next = prs.map((pr) => {
    if (pr.headSha !== check.sha || pr.checks?.[check.name] === check.conclusion) return pr;
    const checks = { ...(pr.checks ?? {}) };
    if (!(check.name in checks) && Object.keys(checks).length >= MAX_CHECKS) return pr;
    checks[check.name] = check.conclusion;
    changed = true;
    return { ...pr, checks };
  });
  return changed ? next : undefined;
}
