import type { CoordinationPorts } from '../coordination/commands.js';
import { reviewGates } from '../gates/service.js';
import type { GateWorkflow } from '../gates/workflow.js';
import type { ChartAttachment, OutboxCommand } from '../integrations/model.js';
import type { Plan, Schedule } from '../plan/index.js';
import type { ChartArchive, ChatMessage, GateStore, OnceOptions, RunOnce } from '../ports.js';
import { seedFrom } from '../reports/forecast.js';
import { buildReport, forAgent } from '../reports/index.js';
import type { ReportBlock, ReportDocument, ReportKind } from '../reports/model.js';
import { isScheduledRun, localTime } from '../schedules/index.js';
import { loadReportContext, reportSince } from './report-context.js';

/** Renders a report for Slack and draws its chart: adapters the job is given. */
export interface ReportRenderer {
  message(document: ReportDocument): ChatMessage;
  /**
   * Draws a chart as PNG. Absent where nobody can see the pictures (`convoy simulate`, which prints
   * text): the report's post still names its chart, but none is drawn or archived.
   */
  chart?(block: Extract<ReportBlock, { kind: 'chart' }>): Promise<Uint8Array>;
}

export interface JobPorts extends CoordinationPorts {
  /** Runs each fire time of a schedule once. */
  readonly once: RunOnce;
  readonly charts: ChartArchive;
  readonly reports: ReportRenderer;
  /** Gate state; with `workflow`, what a gate-review job needs to start the gates it reviews. */
  readonly gates?: GateStore;
  readonly workflow?: GateWorkflow;
}

export type JobOutcome =
  | {
      readonly ran: true;
      readonly job: Schedule['job'];
      readonly posts: number;
      readonly chart?: string;
      readonly gatesStarted?: number;
    }
  | { readonly ran: false; readonly reason: string };

/**
 * A job that has not finished within 15 minutes (the Lambda's limit) may be run again by a retry; its
 * record is kept long enough for any retry of Scheduler (24 h at most) and a duplicate delivery.
 */
const ONCE: OnceOptions = { scope: 'job', holdSeconds: 15 * 60, keepSeconds: 8 * 24 * 60 * 60 };

const REPORT_JOBS: ReadonlySet<string> = new Set<ReportKind>(['standup', 'sync', 'report', 'weekly-summary']);

/**
 * Runs one scheduled job for the time its schedule fired (`scheduledTime`), once: a second
 * invocation for the same schedule and time (Scheduler's at-least-once delivery, a Lambda retry)
 * finds the first one's record and does nothing. Two regions must not both run schedules: each
 * region's replica of the global table would accept its own claim before replication, which is why
 * only the active region's schedules are enabled (docs/operations.md). Holidays, non-working days and `every` are
 * checked here, since the cron only knows weekdays. A job that fails keeps no record, so the
 * scheduler's retry can run it.
 */
export async function runScheduledJob(
  ports: JobPorts,
  input: { project: string; schedule: string; scheduledTime: string },
): Promise<JobOutcome> {
  const scheduledTime = new Date(input.scheduledTime);
  if (Number.isNaN(scheduledTime.getTime()))
    return {
      ran: false,
      reason: `scheduledTime ${JSON.stringify(input.scheduledTime)} is not an ISO 8601 time`,
    };
  const stored = await ports.store.currentPlan(input.project);
  if (!stored) return { ran: false, reason: `project ${input.project} has no plan` };
  const { plan } = stored;
  const schedule = plan.schedules.find((candidate) => candidate.id === input.schedule);
  if (!schedule)
    return {
      ran: false,
      reason: `the plan of ${input.project} has no schedule ${input.schedule} any more; redeploy to remove it`,
    };
  const decision = isScheduledRun(plan, schedule, scheduledTime);
  if (!decision.run) return { ran: false, reason: decision.reason };

  const key = `job:${input.project}:${schedule.id}:${scheduledTime.toISOString()}`;
  // A second delivery while the first runs fails (RunInProgressError),
  // so the scheduler retries it later and then finds the outcome.
  const { outcome, replayed } = await ports.once.run(ONCE, key, '', () =>
    perform(ports, { plan, schedule, scheduledTime, key }),
  );
  return replayed
    ? { ran: false, reason: `${schedule.id} already ran for ${scheduledTime.toISOString()}` }
    : outcome;
}

async function perform(
  ports: JobPorts,
  job: { plan: Plan; schedule: Schedule; scheduledTime: Date; key: string },
): Promise<JobOutcome> {
  const { plan, schedule, scheduledTime, key } = job;
  const project = plan.project.id;
  if (schedule.job === 'gate-review') {
    if (!ports.gates || !ports.workflow)
      throw new Error('this runtime has no gate workflow: the gate review cannot start any gate');
    const started = await reviewGates(
      { ...ports, gates: ports.gates },
      project,
      localTime(scheduledTime, plan.project.timezone).date,
    );
    return { ran: true, job: schedule.job, posts: 0, gatesStarted: started };
  }
  if (!REPORT_JOBS.has(schedule.job)) return { ran: false, reason: `unknown job ${schedule.job}` };
  const kind = schedule.job as ReportKind;
  const document = await produceReport(ports, {
    project,
    kind,
    since: reportSince(plan, kind, scheduledTime, schedule.id),
    seed: seedFrom(key),
  });
  const chart = await keepChart(ports, project, document);
  const channel = schedule.channel ?? plan.integrations.slack?.channel;
  const posts: { id: string; project: string; command: OutboxCommand }[] = [];
  const post = (to: string, message: ChatMessage, attachment?: ChartAttachment) => {
    const postKey = `${key}:${to}`;
    posts.push({
      id: `slack:${postKey}`,
      project,
      command: {
        kind: 'slack',
        channel: to,
        key: postKey,
        message,
        ...(attachment ? { chart: attachment } : {}),
      },
    });
  };
  if (channel) post(channel, ports.reports.message(document), chart);
  for (const agent of document.agents) {
    if (!agent.channel || agent.channel === channel) continue;
    const part = forAgent(document, agent.id);
    if (part) post(agent.channel, ports.reports.message(part));
  }
  if (posts.length > 0) {
    if (!ports.outbox) throw new Error('this runtime has no outbox to post the report through');
    await ports.outbox.enqueue(posts, ports.clock.now());
  }
  return { ran: true, job: schedule.job, posts: posts.length, ...(chart ? { chart: chart.at } : {}) };
}

/** Builds a report from the state as it is now, looking back to `since`. */
export async function produceReport(
  ports: CoordinationPorts,
  input: { project: string; kind: ReportKind; since: Date; seed?: number },
): Promise<ReportDocument> {
  const now = ports.clock.now();
  const context = await loadReportContext(ports, {
    project: input.project,
    kind: input.kind,
    since: input.since,
    now,
  });
  return buildReport(input.kind, context, input.seed === undefined ? {} : { seed: input.seed });
}

/** Draws the report's chart, keeps it in the archive and says how to share it with the report. */
async function keepChart(
  ports: JobPorts,
  project: string,
  document: ReportDocument,
): Promise<ChartAttachment | undefined> {
  const block = document.sections
    .flatMap((section) => section.blocks)
    .find((candidate): candidate is Extract<ReportBlock, { kind: 'chart' }> => candidate.kind === 'chart');
  if (!block) return undefined;
  const at = document.generatedAt;
  if (ports.reports.chart)
    await ports.charts.saveChart(project, block.chart, { at, png: await ports.reports.chart(block) });
  return {
    name: block.chart,
    at,
    filename: `${block.chart}-${project}-${at.slice(0, 10)}.png`,
    title: block.title,
  };
}
