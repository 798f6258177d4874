import * as z from 'zod';
import {
  type CoordinationPorts,
  recordEvent,
  recordMetrics,
  transitionTask,
} from '../coordination/commands.js';
import type { Actor, StoredPlan } from '../coordination/model.js';
import { auditEvent } from '../coordination/records.js';
import { ConflictError } from '../errors.js';
import { shortHash } from '../hash.js';
import type { Plan, TaskStatus } from '../plan/index.js';
import type { Outbox, PullRequestFiles } from '../ports.js';
import { toWellFormed } from '../unicode.js';
import { detectConflicts, pullRequestChanges, pushChanges } from './conflicts.js';
import { checkEvidenceOf, type EvidenceContext, pullRequestEvidence } from './github-evidence.js';
import { extractIssueKeys, parseSmartCommits } from './issue-keys.js';
import type { GithubNotice, JiraCommand } from './model.js';

/** One webhook delivery, after its signature was checked. */
export interface GithubDelivery {
  /** `X-GitHub-Delivery`: unique per delivery, the same on a redelivery. */
  readonly id: string;
  /** `X-GitHub-Event`. */
  readonly event: string;
  readonly payload: Record<string, unknown>;
}

/**
 * A queued delivery, checked before the worker applies it: an id and an event name that fit a key,
 * and a payload that is a JSON object. The handlers read the payload's fields defensively.
 */
export const githubDeliverySchema = z.object({
  id: z.string().min(1).max(200),
  event: z.string().min(1).max(100),
  payload: z.looseObject({}),
});

export interface GithubPorts extends CoordinationPorts {
  readonly outbox: Outbox;
  /** Lists a pull request's files for conflict detection; without it, pull requests are not checked. */
  readonly pullRequestFiles?: PullRequestFiles;
}

export interface GithubOutcome {
  /** Projects the delivery concerned (by repository). */
  readonly projects: string[];
  readonly moved: { project: string; task: string; to: TaskStatus }[];
  readonly activity: { project: string; task: string; type: string }[];
  readonly jiraCommands: number;
  readonly ignored?: string;
}

const GITHUB: Actor = { kind: 'integration', id: 'github' };
const FAILED = new Set(['failure', 'timed_out', 'startup_failure']);
const FINISHED = new Set([...FAILED, 'success']);
const WEEK_MS = 7 * 24 * 3_600_000;
const MAX_JIRA_COMMANDS_PER_DELIVERY = 50;

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
/** Text from GitHub as Convoy stores it: well-formed Unicode (a lone surrogate becomes U+FFFD). */
const str = (value: unknown): string => (typeof value === 'string' ? toWellFormed(value) : '');
/** Notes and subjects are bounded as the API bounds them: an audit event stays far below 400 KB. */
const clip = (text: string, max = 4000) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The plan's tasks by JIRA key, and the JIRA projects keys are taken from. */
function taskIndex(plan: Plan) {
  const byKey = new Map<string, string>();
  for (const phase of plan.phases)
    for (const task of phase.tasks) if (task.jira) byKey.set(task.jira.toUpperCase(), task.id);
  const projects = plan.integrations.jira?.projects;
  return { byKey, keysIn: (text: string) => extractIssueKeys(text, projects ? { projects } : {}) };
}

/** Projects whose plan takes events from this repository (all repositories when it names none). */
async function projectsFor(ports: GithubPorts, repository: string): Promise<StoredPlan[]> {
  const plans = await Promise.all(
    (await ports.store.listProjects()).map((project) => ports.store.currentPlan(project)),
  );
  return plans.filter((stored): stored is StoredPlan => {
    const repos = stored?.plan.integrations.github?.repos;
    return (
      stored !== undefined &&
      (!repos || repos.some((repo) => repo.toLowerCase() === repository.toLowerCase()))
    );
  });
}

/**
 * Applies a GitHub delivery to every project it concerns: commits and branches become task activity,
 * smart commits and pull requests become JIRA commands, a PR moves its tasks to in_review and, merged,
 * to done (when the lifecycle allows; otherwise it is recorded as activity), CI results feed
 * `build.failure_rate`, and critical security alerts raise `security.critical`. Safe to run twice for
 * one delivery: transitions are idempotent and JIRA command ids derive from the delivery id.
 */
export async function handleGithubDelivery(
  ports: GithubPorts,
  delivery: GithubDelivery,
): Promise<GithubOutcome> {
  const payload = obj(delivery.payload);
  // GitHub's repository names are at most 140 characters; a longer one matches no plan.
  const repository = clip(str(obj(payload.repository).full_name), 300);
  const outcome = {
    projects: [] as string[],
    moved: [] as GithubOutcome['moved'],
    activity: [] as GithubOutcome['activity'],
    jiraCommands: 0,
  };
  if (delivery.event === 'ping') return { ...outcome, ignored: 'ping' };
  const handler = HANDLERS[delivery.event];
  if (!handler) return { ...outcome, ignored: `event ${delivery.event} is not used by Convoy` };
  const stored = await projectsFor(ports, repository);
  const context = {
    ports,
    delivery,
    payload,
    repository,
    outcome,
    /**
     * JIRA command ids are the delivery id plus the command's hash: a redelivery enqueues nothing new,
     * and projects watching the same repository do not send JIRA the same comment twice.
     */
    async jira(project: string, all: JiraCommand[]) {
      if (all.length === 0) return;
      // A hostile or careless message (thousands of keys × commands) must not flood JIRA.
      const commands = all.slice(0, MAX_JIRA_COMMANDS_PER_DELIVERY);
      const entries = commands.map((command) => ({
        id: `github:${delivery.id}:${shortHash(JSON.stringify(command))}`,
        project,
        command,
      }));
      outcome.jiraCommands += await ports.outbox.enqueue(entries, ports.clock.now());
    },
    async activity(project: string, task: string, type: string, note: string, data: Json = {}) {
      await recordEvent(ports, { project, type, subject: task, note: clip(note), actor: GITHUB });
      outcome.activity.push({ project, task, type });
      void data;
    },
    async move(project: string, task: string, to: TaskStatus, why: string): Promise<boolean> {
      try {
        const result = await transitionTask(ports, { project, task, to, note: why, actor: GITHUB });
        if (result.changed) outcome.moved.push({ project, task, to });
        return true;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        await context.activity(
          project,
          task,
          'github.activity',
          `${why}; not moved to ${to}: ${error.message}`,
        );
        return false;
      }
    },
  };
  for (const plan of stored) {
    outcome.projects.push(plan.project);
    const index = taskIndex(plan.plan);
    // What the delivery says as evidence for done (#15): the tasks it names that need it.
    const evidence = {
      ports,
      plan: plan.plan,
      appliedAt: plan.appliedAt,
      repository,
      keysIn: index.keysIn,
      move: context.move,
    };
    await handler({ ...context, plan: plan.plan, index, evidence });
  }
  return outcome;
}

type Context = {
  ports: GithubPorts;
  delivery: GithubDelivery;
  payload: Json;
  repository: string;
  plan: Plan;
  index: ReturnType<typeof taskIndex>;
  evidence: EvidenceContext;
  jira(project: string, commands: JiraCommand[]): Promise<void>;
  activity(project: string, task: string, type: string, note: string): Promise<void>;
  move(project: string, task: string, to: TaskStatus, why: string): Promise<boolean>;
};

const firstLine = (text: string) => text.split('\n')[0]?.trim() ?? '';

/** The GitHub events Convoy acts on; every other event is acknowledged and ignored. */
export const GITHUB_EVENTS = (): string[] => Object.keys(HANDLERS);

const HANDLERS: Record<string, (context: Context) => Promise<void>> = {
  async push({ payload, plan, index, jira, activity, repository, ports, delivery }) {
    const project = plan.project.id;
    // Who changed which resource's files: a conflict with another agent's lease or resource (#15).
    const changes = pushChanges(payload, repository, delivery.id);
    if (changes) await detectConflicts(ports, plan, changes);
    for (const commit of list(payload.commits).map(obj)) {
      const message = str(commit.message);
      const sha = str(commit.id).slice(0, 7);
      const author = str(obj(commit.author).username) || str(obj(commit.author).name);
      for (const key of index.keysIn(message)) {
        const task = index.byKey.get(key);
        if (task) await activity(project, task, 'github.commit', `${sha} ${firstLine(message)}`);
      }
      const projects = plan.integrations.jira?.projects;
      const commands: JiraCommand[] = parseSmartCommits(message, projects ? { projects } : {}).flatMap(
        (smart): JiraCommand[] => {
          const signature = `(${author ? `${author}, ` : ''}${repository}@${sha})`;
          if (smart.kind === 'comment')
            return [{ kind: 'comment', issue: smart.issue, body: clip(`${smart.text} ${signature}`) }];
          if (smart.kind === 'time') {
            // `#time 99999999999999999999w` is no worklog: a number the store cannot hold is dropped.
            if (!Number.isSafeInteger(smart.seconds)) return [];
            return [
              {
                kind: 'worklog',
                issue: smart.issue,
                seconds: smart.seconds,
                comment: clip(`${smart.comment ?? ''} ${signature}`.trim()),
              },
            ];
          }
          return [{ kind: 'transition', issue: smart.issue, status: clip(smart.name, 255) }];
        },
      );
      await jira(project, commands);
    }
  },

  async pull_request(context) {
    const { payload, plan, index, jira, move, activity, repository, ports } = context;
    const project = plan.project.id;
    const pr = obj(payload.pull_request);
    const action = str(payload.action);
    const number = Number.isSafeInteger(pr.number) ? (pr.number as number) : 0;
    const title = str(pr.title);
    const url = str(pr.html_url);
    const merged = pr.merged === true;
    const keys = index.keysIn([title, str(obj(pr.head).ref), str(pr.body)].join('\n'));
    const tasks = keys.flatMap((key) => (index.byKey.has(key) ? [index.byKey.get(key) as string] : []));
    const closed = action === 'closed';
    // The PR's files against the resources and leases (#15): listed once per delivery, when a token is set.
    const changes = await pullRequestChanges(ports, payload, repository, context.delivery);
    if (changes) await detectConflicts(ports, plan, changes);
    // Every key, in the plan or not, gets its link to the PR; the globalId makes a relink an update.
    await jira(
      project,
      keys.map((issue) => ({
        kind: 'remote-link',
        issue,
        link: {
          globalId: `github-pr:${repository}#${number}`,
          url,
          title: `PR #${number}: ${title}`,
          summary: repository,
          resolved: closed,
        },
      })),
    );
    // First the PR as evidence (#15): a merge with everything else there moves its tasks to done.
    await pullRequestEvidence(context.evidence, pr);
    const why = `PR #${number} ${closed ? (merged ? 'merged' : 'closed') : action.replaceAll('_', ' ')}`;
    for (const task of tasks) {
      if (
        (action === 'opened' || action === 'reopened' || action === 'ready_for_review') &&
        pr.draft !== true
      )
        await move(project, task, 'in_review', why);
      else if (action === 'converted_to_draft') await move(project, task, 'in_progress', why);
      else if (closed && merged && (plan.integrations.github?.doneOn ?? 'merged') === 'merged')
        await move(project, task, 'done', why);
      else await activity(project, task, 'github.pull_request', `${why}: ${title}`);
    }
    if (closed && merged) {
      const author = str(obj(pr.user).login);
      const notice = {
        type: 'pr-merged',
        project,
        repo: repository,
        number,
        title,
        url,
        author,
        tasks,
        issues: keys,
      } as const;
      // The standup lists the PRs merged since the last one, from the trail.
      await ports.store.appendEvents(project, [
        auditEvent(ports, ports.clock.now().toISOString(), GITHUB, {
          type: 'github.pr_merged',
          subject: `${repository}#${number}`,
          note: clip(`PR #${number} merged: ${title}`),
          data: {
            repository,
            number,
            title: clip(title),
            url: clip(url, 2000),
            author,
            tasks,
            delivery: context.delivery.id,
          },
        }),
      ]);
      await post(ports, plan, `pr-merged:${project}:${repository}#${number}`, notice);
    }
  },

  async pull_request_review({ payload, plan, index, activity }) {
    const pr = obj(payload.pull_request);
    const review = obj(payload.review);
    const keys = index.keysIn([str(pr.title), str(obj(pr.head).ref)].join('\n'));
    for (const key of keys) {
      const task = index.byKey.get(key);
      if (task) {
        await activity(
          plan.project.id,
          task,
          'github.review',
          `PR #${String(pr.number)} review ${str(review.state)} by ${str(obj(review.user).login)}`,
        );
      }
    }
  },

  async create(context) {
    await branchActivity(context, 'github.branch_created');
  },

  async delete(context) {
    await branchActivity(context, 'github.branch_deleted');
  },

  async workflow_run(context) {
    const run = obj(context.payload.workflow_run);
    if (str(context.payload.action) !== 'completed') return;
    await buildFinished(context, {
      conclusion: str(run.conclusion),
      name: str(run.name),
      branch: str(run.head_branch),
      url: str(run.html_url),
    });
    await checkEvidenceOf(context.evidence, {
      sha: str(run.head_sha),
      name: str(run.name),
      conclusion: str(run.conclusion),
      branch: str(run.head_branch),
      pullRequests: run.pull_requests,
    });
  },

  async check_suite(context) {
    const suite = obj(context.payload.check_suite);
    // GitHub Actions runs arrive as workflow_run too; counting their check suites would count them twice.
    if (str(context.payload.action) !== 'completed' || str(obj(suite.app).slug) === 'github-actions') return;
    await buildFinished(context, {
      conclusion: str(suite.conclusion),
      name: str(obj(suite.app).name) || 'checks',
      branch: str(suite.head_branch),
      url: str(suite.url),
    });
    await checkEvidenceOf(context.evidence, {
      sha: str(suite.head_sha),
      name: str(obj(suite.app).name) || 'checks',
      conclusion: str(suite.conclusion),
      branch: str(suite.head_branch),
      pullRequests: suite.pull_requests,
    });
  },

  async code_scanning_alert(context) {
    const alert = obj(context.payload.alert);
    const rule = obj(alert.rule);
    const severity = str(rule.security_severity_level) || str(rule.severity);
    await securityAlert(
      context,
      severity,
      ['created', 'reopened', 'appeared_in_branch'],
      `code scanning: ${str(rule.description) || str(rule.id)}`,
      str(alert.html_url),
    );
  },

  async dependabot_alert(context) {
    const alert = obj(context.payload.alert);
    const advisory = obj(alert.security_advisory);
    const severity = str(advisory.severity) || str(obj(alert.security_vulnerability).severity);
    await securityAlert(
      context,
      severity,
      ['created', 'reopened'],
      `dependabot: ${str(advisory.summary)}`,
      str(alert.html_url),
    );
  },

  async secret_scanning_alert(context) {
    const alert = obj(context.payload.alert);
    // A leaked secret has no severity grade: every new one is critical.
    await securityAlert(
      context,
      'critical',
      ['created', 'reopened'],
      `secret scanning: ${str(alert.secret_type_display_name) || str(alert.secret_type)}`,
      str(alert.html_url),
    );
  },
};

async function branchActivity({ payload, plan, index, activity }: Context, type: string) {
  if (str(payload.ref_type) !== 'branch') return;
  const branch = str(payload.ref);
  for (const key of index.keysIn(branch)) {
    const task = index.byKey.get(key);
    if (task) await activity(plan.project.id, task, type, `branch ${branch}`);
  }
}

/** Records a finished CI run and recomputes the project's failure rate over the last 7 days. */
async function buildFinished(
  context: Context,
  build: { conclusion: string; name: string; branch: string; url: string },
) {
  const { ports, plan, repository } = context;
  const project = plan.project.id;
  if (!FINISHED.has(build.conclusion)) return;
  await ports.store.appendEvents(project, [
    auditEvent(ports, ports.clock.now().toISOString(), GITHUB, {
      type: 'build.finished',
      subject: repository,
      note: clip(`${build.name} on ${build.branch}: ${build.conclusion}`),
      data: { conclusion: build.conclusion, delivery: context.delivery.id },
    }),
  ]);
  const since = new Date(ports.clock.now().getTime() - WEEK_MS).toISOString();
  let failed = 0;
  let finished = 0;
  let cursor: string | undefined;
  do {
    const page = await ports.store.listEvents(project, {
      type: 'build.finished',
      since,
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    for (const event of page.events) {
      const conclusion = String(event.data?.conclusion ?? '');
      finished++;
      if (FAILED.has(conclusion)) failed++;
    }
    cursor = page.cursor;
  } while (cursor);
  const failureRate = finished === 0 ? undefined : failed / finished;
  if (failureRate !== undefined)
    await recordMetrics(ports, { project, metrics: [{ name: 'build.failure_rate', value: failureRate }] });
  if (FAILED.has(build.conclusion)) {
    await post(ports, plan, `build-failing:${project}:${context.delivery.id}`, {
      type: 'build-failing',
      project,
      repo: repository,
      workflow: build.name,
      branch: build.branch,
      url: build.url,
      failureRate: failureRate ?? 1,
    });
  }
}

/** Posts to the project's channel through the outbox: kept through a Slack outage, posted once. */
async function post(ports: GithubPorts, plan: Plan, key: string, notice: GithubNotice) {
  const channel = plan.integrations.slack?.channel;
  if (!channel) return;
  await ports.outbox.enqueue(
    [{ id: `slack:${key}`, project: plan.project.id, command: { kind: 'slack', channel, key, notice } }],
    ports.clock.now(),
  );
}

async function securityAlert(
  context: Context,
  severity: string,
  actions: string[],
  summary: string,
  url: string,
) {
  if (severity.toLowerCase() !== 'critical' || !actions.includes(str(context.payload.action))) return;
  await recordEvent(context.ports, {
    project: context.plan.project.id,
    type: 'security.critical',
    subject: clip(url || context.repository, 2000),
    note: clip(`${context.repository}: ${summary}`),
    actor: GITHUB,
  });
}
