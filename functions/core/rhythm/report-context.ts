import type { CoordinationPorts } from '../coordination/commands.js';
import type { AuditEvent, MetricPoint } from '../coordination/model.js';
import { computeStatus } from '../coordination/status.js';
import { NotFoundError } from '../errors.js';
import { summarizeEscalation } from '../escalations/service.js';
import { openConflicts } from '../integrations/conflicts.js';
import type { Plan } from '../plan/index.js';
import type { ReportContext, ReportKind } from '../reports/model.js';
import { instantsAt, localTime, previousFireTime } from '../schedules/index.js';

/** How far back the history of metrics and handoffs a report shows reaches. */
export const HISTORY_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Events are read a page at a time; a report looks at no more than this many (the newest). */
const MAX_EVENTS = 20_000;
const EVENT_PAGE = 1_000;

/**
 * Where a report starts looking: a standup at the previous standup, a sync at the start of today,
 * a report or weekly summary at its previous run. With a schedule, its previous fire time; without
 * one (`convoy report` on demand), the latest run of the plan's first schedule of that job, else a
 * day (a week for the weekly summary) back.
 */
export function reportSince(plan: Plan, kind: ReportKind, at: Date, scheduleId?: string): Date {
  const { timezone } = plan.project;
  if (kind === 'sync') {
    const [midnight] = instantsAt(localTime(at, timezone).date, '00:00', timezone);
    if (midnight) return midnight;
  }
  const schedule =
    plan.schedules.find((candidate) => candidate.id === scheduleId) ??
    plan.schedules.find((candidate) => candidate.job === kind);
  const previous = schedule ? previousFireTime(plan, schedule, at) : undefined;
  return previous ?? new Date(at.getTime() - (kind === 'weekly-summary' ? 7 : 1) * DAY_MS);
}

/**
 * Reads what a report is computed from, in a bounded number of queries whatever the plan's size:
 * one for the project's state, the events since `since` a page of 1,000 at a time, one for the
 * handoffs, and one per metric for its history.
 */
export async function loadReportContext(
  ports: CoordinationPorts,
  input: { project: string; kind?: ReportKind; since: Date; now: Date; escalations?: unknown[] },
): Promise<ReportContext> {
  const { project, since, now } = input;
  // A standup shows no metrics or handoffs, a sync no metrics: what a report does not show is not read.
  const needsMetrics = input.kind === undefined || input.kind === 'report' || input.kind === 'weekly-summary';
  const needsHandoffs = input.kind !== 'standup';
  const historyStart = new Date(now.getTime() - HISTORY_DAYS * DAY_MS).toISOString();
  // Read together: only the metric histories wait for the snapshot, which names the metrics.
  const reading = ports.store.snapshot(project);
  // Open conflicts are older than the period at times: the standup and the report read them apart.
  const needsConflicts = input.kind === undefined || input.kind === 'standup' || input.kind === 'report';
  const [snapshot, events, handoffs, histories, unresolved, conflicts] = await Promise.all([
    reading,
    eventsSince(ports, project, since.toISOString()),
    needsHandoffs ? ports.store.listHandoffs(project, historyStart) : [],
    needsMetrics
      ? reading.then((read) =>
          Promise.all(
            [...(read?.metrics.keys() ?? [])].map(
              async (name) => [name, await ports.store.metricHistory(project, name, historyStart)] as const,
            ),
          ),
        )
      : [],
    input.escalations ? undefined : ports.escalations?.unresolvedEscalations(project),
    needsConflicts ? openConflicts(ports, project, now) : undefined,
  ]);
  if (!snapshot) throw new NotFoundError(`project ${project} has no plan`);
  const escalations =
    input.escalations ??
    (unresolved ?? []).sort((a, b) => a.openedAt.localeCompare(b.openedAt)).map(summarizeEscalation);
  return {
    stored: snapshot.plan,
    snapshot,
    status: computeStatus(snapshot, now, escalations),
    now,
    since,
    events,
    handoffs,
    metricHistory: new Map<string, readonly MetricPoint[]>(histories),
    ...(conflicts ? { openConflicts: conflicts } : {}),
  };
}

async function eventsSince(ports: CoordinationPorts, project: string, since: string): Promise<AuditEvent[]> {
  const newestFirst: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await ports.store.listEvents(project, {
      since,
      limit: EVENT_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    newestFirst.push(...page.events);
    cursor = page.cursor;
  } while (cursor && newestFirst.length < MAX_EVENTS);
  return newestFirst.reverse();
}
