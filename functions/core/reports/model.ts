import type { AuditEvent, Handoff, MetricPoint, ProjectSnapshot, StoredPlan } from '../coordination/model.js';
import type { ProjectStatus } from '../coordination/status.js';
import type { OpenConflict } from '../integrations/conflicts.js';
import type { Plan } from '../plan/index.js';
import type { BurndownSeries } from './burndown.js';

/** The scheduled jobs that produce a report (docs/plan-format.md, "schedules"). */
export type ReportKind = 'standup' | 'sync' | 'report' | 'weekly-summary';
export const REPORT_KINDS: readonly ReportKind[] = ['standup', 'sync', 'report', 'weekly-summary'];

/**
 * Everything a report is computed from, read by the job handler before it calls a builder. The
 * builders are pure: the same context gives the same document.
 */
export interface ReportContext {
  readonly stored: StoredPlan;
  /** Phases, tasks (`startedAt`/`doneAt`; a done task without `doneAt` counts from `updatedAt`), agents, latest metrics. */
  readonly snapshot: ProjectSnapshot;
  /** `computeStatus(snapshot, now, escalations)`: its `escalations` are the open ones. */
  readonly status: ProjectStatus;
  readonly now: Date;
  /** standup: the previous standup; sync: the start of today's working day; report / weekly-summary: the previous run. */
  readonly since: Date;
  /** Every audit event with `at >= since`, oldest first. */
  readonly events: readonly AuditEvent[];
  /** Handoffs of the last 30 days. */
  readonly handoffs: readonly Handoff[];
  /** Per metric, its points of the last 30 days, oldest first. */
  readonly metricHistory: ReadonlyMap<string, readonly MetricPoint[]>;
  /**
   * The plan whose schedule is the baseline that variance is measured against, e.g. the first
   * version applied. Default: the current plan, so re-planning moves the baseline.
   */
  readonly baselinePlan?: Plan;
  /** The conflicts a push or PR raised that are still open (standup and report; see integrations/conflicts.ts). */
  readonly openConflicts?: readonly OpenConflict[];
}

/** A piece of inline text. Renderers escape strings for their markup; the other kinds are markup. */
export type Inline =
  | string
  | { readonly kind: 'strong'; readonly text: string }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'link'; readonly text: string; readonly url: string }
  /** A person: Slack mentions them by id when the plan has one; elsewhere their name shows. */
  | { readonly kind: 'mention'; readonly name: string; readonly slack?: string };

export type RichText = readonly Inline[];

export interface ListItem {
  readonly text: RichText;
  /** Nested items, one level deep (e.g. the tasks under "Finished"). */
  readonly items?: readonly RichText[];
  /** The agent this item is about: `forAgent` keeps it in that agent's document. */
  readonly agent?: string;
}

export interface TableColumn {
  readonly label: string;
  readonly align?: 'left' | 'right' | 'center';
}

export interface TableRow {
  readonly cells: readonly RichText[];
  /** The agent this row is about: `forAgent` keeps it in that agent's document. */
  readonly agent?: string;
}

export type ReportBlock =
  | { readonly kind: 'paragraph'; readonly text: RichText; readonly agent?: string }
  | { readonly kind: 'list'; readonly items: readonly ListItem[]; readonly agent?: string }
  | {
      readonly kind: 'table';
      readonly columns: readonly TableColumn[];
      readonly rows: readonly TableRow[];
      readonly agent?: string;
    }
  /** A chart drawn by an adapter (a PNG uploaded beside the message); `alt` says what it shows. */
  | {
      readonly kind: 'chart';
      readonly chart: 'burndown';
      readonly title: string;
      readonly alt: string;
      readonly series: BurndownSeries;
      readonly agent?: string;
    }
  /** Small print: how a number was computed, what a period covers. */
  | { readonly kind: 'note'; readonly text: RichText; readonly agent?: string };

export interface ReportSection {
  /** Stable within a kind of report (`summary`, `agent:grpc-agent`, `metrics`), for tests and adapters. */
  readonly id: string;
  readonly heading: string;
  /** Set on a section that is entirely about one agent. */
  readonly agent?: string;
  readonly blocks: readonly ReportBlock[];
}

export interface ReportAgent {
  readonly id: string;
  readonly name: string;
  /** The agent's own Slack channel, where its part of a report goes. */
  readonly channel?: string;
}

/** A report independent of where it is shown: Slack Block Kit and Markdown render it. */
export interface ReportDocument {
  readonly kind: ReportKind;
  readonly title: string;
  readonly project: { readonly id: string; readonly name: string; readonly timezone: string };
  readonly planVersion: number;
  /** ISO 8601. */
  readonly generatedAt: string;
  /** What the report covers, ISO 8601, and the start in words, in the project's time zone. */
  readonly period: { readonly since: string; readonly until: string; readonly label: string };
  /** The agents the report says something about, in plan order: `forAgent` gives each one's part. */
  readonly agents: readonly ReportAgent[];
  /** Set on the part of a report about one agent (`forAgent`), for the agent's own channel. */
  readonly agent?: ReportAgent;
  readonly sections: readonly ReportSection[];
}
