import type { TaskClaim } from '../coordination/model.js';
import type { Agent } from '../plan/index.js';
import { openConflictsSection } from './conflicts.js';
import {
  byPlannedStart,
  doneInPeriod,
  indexContext,
  isReady,
  type ReportIndex,
  type TaskView,
  waitingFor,
} from './context.js';
import { formatDay, formatInstant, workingDaysBetween } from './dates.js';
import type { Inline, ListItem, ReportContext, ReportDocument, ReportSection, RichText } from './model.js';
import {
  agentLine,
  documentFrame,
  finishedInPeriod,
  listItem,
  type MergedPr,
  mergedPrs,
  note,
  paragraph,
  progressSummary,
  prTable,
  prText,
  pushTo,
} from './sections.js';
import { agentName, code, joinRich, plural, relativeWorkingDays, strong, taskText } from './text.js';
import { unverifiedSection, verificationText } from './verification.js';

/** How many ready tasks the standup lists per agent: what it will pick up next, not its backlog. */
const NEXT_TASKS = 3;

/** A task in progress: its status, what the agent last reported, and when it is planned to finish. */
function workingText(index: ReportIndex, view: TaskView): Inline[] {
  const parts: Inline[] = [...taskText(view)];
  const details: string[] = [];
  const claim = view.state.claim;
  if (claim) details.push(claimText(index, claim, view.task.agent));
  if (view.state.status === 'in_review') details.push('in review');
  const agent = view.agent === undefined ? undefined : index.agentStatus.get(view.agent);
  if (agent?.currentTask === view.task.id && agent.reportedCompletion !== null)
    details.push(`${agent.reportedCompletion}% reported`);
  if (view.schedule)
    details.push(
      `planned finish ${formatDay(view.schedule.finish, index.today)} (${relativeWorkingDays(workingDaysBetween(index.calendar, index.today, view.schedule.finish))})`,
    );
  if (details.length > 0) parts.push(` — ${details.join(', ')}`);
  if (view.state.blocked) parts.push(' ⛔ blocked');
  return parts;
}

/**
 * `claimed by Coder A, lease until Thu 15 Jan 09:40 EST`: who holds the task, and until when. A claim
 * on a task the plan assigns to its holder never lapses (nothing renews it): only who holds it.
 */
function claimText(index: ReportIndex, claim: TaskClaim, planAgent: string | undefined): string {
  if (claim.agent === planAgent) return `claimed by ${agentName(index, claim.agent)}`;
  const until = formatInstant(claim.expiresAt, index.timeZone, index.ctx.now);
  const lapsed = Date.parse(claim.expiresAt) <= index.nowMs;
  return `claimed by ${agentName(index, claim.agent)}, ${lapsed ? `lease expired ${until}` : `lease until ${until}`}`;
}

/** Who holds a lease, as people read it: the agent's or person's name, else the actor as written. */
function holderName(index: ReportIndex, holder: string): string {
  if (holder.startsWith('agent:')) return agentName(index, holder.slice('agent:'.length));
  if (holder.startsWith('person:')) {
    const id = holder.slice('person:'.length);
    return index.people.get(id)?.name ?? id;
  }
  return holder;
}

/** The resource leases in force: who holds what, how, for which task and until when. */
function leasesSection(index: ReportIndex): ReportSection | undefined {
  const at = index.ctx.now.toISOString();
  const leases = (index.ctx.snapshot.leases ?? [])
    .filter((lease) => lease.expiresAt > at)
    .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.id.localeCompare(b.id));
  if (leases.length === 0) return undefined;
  const items: ListItem[] = leases.map((lease) => {
    const agent = lease.holder.startsWith('agent:') ? lease.holder.slice('agent:'.length) : undefined;
    const paths = joinRich(lease.paths.map((path) => [code(path)]));
    const what: Inline[] = lease.resource !== undefined ? [code(lease.resource), ' (', ...paths, ')'] : paths;
    return {
      text: [
        strong(holderName(index, lease.holder)),
        ` holds ${lease.mode === 'exclusive' ? 'an exclusive' : 'a shared'} lease on `,
        ...what,
        ...(lease.task !== undefined ? [' for ', code(lease.task)] : []),
        ` until ${formatInstant(lease.expiresAt, index.timeZone, index.ctx.now)}`,
      ],
      ...(agent !== undefined ? { agent } : {}),
    };
  });
  return {
    id: 'leases',
    heading: 'Resource leases',
    blocks: [paragraph(`${plural(leases.length, 'lease')} in force.`), { kind: 'list', items }],
  };
}

/** What a todo task waits for: unfinished predecessors, a phase that has not started. */
export function waitingText(index: ReportIndex, view: TaskView): Inline[] {
  const waiting = waitingFor(index, view);
  const reasons: RichText[] = waiting.tasks.map((dependency) => [code(dependency.task.id)]);
  if (waiting.phase) reasons.push([`phase ${waiting.phase.name} to start`]);
  if (view.state.blocked) reasons.push(['its blocker to be cleared']);
  return reasons.length === 0 ? [] : [' — waits for ', ...joinRich(reasons)];
}

function nextItems(index: ReportIndex, own: readonly TaskView[]): ListItem {
  const todo = own.filter((view) => view.state.status === 'todo').sort(byPlannedStart);
  if (todo.length === 0) return listItem([strong('Next:'), ' nothing left to start']);
  const ready = todo.filter((view) => isReady(index, view)).slice(0, NEXT_TASKS);
  if (ready.length > 0)
    return listItem(
      [strong('Next, ready to start:')],
      ready.map((view) => [...taskText(view), ...lateStart(index, view)]),
    );
  const [first] = todo as [TaskView];
  return listItem(
    [strong('Next:'), ' nothing ready yet'],
    [[...taskText(first), ...waitingText(index, first), ...lateStart(index, first)]],
  );
}

/** ` (planned to start Mon Jan 12, 3 working days ago)` for work that should have started already. */
function lateStart(index: ReportIndex, view: TaskView): Inline[] {
  const start = view.schedule?.start;
  if (start === undefined || start >= index.today) return [];
  return [
    ` (planned to start ${formatDay(start, index.today)}, ${plural(workingDaysBetween(index.calendar, start, index.today), 'working day')} ago)`,
  ];
}

function agentSection(
  index: ReportIndex,
  agent: Agent,
  own: readonly TaskView[],
  prs: readonly MergedPr[],
): ReportSection {
  const since = formatInstant(index.ctx.since, index.timeZone, index.ctx.now);
  const finished = finishedInPeriod(index, own);
  const working = own.filter(
    (view) => view.state.status === 'in_progress' || view.state.status === 'in_review',
  );
  const blocked = own.filter((view) => view.state.blocked);
  const items: ListItem[] = [
    finished.length === 0
      ? listItem([strong(`Finished since ${since}:`), ' nothing'])
      : listItem(
          [strong(`Finished since ${since}:`)],
          finished.map((view) => [...taskText(view), ...verificationText(view)]),
        ),
    working.length === 0
      ? listItem([strong('In progress:'), ' nothing'])
      : listItem(
          [strong('In progress:')],
          working.map((view) => workingText(index, view)),
        ),
  ];
  if (own.length > 0) items.push(nextItems(index, own));
  if (blocked.length > 0)
    items.push(
      listItem(
        [strong('Blockers:')],
        blocked.map((view) => [
          '⛔ ',
          ...taskText(view),
          `: ${view.state.blockedReason?.trim() || 'no reason given'}`,
        ]),
      ),
    );
  if (prs.length > 0)
    items.push(
      listItem(
        [strong('PRs merged:')],
        prs.map((pr) => prText(pr)),
      ),
    );
  return {
    id: `agent:${agent.id}`,
    heading: agent.name,
    agent: agent.id,
    blocks: [paragraph(...agentLine(index, agent.id)), { kind: 'list', items }],
  };
}

/** Tasks no agent took yet (pool or open tasks): what is ready to claim, what waits, what is blocked. */
function unassignedSection(index: ReportIndex): ReportSection | undefined {
  const open = index.unassigned.filter((view) => view.state.status !== 'done');
  if (open.length === 0) return undefined;
  const blocked = open.filter((view) => view.state.blocked);
  const items: ListItem[] = [nextItems(index, open)];
  if (blocked.length > 0)
    items.push(
      listItem(
        [strong('Blockers:')],
        blocked.map((view) => [
          '⛔ ',
          ...taskText(view),
          `: ${view.state.blockedReason?.trim() || 'no reason given'}`,
        ]),
      ),
    );
  return {
    id: 'unassigned',
    heading: 'Unassigned',
    blocks: [
      paragraph(`${plural(open.length, 'open task')} no agent has claimed yet.`),
      { kind: 'list', items },
    ],
  };
}

/**
 * The morning standup: for every agent, by name, what it finished since the last standup, what is in
 * progress, what it picks up next (or what that waits for), its blockers with their reasons, its
 * risk, and the PRs merged for its tasks (a claimed task says who holds it and until when); then the
 * tasks no agent has claimed yet, the resource leases in force, and every PR merged since the last standup. An agent with
 * no tasks in the plan appears only when it is at risk or down.
 */
export function buildStandup(ctx: ReportContext): ReportDocument {
  const index = indexContext(ctx);
  const prs = mergedPrs(index);
  const prsByAgent = new Map<string, MergedPr[]>();
  for (const pr of prs) {
    const agents = new Set(pr.tasks.flatMap((id) => index.tasks.get(id)?.agent ?? []));
    for (const agent of agents) pushTo(prsByAgent, agent, pr);
  }
  const quiet: string[] = [];
  const agentSections = index.plan.agents.flatMap((agent) => {
    const own = index.byAgent.get(agent.id) ?? [];
    const status = index.agentStatus.get(agent.id);
    if (own.length === 0 && (!status || (status.risk === 'green' && status.status !== 'down'))) {
      quiet.push(agent.name);
      return [];
    }
    return [agentSection(index, agent, own, prsByAgent.get(agent.id) ?? [])];
  });
  const finished = index.ordered.filter((view) => doneInPeriod(index, view)).length;
  const summary: ReportSection = {
    id: 'summary',
    heading: 'Summary',
    blocks: [
      paragraph(...progressSummary(index)),
      paragraph(
        `Since the last standup: ${plural(finished, 'task')} finished, ${plural(prs.length, 'PR')} merged.`,
      ),
      ...(quiet.length > 0 ? [note(`No tasks in the plan: ${quiet.join(', ')}.`)] : []),
    ],
  };
  const prSection: ReportSection = {
    id: 'prs',
    heading: 'PRs merged since the last standup',
    blocks: [prs.length === 0 ? paragraph('No PRs merged.') : prTable(index, prs)],
  };
  const unassigned = unassignedSection(index);
  const leases = leasesSection(index);
  const conflicts = openConflictsSection(index);
  const unverified = unverifiedSection(index);
  return documentFrame(index, 'standup', [
    summary,
    ...agentSections,
    ...(unassigned ? [unassigned] : []),
    ...(unverified ? [unverified] : []),
    ...(leases ? [leases] : []),
    ...(conflicts ? [conflicts] : []),
    prSection,
  ]);
}
