import { type BurndownSeries, buildBurndown } from './burndown.js';
import { openConflictsSection } from './conflicts.js';
import { indexContext, type ReportIndex } from './context.js';
import { formatDay, formatInstant } from './dates.js';
import type { Inline, ListItem, ReportBlock, ReportContext, ReportDocument, ReportSection } from './model.js';
import {
  agentsTable,
  blockedTable,
  documentFrame,
  escalationsBlock,
  eventAgents,
  metricsTable,
  paragraph,
  progressSummary,
} from './sections.js';
import { code, days, percent, plural } from './text.js';
import { unverifiedSection } from './verification.js';

/** CI conclusions that count as failures, as the GitHub integration counts them. */
const FAILED_BUILDS = new Set(['failure', 'timed_out', 'startup_failure']);

export function burndownOf(index: ReportIndex): BurndownSeries {
  return buildBurndown({
    plan: index.plan,
    tasks: index.ctx.snapshot.tasks,
    now: index.ctx.now,
    analysis: index.analysis,
    calendar: index.calendar,
  });
}

/**
 * `Remaining 86d of 120d against 70.3d on the ideal line: 15.7d of work behind.` The gap is work
 * (estimate-days, summed over every agent), not calendar time: the burndown counts work done on a
 * weekend for the working day before it, so on a Sunday it holds everything done so far.
 */
export function burndownText(series: BurndownSeries): Inline[] {
  const gap = series.remaining - series.ideal;
  const verdict =
    Math.abs(gap) < 0.05
      ? 'on the line'
      : gap > 0
        ? `${days(gap)} of work behind`
        : `${days(-gap)} of work ahead`;
  return [
    `Remaining ${days(series.remaining)} of ${days(series.total)} against ${days(series.ideal)} on the ideal line: `,
    { kind: 'strong', text: verdict },
    `. Planned finish ${formatDay(series.plannedFinish, series.today)}.`,
  ];
}

export function burndownChart(series: BurndownSeries): ReportBlock {
  return {
    kind: 'chart',
    chart: 'burndown',
    title: 'Burndown',
    alt: `Burndown from ${formatDay(series.start, series.today)} to ${formatDay(series.points[series.points.length - 1]?.date ?? series.plannedFinish, series.today)}: remaining ${days(series.remaining)} against ${days(series.ideal)} on the ideal line (total ${days(series.total)}, planned finish ${formatDay(series.plannedFinish, series.today)}).`,
    series,
  };
}

function phaseTable(index: ReportIndex): ReportBlock {
  const stats = new Map(
    index.plan.phases.map((phase) => [
      phase.id,
      { done: 0, working: 0, review: 0, blocked: 0, total: 0, minutes: 0, doneMinutes: 0 },
    ]),
  );
  for (const view of index.ordered) {
    const entry = stats.get(view.phase.id);
    if (!entry) continue;
    entry.total++;
    entry.minutes += view.minutes;
    if (view.state.status === 'done') {
      entry.done++;
      entry.doneMinutes += view.minutes;
    } else if (view.state.status === 'in_progress') entry.working++;
    else if (view.state.status === 'in_review') entry.review++;
    if (view.state.blocked) entry.blocked++;
  }
  return {
    kind: 'table',
    columns: [
      { label: 'Phase' },
      { label: 'Status' },
      { label: 'Done', align: 'right' },
      { label: 'In progress', align: 'right' },
      { label: 'Blocked', align: 'right' },
      { label: 'Left', align: 'right' },
      { label: 'Due' },
      { label: 'Planned finish' },
    ],
    rows: index.plan.phases.map((phase) => {
      const entry = stats.get(phase.id) as NonNullable<ReturnType<typeof stats.get>>;
      const schedule = index.analysis.phases[phase.id];
      return {
        cells: [
          [phase.name],
          [index.phaseStatus(phase.id)],
          [`${entry.done}/${entry.total} (${percent(entry.doneMinutes, entry.minutes)}%)`],
          [`${entry.working + entry.review}${entry.review > 0 ? ` (${entry.review} in review)` : ''}`],
          [entry.blocked === 0 ? '–' : `⛔ ${entry.blocked}`],
          [days((entry.minutes - entry.doneMinutes) / 480)],
          [phase.due ? formatDay(phase.due, index.today) : '–'],
          [schedule ? formatDay(schedule.finish, index.today) : '–'],
        ],
      };
    }),
  };
}

/** Builds, security alerts, phase moves and plan changes of the period. */
function happenings(index: ReportIndex): ReportBlock {
  let builds = 0;
  let failed = 0;
  const items: ListItem[] = [];
  const phases = new Map(index.plan.phases.map((phase) => [phase.id, phase.name]));
  for (const event of index.ctx.events) {
    const at = Date.parse(event.at);
    if (at < index.sinceMs || at > index.nowMs) continue;
    // Only the events listed are written out: most of a busy day's are builds, counted.
    const when = () => formatInstant(event.at, index.timeZone, index.ctx.now);
    switch (event.type) {
      case 'build.finished':
        builds++;
        if (FAILED_BUILDS.has(String(event.data?.conclusion ?? ''))) failed++;
        break;
      case 'security.critical':
        items.push({
          text: [
            '🔐 ',
            { kind: 'strong', text: 'Critical security alert' },
            `, ${when()}: ${event.note ?? event.subject ?? ''}`,
          ],
        });
        break;
      case 'phase.activated':
      case 'phase.passed':
        items.push({
          text: [
            event.type === 'phase.passed' ? '✅ Phase passed: ' : '▶️ Phase started: ',
            phases.get(event.subject ?? '') ?? event.subject ?? '',
            `, ${when()}`,
          ],
        });
        break;
      case 'plan.applied':
        items.push({ text: [`📄 Plan applied (${event.note ?? 'new version'}), ${when()}`] });
        break;
      case 'agent.down': {
        const [agent] = eventAgents(index, event);
        items.push({
          text: [
            '🔴 Agent down: ',
            index.agents.get(agent ?? '')?.name ?? event.subject ?? '',
            `, ${when()}`,
          ],
          ...(agent ? { agent } : {}),
        });
        break;
      }
      default:
        break;
    }
  }
  if (builds > 0)
    items.unshift({
      text: [
        `🏗️ Builds: ${plural(builds, 'run')} finished, ${failed} failed (${percent(failed, builds)}%)`,
        ...(index.ctx.snapshot.metrics.get('build.failure_rate')
          ? [
              '; 7-day ',
              code('build.failure_rate'),
              ` ${percent(index.ctx.snapshot.metrics.get('build.failure_rate')?.value ?? 0, 1)}%`,
            ]
          : []),
      ],
    });
  return items.length === 0 ? paragraph('No builds, alerts or phase changes.') : { kind: 'list', items };
}

/**
 * The daily status report: progress per phase, the burndown (chart and numbers), every agent's
 * state, blocked items with their reasons, the latest value and trend of every metric, what
 * happened since the last report (builds, security alerts, phase moves), and open escalations.
 */
export function buildDailyReport(ctx: ReportContext): ReportDocument {
  const index = indexContext(ctx);
  const series = burndownOf(index);
  const sections: ReportSection[] = [
    {
      id: 'summary',
      heading: 'Summary',
      blocks: [paragraph(...progressSummary(index)), paragraph(...burndownText(series))],
    },
    { id: 'phases', heading: 'Progress by phase', blocks: [phaseTable(index)] },
    { id: 'burndown', heading: 'Burndown', blocks: [burndownChart(series)] },
    { id: 'agents', heading: 'Agents', blocks: [agentsTable(index, ctx.status.agents)] },
    { id: 'blocked', heading: 'Blocked', blocks: [blockedTable(index)] },
    { id: 'metrics', heading: 'Metrics', blocks: [metricsTable(index)] },
    { id: 'events', heading: 'Since the last report', blocks: [happenings(index)] },
    { id: 'escalations', heading: 'Open escalations', blocks: [escalationsBlock(index)] },
  ];
  // Done claims without their evidence (#15): only when there are any.
  const unverified = unverifiedSection(index);
  if (unverified) sections.push(unverified);
  // Pushes into another agent's leased or owned files, still unresolved (#15).
  const conflicts = openConflictsSection(index);
  if (conflicts) sections.push(conflicts);
  return documentFrame(index, 'report', sections);
}
