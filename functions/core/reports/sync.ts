import type { AuditEvent, Handoff } from '../coordination/model.js';
import type { TaskStatus } from '../plan/index.js';
import { byPlannedFinish, indexContext, type ReportIndex, type TaskView } from './context.js';
import { formatDay, formatInstant, localParts, workingDaysBetween } from './dates.js';
import type { Inline, ListItem, ReportBlock, ReportContext, ReportDocument, ReportSection } from './model.js';
import {
  agentLine,
  documentFrame,
  eventAgents,
  listItem,
  type MergedPr,
  mergedPrs,
  paragraph,
  progressSummary,
  prText,
  pushTo,
} from './sections.js';
import {
  agentName,
  code,
  joinRich,
  plural,
  relativeWorkingDays,
  STATUS_LABEL,
  strong,
  taskText,
} from './text.js';

/** Open tasks the sync lists per agent as due next. */
const DUE_TASKS = 3;

const statusLabel = (value: unknown) =>
  typeof value === 'string' && value in STATUS_LABEL ? STATUS_LABEL[value as TaskStatus] : String(value);

const taskCode = (index: ReportIndex, id: string): Inline[] => {
  const view = index.tasks.get(id);
  return view ? taskText(view) : [code(id)];
};

/** One line of "changes since the morning", or undefined for events a person does not need to see. */
function changeText(
  index: ReportIndex,
  event: AuditEvent,
  prs: ReadonlyMap<string, MergedPr>,
): Inline[] | undefined {
  const time = `${localParts(event.at, index.timeZone).time} `;
  const subject = event.subject ?? '';
  const why = event.note?.trim() ? ` — ${event.note.trim()}` : '';
  switch (event.type) {
    case 'task.transitioned': {
      const to = event.data?.to;
      return [
        time,
        ...taskCode(index, subject),
        `: ${statusLabel(event.data?.from)} → ${to === 'done' ? '✅ done' : statusLabel(to)}${why}`,
      ];
    }
    case 'task.blocked':
      return [
        time,
        '⛔ ',
        ...taskCode(index, subject),
        ` blocked: ${event.note?.trim() || 'no reason given'}`,
      ];
    case 'task.unblocked':
      return [time, ...taskCode(index, subject), ` unblocked${why}`];
    case 'task.handed_off': {
      const to = Array.isArray(event.data?.to) ? (event.data.to as unknown[]).map(String) : [];
      return [
        time,
        '🤝 ',
        ...taskCode(index, subject),
        ' handed off to ',
        ...(to.length === 0 ? ['no tasks'] : joinRich(to.map((id) => [code(id)]))),
      ];
    }
    case 'github.pr_merged': {
      const pr = prs.get(subject);
      return pr ? [time, '🔀 merged ', ...prText(pr)] : undefined;
    }
    case 'agent.down':
    case 'agent.up':
      return [time, event.type === 'agent.down' ? '🔴 agent down' : '🟢 agent back up', why];
    case 'security.critical':
      return [time, '🔐 ', strong('Critical security alert'), `: ${event.note?.trim() || subject}`];
    case 'plan.applied':
      return [time, `📄 plan applied${why}`];
    case 'phase.activated':
    case 'phase.passed': {
      const phase = index.plan.phases.find((candidate) => candidate.id === subject);
      return [
        time,
        event.type === 'phase.passed' ? '✅ phase passed: ' : '▶️ phase started: ',
        phase?.name ?? subject,
      ];
    }
    default:
      // Activity on a task (commits, reviews, JIRA moves that did not apply): its note says what.
      return index.tasks.has(subject) && event.note?.trim()
        ? [time, ...taskCode(index, subject), `: ${event.note.trim()}`]
        : undefined;
  }
}

/** A handoff whose receiving task has not started: who handed what over, and when. */
function handoffText(index: ReportIndex, handoff: Handoff, target: TaskView): Inline[] {
  const from = index.tasks.get(handoff.task);
  const parts: Inline[] = [
    ...taskText(target),
    ' ← ',
    code(handoff.task),
    from && from.agent !== target.agent ? ` (${agentName(index, from.agent)})` : '',
    `, ${formatInstant(handoff.at, index.timeZone, index.ctx.now)}`,
  ];
  if (handoff.notes?.trim()) parts.push(` — ${handoff.notes.trim()}`);
  return parts;
}

function dueText(index: ReportIndex, view: TaskView): Inline[] {
  const parts: Inline[] = [...taskText(view), ` — ${STATUS_LABEL[view.state.status]}`];
  if (view.schedule)
    parts.push(
      `, planned finish ${formatDay(view.schedule.finish, index.today)} (${relativeWorkingDays(workingDaysBetween(index.calendar, index.today, view.schedule.finish))})`,
    );
  if (view.state.blocked) parts.push(` ⛔ blocked: ${view.state.blockedReason?.trim() || 'no reason given'}`);
  return parts;
}

/**
 * The afternoon sync: for every agent with something to say, what changed since the start of the
 * day (transitions, blockers, handoffs, merged PRs, activity), what is due next by the plan, and the
 * handoffs waiting for it (handed to one of its tasks that has not started).
 */
export function buildSync(ctx: ReportContext): ReportDocument {
  const index = indexContext(ctx);
  const since = formatInstant(ctx.since, index.timeZone, index.ctx.now);
  const prs = new Map(mergedPrs(index).map((pr) => [pr.key, pr]));

  const changes = new Map<string, Inline[][]>();
  /** Changes about no agent in particular: PRs with no plan task, security alerts, phase moves. */
  const project: Inline[][] = [];
  const counts = { finished: 0, started: 0, blocked: 0, handedOff: 0 };
  for (const event of ctx.events) {
    const at = Date.parse(event.at);
    if (at < index.sinceMs || at > index.nowMs) continue;
    if (event.type === 'task.transitioned') {
      if (event.data?.to === 'done') counts.finished++;
      else if (event.data?.to === 'in_progress' && event.data.from === 'todo') counts.started++;
    } else if (event.type === 'task.blocked') counts.blocked++;
    else if (event.type === 'task.handed_off') counts.handedOff++;
    const line = changeText(index, event, prs);
    if (!line) continue;
    const agents = eventAgents(index, event);
    if (agents.length === 0) project.push(line);
    for (const agent of agents) pushTo(changes, agent, line);
  }

  const waiting = new Map<string, Inline[][]>();
  for (const handoff of ctx.handoffs)
    for (const id of handoff.to) {
      const target = index.tasks.get(id);
      if (target?.state.status !== 'todo' || target.agent === undefined) continue;
      pushTo(waiting, target.agent, handoffText(index, handoff, target));
    }

  const agentSections: ReportSection[] = index.plan.agents.flatMap((agent) => {
    const own = index.byAgent.get(agent.id) ?? [];
    const open = own.filter((view) => view.state.status !== 'done').sort(byPlannedFinish);
    const changed = changes.get(agent.id) ?? [];
    const handoffs = waiting.get(agent.id) ?? [];
    if (open.length === 0 && changed.length === 0 && handoffs.length === 0) return [];
    const items: ListItem[] = [
      changed.length === 0
        ? listItem([strong(`Changes since ${since}:`), ' none'])
        : listItem([strong(`Changes since ${since}:`)], changed),
      open.length === 0
        ? listItem([strong('Due next:'), ' nothing open'])
        : listItem(
            [strong('Due next:')],
            open.slice(0, DUE_TASKS).map((view) => dueText(index, view)),
          ),
    ];
    if (handoffs.length > 0) items.push(listItem([strong('Handoffs waiting:')], handoffs));
    return [
      {
        id: `agent:${agent.id}`,
        heading: agent.name,
        agent: agent.id,
        blocks: [paragraph(...agentLine(index, agent.id)), { kind: 'list', items }],
      },
    ];
  });

  const summary: ReportSection = {
    id: 'summary',
    heading: 'Summary',
    blocks: [
      paragraph(...progressSummary(index)),
      paragraph(
        `Since ${since}: ${plural(counts.finished, 'task')} finished, ${counts.started} started, ` +
          `${counts.blocked} blocked, ${plural(counts.handedOff, 'handoff')}, ${plural(prs.size, 'PR')} merged.`,
      ),
      ...(project.length > 0
        ? [{ kind: 'list', items: project.map((text) => listItem(text)) } satisfies ReportBlock]
        : []),
    ],
  };
  return documentFrame(index, 'sync', [summary, ...agentSections]);
}
