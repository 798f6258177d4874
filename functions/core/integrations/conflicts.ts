import { type CoordinationPorts, queued } from '../coordination/commands.js';
import { globMatcher } from '../coordination/globs.js';
import type { AuditEvent, ResourceLease } from '../coordination/model.js';
import { auditEvent } from '../coordination/records.js';
import { domainEvent, type ResourceConflictDetail } from '../domain-events.js';
import type { Plan } from '../plan/index.js';
import type { OutboxWrite, PullRequestFiles } from '../ports.js';
import { toWellFormed } from '../unicode.js';
import { extractIssueKeys } from './issue-keys.js';
import { type ChangeConflictNotice, IntegrationError } from './model.js';

/**
 * Conflict detection (issue #15): who changed which files, from a push's commits or a pull request's
 * files, matched against the plan's resources (`resources[].paths`) and the live leases. A change by
 * one agent into a resource that another agent holds an exclusive lease on, or that another agent owns
 * while the one who changed it holds no lease on it, raises `resource.conflict`: in the audit trail,
 * on the bus (where `on: resource.conflict` escalation rules follow it), and in Slack, to both agents'
 * channels and the owner's. One conflict per resource and pair of agents stays open until a
 * `resource.conflict_resolved` event names the resource (or names nothing): repeats raise nothing new.
 *
 * @module
 */

/** Changed paths taken from one delivery; beyond them the change is checked on these only (`truncated`). */
export const MAX_CHANGED_PATHS = 3000;
/** Changed paths a conflict records and shows. */
export const SHOWN_PATHS = 20;
/** The event that ends open conflicts: of the resource it names as subject, of every resource without one. */
export const CONFLICT_RESOLVED_EVENT = 'resource.conflict_resolved';
/** How far back open conflicts are looked for; an older unresolved one may be raised again. */
export const CONFLICT_WINDOW_MS = 7 * 24 * 3_600_000;
/** Conflict and resolution events read per look (each kind). */
const MAX_EVENTS_READ = 1000;

const GITHUB = { kind: 'integration', id: 'github' } as const;

/** What one delivery changed, and who by. */
export interface ChangeSet {
  readonly source: 'push' | 'pull_request';
  readonly repository: string;
  readonly branch: string;
  /** GitHub logins of who made the change, the likeliest first (the sender, the pusher, the PR's author). */
  readonly logins: readonly string[];
  /** Changed paths, each once, at most {@link MAX_CHANGED_PATHS}. */
  readonly paths: readonly string[];
  /** Whether the delivery named more paths than were taken. */
  readonly truncated: boolean;
  /** The push's head commit. */
  readonly commit?: string;
  /** The pull request's number. */
  readonly pr?: number;
  readonly url?: string;
  readonly delivery: string;
}

/** What detection needs: the store, outbox and follow of the use cases, and the PR file lister. */
export interface ConflictPorts extends CoordinationPorts {
  readonly pullRequestFiles?: PullRequestFiles;
}

/** One conflict found in a change. */
export interface FoundConflict {
  /** The resource id, or `lease:<id>` for a lease on globs outside any resource. */
  readonly subject: string;
  readonly resource?: { readonly id: string; readonly name: string };
  readonly changedBy: string;
  /** The other agent: the holder of the exclusive lease, or the owner. */
  readonly other: string;
  readonly lease?: ResourceLease;
  readonly owner?: string;
  /** Every changed path in the resource (or lease). */
  readonly paths: readonly string[];
}

/** An open conflict, as the reports list it. */
export interface OpenConflict {
  readonly subject: string;
  readonly resource?: string;
  readonly changedBy: string;
  readonly other: string;
  readonly owner?: string;
  readonly holder?: string;
  readonly source: 'push' | 'pull_request';
  readonly repository?: string;
  readonly commit?: string;
  readonly pr?: number;
  readonly paths: readonly string[];
  readonly changedPaths: number;
  readonly at: string;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const str = (value: unknown): string => (typeof value === 'string' ? toWellFormed(value) : '');
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A path as Convoy keeps it: GitHub's paths are relative already; a blank or absurdly long one is dropped. */
const usablePath = (path: string) => path.length > 0 && path.length <= 4096;

/**
 * The change a `push` delivery describes: the paths its commits added, modified and removed (GitHub
 * sends at most 20 commits, and at most 3,000 paths are taken), on a branch. Tags and deleted
 * branches change no files.
 */
export function pushChanges(payload: Json, repository: string, delivery: string): ChangeSet | undefined {
  const ref = str(payload.ref);
  if (!ref.startsWith('refs/heads/') || payload.deleted === true) return undefined;
  const paths = new Set<string>();
  let truncated = false;
  for (const commit of list(payload.commits).map(obj)) {
    for (const field of ['added', 'modified', 'removed'] as const) {
      for (const entry of list(commit[field])) {
        const path = str(entry);
        if (!usablePath(path) || paths.has(path)) continue;
        if (paths.size >= MAX_CHANGED_PATHS) {
          truncated = true;
          break;
        }
        paths.add(path);
      }
    }
  }
  if (paths.size === 0) return undefined;
  const head = obj(payload.head_commit);
  const commit = str(head.id) || str(payload.after);
  const url = str(head.url) || str(payload.compare);
  return {
    source: 'push',
    repository,
    branch: clip(ref.slice('refs/heads/'.length), 255),
    logins: logins([obj(payload.sender).login, obj(payload.pusher).name]),
    paths: [...paths],
    truncated,
    ...(commit ? { commit: clip(commit, 64) } : {}),
    ...(url ? { url: clip(url, 2000) } : {}),
    delivery,
  };
}

/** The actions of `pull_request` whose files are worth listing: new, reopened, or new commits. */
const LISTED_ACTIONS = new Set(['opened', 'reopened', 'synchronize', 'ready_for_review']);

// One listing per delivery, shared by the projects that watch the repository.
const listings = new WeakMap<object, Promise<ChangeSet | undefined>>();

/**
 * The change a `pull_request` delivery describes: its files, listed through GitHub's API when a token
 * is configured (the payload does not carry them). Once per delivery, whatever the number of projects.
 * A retryable failure of GitHub's API throws (the delivery is retried); a refusal (bad token, no
 * access) leaves the PR unchecked.
 */
export function pullRequestChanges(
  ports: ConflictPorts,
  payload: Json,
  repository: string,
  delivery: { readonly id: string },
): Promise<ChangeSet | undefined> {
  const known = listings.get(delivery);
  if (known) return known;
  const listing = listPullRequest(ports, payload, repository, delivery.id);
  listings.set(delivery, listing);
  return listing;
}

async function listPullRequest(
  ports: ConflictPorts,
  payload: Json,
  repository: string,
  delivery: string,
): Promise<ChangeSet | undefined> {
  const pr = obj(payload.pull_request);
  const number = Number.isSafeInteger(pr.number) ? (pr.number as number) : 0;
  const [owner, repo] = repository.split('/');
  if (!ports.pullRequestFiles || !LISTED_ACTIONS.has(str(payload.action)) || number <= 0 || !owner || !repo)
    return undefined;
  let files: Awaited<ReturnType<PullRequestFiles['list']>>;
  try {
    files = await ports.pullRequestFiles.list({ owner, repo, number }, MAX_CHANGED_PATHS);
  } catch (error) {
    if (error instanceof IntegrationError && !error.retryable) return undefined;
    throw error;
  }
  if (!files) return undefined;
  const paths = [...new Set(files.paths.map(str).filter(usablePath))].slice(0, MAX_CHANGED_PATHS);
  if (paths.length === 0) return undefined;
  const url = str(pr.html_url);
  return {
    source: 'pull_request',
    repository,
    branch: clip(str(obj(pr.head).ref), 255),
    logins: logins([obj(payload.sender).login, obj(pr.user).login]),
    paths,
    truncated: files.truncated,
    pr: number,
    ...(url ? { url: clip(url, 2000) } : {}),
    delivery,
  };
}

const logins = (values: readonly unknown[]) => [
  ...new Set(values.map(str).filter((login) => login.length > 0 && login.length <= 100)),
];

/**
 * The agent behind a change: the plan's agent whose `github` logins include the sender's (or the
 * pusher's, or the PR author's); else the agent of a task the branch names by id or JIRA key (the
 * plan's agent of the task, else the agent holding its claim).
 */
export async function changingAgent(
  ports: CoordinationPorts,
  plan: Plan,
  change: Pick<ChangeSet, 'logins' | 'branch'>,
): Promise<string | undefined> {
  for (const login of change.logins) {
    const lower = login.toLowerCase();
    const agent = plan.agents.find((candidate) =>
      candidate.github?.some((known) => known.toLowerCase() === lower),
    );
    if (agent) return agent.id;
  }
  const task = branchTask(plan, change.branch);
  if (!task) return undefined;
  if (task.agent) return task.agent;
  const state = (await ports.store.getTasks(plan.project.id, [task.id])).get(task.id);
  return state?.claim?.agent;
}

/** The task a branch names: a JIRA key in it, else the longest task id that is a word of it. */
function branchTask(plan: Plan, branch: string): { id: string; agent?: string } | undefined {
  if (!branch) return undefined;
  const tasks = plan.phases.flatMap((phase) => phase.tasks);
  const projects = plan.integrations.jira?.projects;
  for (const key of extractIssueKeys(branch, projects ? { projects } : {})) {
    const task = tasks.find((candidate) => candidate.jira?.toUpperCase() === key);
    if (task) return task;
  }
  const lower = branch.toLowerCase();
  let best: (typeof tasks)[number] | undefined;
  for (const task of tasks) {
    const id = task.id.toLowerCase();
    if (best && best.id.length >= id.length) continue;
    let from = lower.indexOf(id);
    while (from >= 0) {
      const before = from === 0 ? '' : (lower[from - 1] as string);
      const after = lower[from + id.length] ?? '';
      // A word of the branch: bounded by its start or end or by / _ - . (so `api` is not in `apis`).
      if (!/[a-z0-9]/.test(before) && !/[a-z0-9]/.test(after)) {
        best = task;
        break;
      }
      from = lower.indexOf(id, from + 1);
    }
  }
  return best;
}

/** The plan's resources with paths, each glob compiled once. */
function resourceMatchers(plan: Plan) {
  return plan.resources
    .filter((resource) => (resource.paths?.length ?? 0) > 0)
    .map((resource) => ({ resource, tests: (resource.paths ?? []).map(globMatcher) }));
}

/**
 * The conflicts of a change by `agent`, without recording them: for each resource whose globs name
 * changed paths, an exclusive lease of another agent on it (or on globs naming the paths), else its
 * owner when that is another agent and `agent` holds no lease on it. The owner itself changing its
 * resource conflicts only with another agent's exclusive lease.
 */
export function findConflicts(
  plan: Plan,
  leases: readonly ResourceLease[],
  agent: string,
  paths: readonly string[],
  now: Date,
): FoundConflict[] {
  const at = now.toISOString();
  const live = leases.filter((lease) => lease.expiresAt > at);
  const me = `agent:${agent}`;
  const found: FoundConflict[] = [];
  const leaseTests = new Map(live.map((lease) => [lease.id, lease.paths.map(globMatcher)]));
  const covers = (lease: ResourceLease, path: string) =>
    (leaseTests.get(lease.id) ?? []).some((test) => test(path));
  for (const { resource, tests } of resourceMatchers(plan)) {
    const touched = paths.filter((path) => tests.some((test) => test(path)));
    if (touched.length === 0) continue;
    const blocking = live.find(
      (lease) =>
        lease.mode === 'exclusive' &&
        lease.holder.startsWith('agent:') &&
        lease.holder !== me &&
        (lease.resource === resource.id || touched.some((path) => covers(lease, path))),
    );
    const owner = resource.owner;
    if (blocking) {
      found.push({
        subject: resource.id,
        resource: { id: resource.id, name: resource.name },
        changedBy: agent,
        other: blocking.holder.slice('agent:'.length),
        lease: blocking,
        owner,
        paths: touched,
      });
      continue;
    }
    if (owner === agent) continue;
    const mine = live.some(
      (lease) =>
        lease.holder === me &&
        (lease.resource === resource.id || touched.some((path) => covers(lease, path))),
    );
    if (!mine) {
      found.push({
        subject: resource.id,
        resource: { id: resource.id, name: resource.name },
        changedBy: agent,
        other: owner,
        owner,
        paths: touched,
      });
    }
  }
  // Exclusive leases on globs that no resource of the plan covers.
  const reported = new Set(found.flatMap((conflict) => (conflict.lease ? [conflict.lease.id] : [])));
  for (const lease of live) {
    if (
      lease.mode !== 'exclusive' ||
      lease.resource !== undefined ||
      !lease.holder.startsWith('agent:') ||
      lease.holder === me ||
      reported.has(lease.id)
    )
      continue;
    const touched = paths.filter((path) => covers(lease, path));
    if (touched.length === 0) continue;
    if (found.some((conflict) => touched.every((path) => conflict.paths.includes(path)))) continue;
    found.push({
      subject: `lease:${lease.id}`,
      changedBy: agent,
      other: lease.holder.slice('agent:'.length),
      lease,
      paths: touched,
    });
  }
  return found;
}

/** One conflict per subject and pair of agents, whichever changed. */
export const conflictKey = (subject: string, a: string, b: string) => `${subject}|${[a, b].sort().join('+')}`;

/**
 * Detects and records the conflicts of one change in one project: those not already open are written
 * (audit events, domain events, Slack notices) a few per transaction, then followed (escalation rules).
 * Resolves to the conflicts raised.
 */
export async function detectConflicts(
  ports: ConflictPorts,
  plan: Plan,
  change: ChangeSet,
): Promise<FoundConflict[]> {
  if (plan.resources.length === 0) return [];
  const agent = await changingAgent(ports, plan, change);
  if (agent === undefined) return [];
  const project = plan.project.id;
  const now = ports.clock.now();
  const leases = (await ports.store.getLeases(project)).leases;
  const found = findConflicts(plan, leases, agent, change.paths, now);
  if (found.length === 0) return [];
  const { open, resolutions } = await readConflicts(ports, project, now);
  const openKeys = new Set(
    open.map((conflict) => conflictKey(conflict.subject, conflict.changedBy, conflict.other)),
  );
  const fresh = found.filter((conflict) => {
    const key = conflictKey(conflict.subject, conflict.changedBy, conflict.other);
    if (openKeys.has(key)) return false;
    openKeys.add(key);
    return true;
  });
  // Two deliveries at once (a push and its PR's synchronize) must not both raise one: the first to
  // claim its key under the latest resolution of its subject does. Claims run together.
  const claimKey = (conflict: FoundConflict) =>
    `conflict:${project}:${conflictKey(conflict.subject, conflict.changedBy, conflict.other)}:${
      resolutions.get(conflict.subject) ?? resolutions.get('') ?? '-'
    }`;
  const idempotency = ports.idempotency;
  const raised = idempotency
    ? (
        await Promise.all(
          fresh.map(async (conflict) =>
            (await idempotency.claim(claimKey(conflict), change.delivery, now, 60)).state === 'new'
              ? [conflict]
              : [],
          ),
        )
      ).flat()
    : fresh;
  try {
    // A few conflicts per transaction (each is an audit event, a domain event and up to three posts).
    for (let i = 0; i < raised.length; i += CONFLICTS_PER_COMMIT)
      await record(ports, plan, change, raised.slice(i, i + CONFLICTS_PER_COMMIT), now);
  } catch (error) {
    if (idempotency) await Promise.all(raised.map((conflict) => idempotency.release(claimKey(conflict))));
    throw error;
  }
  if (idempotency)
    await Promise.all(
      raised.map((conflict) =>
        idempotency.complete(claimKey(conflict), change.delivery, true, now, CONFLICT_WINDOW_MS / 1000),
      ),
    );
  return raised;
}

/** Conflicts written in one transaction: 5 items each at most, well inside DynamoDB's 100. */
const CONFLICTS_PER_COMMIT = 15;

/** The audit event, domain event and Slack posts of conflicts, in one transaction; then followed. */
async function record(
  ports: ConflictPorts,
  plan: Plan,
  change: ChangeSet,
  conflicts: readonly FoundConflict[],
  now: Date,
): Promise<void> {
  const written = conflicts.map((conflict) => conflictRecords(ports, plan, change, conflict, now));
  const published = written.map((records) => records.event);
  await ports.store.commit(plan.project.id, {
    events: written.map((records) => records.audit),
    ...queued(
      ports,
      written.flatMap((records) => records.posts),
    ),
    published,
  });
  await ports.follow?.(published);
}

function conflictRecords(
  ports: ConflictPorts,
  plan: Plan,
  change: ChangeSet,
  conflict: FoundConflict,
  now: Date,
) {
  const project = plan.project.id;
  const at = now.toISOString();
  const shown = conflict.paths.slice(0, SHOWN_PATHS);
  const detail: ResourceConflictDetail = {
    project,
    ...(conflict.resource ? { resource: conflict.resource.id } : {}),
    paths: shown,
    requestedBy: `agent:${conflict.changedBy}`,
    ...(conflict.lease ? { lease: conflict.lease.id, holder: conflict.lease.holder } : {}),
    ...(conflict.lease?.task !== undefined ? { task: conflict.lease.task } : {}),
    overridden: false,
    source: change.source,
    repository: change.repository,
    ...(change.commit ? { commit: change.commit } : {}),
    ...(change.pr !== undefined ? { pr: change.pr } : {}),
    ...(change.branch ? { branch: change.branch } : {}),
    changedBy: conflict.changedBy,
    ...(conflict.owner !== undefined ? { owner: conflict.owner } : {}),
    changedPaths: conflict.paths.length,
    at,
  };
  const event = domainEvent('resource.conflict', detail);
  const what = conflict.resource
    ? `resource ${conflict.resource.id}`
    : `paths ${conflict.lease?.paths.join(', ') ?? conflict.subject}`;
  const by =
    change.source === 'push' ? `push ${change.commit?.slice(0, 7) ?? ''}`.trim() : `PR #${change.pr}`;
  const note = conflict.lease
    ? `${conflict.changedBy} changed ${conflict.paths.length} path(s) of ${what} (${by} to ${change.repository}) under ${conflict.other}'s exclusive lease${conflict.owner ? `; owner ${conflict.owner}` : ''}`
    : `${conflict.changedBy} changed ${conflict.paths.length} path(s) of ${what} (${by} to ${change.repository}), owned by ${conflict.other}, without a lease`;
  const audit: AuditEvent = auditEvent(ports, at, GITHUB, {
    type: 'resource.conflict',
    subject: conflict.subject,
    note: clip(note, 4000),
    data: {
      ...detail,
      other: conflict.other,
      delivery: change.delivery,
      ...(change.url ? { url: change.url } : {}),
    },
  });
  const notice: ChangeConflictNotice = {
    type: 'resource-conflict',
    project,
    source: change.source,
    resource: conflict.resource ?? { id: conflict.subject, name: what },
    changedBy: conflict.changedBy,
    ...(conflict.lease
      ? {
          holder: conflict.other,
          expiresAt: conflict.lease.expiresAt,
          ...(conflict.lease.task !== undefined ? { task: conflict.lease.task } : {}),
        }
      : {}),
    owner: conflict.owner ?? conflict.other,
    repository: change.repository,
    ...(change.commit ? { commit: change.commit } : {}),
    ...(change.pr !== undefined ? { pr: change.pr } : {}),
    ...(change.url ? { url: change.url } : {}),
    paths: shown,
    changedPaths: conflict.paths.length,
  };
  return {
    audit,
    event,
    posts: conflictNotices(ports, plan, conflict, `resource-conflict:${event.id}`, notice),
  };
}

/** One Slack post per channel among the agent's, the other agent's and the owner's (each falls back to the plan's). */
function conflictNotices(
  ports: ConflictPorts,
  plan: Plan,
  conflict: FoundConflict,
  key: string,
  notice: ChangeConflictNotice,
): OutboxWrite[] {
  if (!ports.outbox) return [];
  const agents = [conflict.changedBy, conflict.other, ...(conflict.owner ? [conflict.owner] : [])];
  const channels = new Set<string>();
  for (const id of agents) {
    const channel = plan.agents.find((agent) => agent.id === id)?.channel ?? plan.integrations.slack?.channel;
    if (channel) channels.add(channel);
  }
  return [...channels].map((channel) => ({
    id: `slack:${key}:${channel}`,
    project: plan.project.id,
    command: { kind: 'slack', channel, key: `${key}:${channel}`, notice },
  }));
}

/**
 * The conflicts raised by changes in the last week that no `resource.conflict_resolved` event has
 * ended since (one naming their subject, or one naming none), the first of each subject and pair;
 * and the id of the latest resolution of each subject (`''`: of every subject).
 */
export async function readConflicts(
  ports: Pick<CoordinationPorts, 'store'>,
  project: string,
  now: Date,
): Promise<{ open: OpenConflict[]; resolutions: Map<string, string> }> {
  const since = new Date(now.getTime() - CONFLICT_WINDOW_MS).toISOString();
  const [raised, resolved] = await Promise.all([
    readEvents(ports, project, 'resource.conflict', since),
    readEvents(ports, project, CONFLICT_RESOLVED_EVENT, since),
  ]);
  // Newest first: the first seen per subject is the latest.
  const resolutions = new Map<string, string>();
  const resolvedAt = new Map<string, string>();
  for (const event of resolved) {
    const subject = event.subject ?? '';
    if (!resolutions.has(subject)) {
      resolutions.set(subject, event.id);
      resolvedAt.set(subject, event.id);
    }
  }
  const open = new Map<string, OpenConflict>();
  for (const event of [...raised].reverse()) {
    const data = obj(event.data);
    const source = data.source;
    if ((source !== 'push' && source !== 'pull_request') || event.subject === undefined) continue;
    const ended = [resolvedAt.get(event.subject), resolvedAt.get('')].some(
      (id) => id !== undefined && id > event.id,
    );
    if (ended) continue;
    const changedBy = str(data.changedBy);
    const other = str(data.other);
    const key = conflictKey(event.subject, changedBy, other);
    if (open.has(key)) continue;
    const pr = Number.isSafeInteger(data.pr) ? (data.pr as number) : undefined;
    open.set(key, {
      subject: event.subject,
      ...(typeof data.resource === 'string' ? { resource: data.resource } : {}),
      changedBy,
      other,
      ...(typeof data.owner === 'string' ? { owner: data.owner } : {}),
      ...(typeof data.holder === 'string' ? { holder: data.holder } : {}),
      source,
      ...(typeof data.repository === 'string' ? { repository: data.repository } : {}),
      ...(typeof data.commit === 'string' ? { commit: data.commit } : {}),
      ...(pr !== undefined ? { pr } : {}),
      paths: list(data.paths).map(str),
      changedPaths: typeof data.changedPaths === 'number' ? data.changedPaths : 0,
      at: event.at,
    });
  }
  return { open: [...open.values()], resolutions };
}

/** The open conflicts of a project, oldest first (the standup and the daily report list them). */
export async function openConflicts(
  ports: Pick<CoordinationPorts, 'store'>,
  project: string,
  now: Date,
): Promise<OpenConflict[]> {
  return (await readConflicts(ports, project, now)).open;
}

async function readEvents(
  ports: Pick<CoordinationPorts, 'store'>,
  project: string,
  type: string,
  since: string,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await ports.store.listEvents(project, {
      type,
      since,
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor && events.length < MAX_EVENTS_READ);
  return events;
}
