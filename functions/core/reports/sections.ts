import type { AuditEvent, MetricPoint } from '../coordination/model.js';
import { type ComparisonOperator, holds, parseCondition } from '../plan/index.js';
import { type AgentStatusView, doneInPeriod, type ReportIndex, type TaskView } from './context.js';
import { formatDay, formatInstant, formatInstantsIn, localDate } from './dates.js';
import type {
  Inline,
  ListItem,
  ReportBlock,
  ReportDocument,
  ReportKind,
  ReportSection,
  RichText,
  TableRow,
} from './model.js';
import {
  agentName,
  code,
  days,
  joinRich,
  link,
  mention,
  metricValue,
  ownerOf,
  percent,
  plural,
  RISK_LABEL,
  signed,
  strong,
  taskText,
} from './text.js';

/** The parts more than one report shares: the document frame, summaries, blockers, metrics, escalations. */

const TITLES: Record<ReportKind, string> = {
  standup: 'Standup',
  sync: 'Agent sync',
  report: 'Daily status report',
  'weekly-summary': 'Weekly summary',
};

const PREVIOUS: Record<ReportKind, string> = {
  standup: 'since the last standup',
  sync: 'since the start of the day',
  report: 'since the last report',
  'weekly-summary': 'since the last summary',
};

export function documentFrame(
  index: ReportIndex,
  kind: ReportKind,
  sections: readonly ReportSection[],
): ReportDocument {
  const { ctx, plan } = index;
  const mentioned = new Set(sections.flatMap((section) => agentsIn(section)));
  return {
    kind,
    title: `${TITLES[kind]} · ${formatDay(index.today, index.today)}`,
    project: { id: plan.project.id, name: plan.project.name, timezone: index.timeZone },
    planVersion: ctx.stored.version,
    generatedAt: ctx.now.toISOString(),
    period: {
      since: ctx.since.toISOString(),
      until: ctx.now.toISOString(),
      label: `${PREVIOUS[kind]}, ${formatInstant(ctx.since, index.timeZone, index.ctx.now)}`,
    },
    agents: plan.agents
      .filter((agent) => mentioned.has(agent.id))
      .map((agent) => ({
        id: agent.id,
        name: agent.name,
        ...(agent.channel ? { channel: agent.channel } : {}),
      })),
    sections: sections.filter((section) => section.blocks.length > 0),
  };
}

/** Every agent a section says something about. */
export function agentsIn(section: ReportSection): string[] {
  const ids: string[] = section.agent ? [section.agent] : [];
  for (const block of section.blocks) {
    if (block.agent) ids.push(block.agent);
    if (block.kind === 'list') for (const item of block.items) if (item.agent) ids.push(item.agent);
    if (block.kind === 'table') for (const row of block.rows) if (row.agent) ids.push(row.agent);
  }
  return ids;
}

export const paragraph = (...text: Inline[]): ReportBlock => ({ kind: 'paragraph', text });
export const note = (...text: Inline[]): ReportBlock => ({ kind: 'note', text });

/** `Working day 11 of 32 planned`, `Working day 242, 210 working days past the 32 planned`, or when it starts. */
export function dayOfPlan(index: ReportIndex): string {
  const planned = index.calendar.offsetOf(index.analysis.finish) + 1;
  if (index.todayOffset < 0) return `Starts ${formatDay(index.calendar.start, index.today)}`;
  const day = index.todayOffset + 1;
  if (day > planned)
    return `Working day ${day}, ${plural(day - planned, 'working day')} past the ${planned} planned`;
  return `Working day ${day} of ${planned} planned`;
}

/** The headline numbers: progress, blockers, agents down, active phases. */
export function progressSummary(index: ReportIndex): Inline[] {
  let done = 0;
  let doneMinutes = 0;
  let totalMinutes = 0;
  let blocked = 0;
  for (const view of index.ordered) {
    totalMinutes += view.minutes;
    if (view.state.status === 'done') {
      done++;
      doneMinutes += view.minutes;
    }
    if (view.state.blocked) blocked++;
  }
  const down = index.ctx.status.agents.filter((agent) => agent.status === 'down');
  const active = index.plan.phases.filter((phase) => index.phaseStatus(phase.id) === 'active');
  const parts: Inline[] = [
    `${dayOfPlan(index)} · `,
    strong(`${done} of ${plural(index.ordered.length, 'task')} done`),
    ` (${days(doneMinutes / 480)} of ${days(totalMinutes / 480)}, ${percent(doneMinutes, totalMinutes)}%)`,
    ` · ${blocked === 0 ? 'nothing blocked' : `⛔ ${blocked} blocked`}`,
  ];
  if (down.length > 0) parts.push(` · 🔴 ${plural(down.length, 'agent')} down`);
  parts.push(` · active: ${active.length === 0 ? 'none' : active.map((phase) => phase.name).join(', ')}`);
  return parts;
}

/** `🟡 yellow · active · 40% of its work done · owner Backend Engineer 1`, and the agent's note. */
export function agentLine(index: ReportIndex, id: string): Inline[] {
  const status = index.agentStatus.get(id);
  const agent = index.agents.get(id);
  const parts: Inline[] = [];
  if (status) {
    parts.push(`${RISK_LABEL[status.risk]} · ${status.status}`);
    if (status.status === 'down' && status.lastHeartbeat)
      parts.push(` (last heartbeat ${formatInstant(status.lastHeartbeat, index.timeZone, index.ctx.now)})`);
    parts.push(` · ${status.completion}% of its work done`);
  }
  const owner = ownerOf(index, agent);
  if (owner) parts.push(' · owner ', owner);
  const reported = index.ctx.snapshot.agents.get(id)?.note;
  if (reported?.trim()) parts.push(` · “${reported.trim()}”`);
  return parts;
}

/** The tasks an agent finished within the report's period. */
export function finishedInPeriod(index: ReportIndex, own: readonly TaskView[]): TaskView[] {
  return own
    .filter((view) => doneInPeriod(index, view))
    .sort((a, b) => (a.doneMs ?? 0) - (b.doneMs ?? 0) || a.order - b.order);
}

/** Every blocked task with its reason, agent and the agent's owner; rows belong to their agent. */
export function blockedTable(index: ReportIndex): ReportBlock {
  const rows: TableRow[] = index.ordered
    .filter((view) => view.state.blocked)
    .map((view) => {
      const agent = view.agent === undefined ? undefined : index.agents.get(view.agent);
      return {
        ...(view.agent === undefined ? {} : { agent: view.agent }),
        cells: [
          taskText(view),
          [agentName(index, view.agent)],
          [ownerOf(index, agent) ?? '–'],
          [view.state.blockedReason?.trim() || 'no reason given'],
        ],
      };
    });
  return rows.length === 0
    ? paragraph('Nothing is blocked.')
    : {
        kind: 'table',
        columns: [{ label: 'Task' }, { label: 'Agent' }, { label: 'Owner' }, { label: 'Reason' }],
        rows,
      };
}

/** One row per agent: status, risk, progress, current task, blockers. */
export function agentsTable(index: ReportIndex, agents: readonly AgentStatusView[]): ReportBlock {
  return {
    kind: 'table',
    columns: [
      { label: 'Agent' },
      { label: 'Status' },
      { label: 'Risk' },
      { label: 'Done', align: 'right' },
      { label: 'Working on' },
      { label: 'Blocked', align: 'right' },
    ],
    rows: agents.map((agent) => {
      const current = agent.currentTask ? index.tasks.get(agent.currentTask) : undefined;
      return {
        agent: agent.id,
        cells: [
          [agent.name],
          [agent.status === 'down' ? '🔴 down' : agent.status],
          [RISK_LABEL[agent.risk]],
          [`${agent.completion}%`],
          current ? [code(current.task.id)] : ['–'],
          [agent.blockers.length === 0 ? '–' : String(agent.blockers.length)],
        ],
      };
    }),
  };
}

// Metrics.

interface Target {
  readonly op: ComparisonOperator;
  readonly value: number;
  readonly text: string;
}

const OP_TEXT: Record<ComparisonOperator, string> = {
  '<': '<',
  '<=': '≤',
  '>': '>',
  '>=': '≥',
  '==': '=',
  '!=': '≠',
};

/** The `go` bound of each metric, from the gates of the active phases first, then the others. */
function metricTargets(index: ReportIndex): Map<string, Target> {
  const targets = new Map<string, Target>();
  const activeGates = new Set(
    index.plan.phases.filter((phase) => index.phaseStatus(phase.id) === 'active').map((phase) => phase.gate),
  );
  const gates = [...index.plan.gates].sort(
    (a, b) => Number(activeGates.has(b.id)) - Number(activeGates.has(a.id)),
  );
  for (const gate of gates)
    for (const criterion of gate.criteria) {
      const condition = parseCondition(criterion.go);
      if (!targets.has(condition.metric))
        targets.set(condition.metric, {
          op: condition.op,
          value: condition.value,
          text: `${OP_TEXT[condition.op]} ${metricValue(condition.value)}`,
        });
    }
  return targets;
}

const SPARKS = '▁▂▃▄▅▆▇█';
const SPARK_DAYS = 14;

/** The last value of each of the last 14 days with points, as a sparkline. */
function sparkline(points: readonly MetricPoint[], timeZone: string): string {
  const daily: number[] = [];
  let lastDay = '';
  for (const point of points) {
    const day = localDate(point.at, timeZone);
    if (day === lastDay) daily[daily.length - 1] = point.value;
    else daily.push(point.value);
    lastDay = day;
  }
  const shown = daily.slice(-SPARK_DAYS);
  if (shown.length < 2) return '';
  const low = Math.min(...shown);
  const high = Math.max(...shown);
  return shown
    .map((value) =>
      high === low ? SPARKS[3] : SPARKS[Math.round(((value - low) / (high - low)) * (SPARKS.length - 1))],
    )
    .join('');
}

export interface MetricTrend {
  readonly name: string;
  readonly latest: MetricPoint;
  /** The value the trend compares with: the last one before `since`, else the oldest in the history. */
  readonly previous?: MetricPoint;
  readonly direction: 'up' | 'down' | 'flat' | 'new';
}

const ARROWS = { up: '↑', down: '↓', flat: '→', new: '·' } as const;

/** The latest value and trend of every metric there is a value or a history for. */
export function metricTrends(index: ReportIndex): MetricTrend[] {
  const { snapshot, metricHistory } = index.ctx;
  const names = [...new Set([...snapshot.metrics.keys(), ...metricHistory.keys()])].sort();
  return names.flatMap((name) => {
    const history = metricHistory.get(name) ?? [];
    const latest = snapshot.metrics.get(name) ?? history[history.length - 1];
    if (!latest) return [];
    const latestMs = Date.parse(latest.at);
    let previous: MetricPoint | undefined;
    for (const point of history) {
      const at = Date.parse(point.at);
      if (at < index.sinceMs && at < latestMs) previous = point;
    }
    const first = history[0];
    if (!previous && first && Date.parse(first.at) < latestMs) previous = first;
    const direction = !previous
      ? 'new'
      : latest.value > previous.value
        ? 'up'
        : latest.value < previous.value
          ? 'down'
          : 'flat';
    return [{ name, latest, ...(previous ? { previous } : {}), direction }];
  });
}

export function metricsTable(index: ReportIndex): ReportBlock {
  const trends = metricTrends(index);
  if (trends.length === 0) return paragraph('No metrics have been reported yet.');
  const targets = metricTargets(index);
  return {
    kind: 'table',
    columns: [
      { label: 'Metric' },
      { label: 'Latest', align: 'right' },
      { label: 'Trend', align: 'center' },
      { label: 'Change', align: 'right' },
      { label: 'Last days' },
      { label: 'Target' },
    ],
    rows: trends.map((trend) => {
      const target = targets.get(trend.name);
      const met = target
        ? holds({ metric: trend.name, op: target.op, value: target.value, text: '' }, trend.latest.value)
        : undefined;
      return {
        cells: [
          [code(trend.name)],
          [metricValue(trend.latest.value)],
          [ARROWS[trend.direction]],
          [trend.previous ? signed(trend.latest.value - trend.previous.value) : 'new'],
          [sparkline(index.ctx.metricHistory.get(trend.name) ?? [], index.timeZone) || '–'],
          [target ? `${met ? '✅' : '❌'} ${target.text}` : '–'],
        ],
      };
    }),
  };
}

// Escalations: the escalation engine owns their shape; these are the fields a report shows.

export interface EscalationView {
  readonly rule: string;
  readonly subject?: string;
  /** The agent it is about, when there is one. */
  readonly agent?: string;
  /** Who acknowledged it: someone is on it. */
  readonly acknowledgedBy?: string;
  readonly level?: number;
  readonly openedAt?: string;
  readonly note?: string;
  readonly notify: readonly string[];
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/**
 * Reads an open escalation (the escalation engine's `Escalation`, or anything shaped like it): `rule`
 * (or `ruleId`/`id`), `subject`, `agent`, `level`, `openedAt` (or `at`/`since`/`createdAt`), why
 * (`reason`/`note`/`summary`/`message`), the people notified (`targets`/`notify`/`notified`, person
 * ids) and `acknowledgedBy`.
 */
export function readEscalation(value: unknown): EscalationView | undefined {
  if (typeof value === 'string') return value.trim() ? { rule: value.trim(), notify: [] } : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const rule = text(record.rule) ?? text(record.ruleId) ?? text(record.id);
  if (!rule) return undefined;
  const subject = text(record.subject);
  const openedAt = text(record.openedAt) ?? text(record.at) ?? text(record.since) ?? text(record.createdAt);
  const note = text(record.reason) ?? text(record.note) ?? text(record.summary) ?? text(record.message);
  const notify = [record.targets, record.notify, record.notified].find(Array.isArray) as
    | unknown[]
    | undefined;
  const agent = text(record.agent);
  const acknowledgedBy = text(record.acknowledgedBy);
  return {
    rule,
    ...(subject ? { subject } : {}),
    ...(agent ? { agent } : {}),
    ...(acknowledgedBy ? { acknowledgedBy } : {}),
    ...(typeof record.level === 'number' ? { level: record.level } : {}),
    ...(openedAt && !Number.isNaN(Date.parse(openedAt)) ? { openedAt } : {}),
    ...(note ? { note } : {}),
    notify: (notify ?? []).filter((target): target is string => typeof target === 'string'),
  };
}

export function escalationsBlock(index: ReportIndex): ReportBlock {
  const open = index.ctx.status.escalations.flatMap((value) => {
    const view = readEscalation(value);
    return view ? [view] : [];
  });
  if (open.length === 0) return paragraph('No open escalations.');
  const rules = new Map(index.plan.escalations.map((rule) => [rule.id, rule]));
  const items: ListItem[] = open.map((escalation) => {
    const rule = rules.get(escalation.rule);
    const parts: Inline[] = ['🚨 ', strong(rule?.name ?? escalation.rule)];
    if (escalation.subject) parts.push(' on ', code(escalation.subject));
    if (escalation.level !== undefined) parts.push(` · level ${escalation.level}`);
    if (escalation.openedAt)
      parts.push(` · open since ${formatInstant(escalation.openedAt, index.timeZone, index.ctx.now)}`);
    if (escalation.notify.length > 0)
      parts.push(
        ' · notified ',
        ...joinRich(escalation.notify.map((id) => [mention(index.people.get(id), id)])),
      );
    if (escalation.acknowledgedBy) parts.push(` · acknowledged by ${escalation.acknowledgedBy}`);
    if (escalation.note) parts.push(` — ${formatInstantsIn(escalation.note, index.timeZone, index.ctx.now)}`);
    const agent =
      escalation.agent && index.agents.has(escalation.agent)
        ? escalation.agent
        : escalation.subject && index.agents.has(escalation.subject)
          ? escalation.subject
          : undefined;
    return { text: parts, ...(agent ? { agent } : {}) };
  });
  return { kind: 'list', items };
}

// Events.

/**
 * The agents an audit event is about: `data.agent`, else the agent of its subject (a task or an
 * agent itself) and of the tasks it names (`data.tasks` of a PR, `data.to` of a handoff).
 */
export function eventAgents(index: ReportIndex, event: AuditEvent): string[] {
  const data = event.data ?? {};
  if (typeof data.agent === 'string' && index.agents.has(data.agent)) return [data.agent];
  const agents = new Set<string>();
  const subject = event.subject === undefined ? undefined : index.tasks.get(event.subject);
  if (subject) {
    if (subject.agent !== undefined) agents.add(subject.agent);
  } else if (event.subject !== undefined && index.agents.has(event.subject)) agents.add(event.subject);
  // A PR's tasks, or the tasks a handoff goes to: their agents hear about it too.
  for (const list of [data.tasks, data.to])
    if (Array.isArray(list))
      for (const id of list) {
        const view = typeof id === 'string' ? index.tasks.get(id) : undefined;
        if (view?.agent !== undefined) agents.add(view.agent);
      }
  return [...agents];
}

export interface MergedPr {
  readonly key: string;
  readonly repository: string;
  readonly number: number;
  readonly title: string;
  readonly url?: string;
  readonly tasks: readonly string[];
  readonly at: string;
}

/** `github.pr_merged` events of the period, once per pull request. */
export function mergedPrs(index: ReportIndex): MergedPr[] {
  const seen = new Set<string>();
  const prs: MergedPr[] = [];
  for (const event of index.ctx.events) {
    if (event.type !== 'github.pr_merged') continue;
    const at = Date.parse(event.at);
    if (at < index.sinceMs || at > index.nowMs) continue;
    const data = event.data ?? {};
    const repository =
      typeof data.repository === 'string' ? data.repository : (event.subject?.split('#')[0] ?? '');
    const number = typeof data.number === 'number' ? data.number : Number(event.subject?.split('#')[1]);
    const key = event.subject ?? `${repository}#${number}`;
    if (seen.has(key)) continue;
    seen.add(key);
    prs.push({
      key,
      repository,
      number,
      title: typeof data.title === 'string' ? data.title : (event.note ?? ''),
      ...(typeof data.url === 'string' ? { url: data.url } : {}),
      tasks: Array.isArray(data.tasks) ? data.tasks.filter((id): id is string => typeof id === 'string') : [],
      at: event.at,
    });
  }
  return prs;
}

/** `repo#12` linked to the PR when there is a URL, then its title. */
export function prText(pr: MergedPr): Inline[] {
  const label = `${pr.repository}#${pr.number}`;
  return [pr.url && /^https?:\/\//.test(pr.url) ? link(label, pr.url) : code(label), ` ${pr.title}`];
}

export function prTable(index: ReportIndex, prs: readonly MergedPr[]): ReportBlock {
  return {
    kind: 'table',
    columns: [{ label: 'Pull request' }, { label: 'Title' }, { label: 'Tasks' }, { label: 'Merged' }],
    rows: prs.map((pr) => {
      const label = `${pr.repository}#${pr.number}`;
      return {
        cells: [
          [pr.url && /^https?:\/\//.test(pr.url) ? link(label, pr.url) : code(label)],
          [pr.title],
          pr.tasks.length === 0 ? ['–'] : joinRich(pr.tasks.map((id) => [code(id)])),
          [formatInstant(pr.at, index.timeZone, index.ctx.now)],
        ],
      };
    }),
  };
}

/** Appends to the list under `key`, creating it: grouping without copying. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export const listItem = (text: RichText, items?: readonly RichText[], agent?: string): ListItem => ({
  text,
  ...(items && items.length > 0 ? { items } : {}),
  ...(agent ? { agent } : {}),
});
