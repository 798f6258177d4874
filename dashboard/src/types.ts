/**
 * The shapes the dashboard reads from the REST API (docs/api.md). Type-only imports of the pure core:
 * the bundler erases them, so no core code ships to the browser; where a route is newer than the
 * core's types (the plan, forecast, metrics and changes routes), the shape is declared here.
 */

import type { AuditEvent } from '../../functions/core/coordination/model.js';
import type { StatusView } from '../../functions/core/coordination/status.js';
import type { TaskView } from '../../functions/core/coordination/tasks.js';
import type { PlanAnalysis } from '../../functions/core/plan/analysis.js';
import type { BurndownSeries } from '../../functions/core/reports/burndown.js';

export type { AuditEvent, BurndownSeries, PlanAnalysis, StatusView, TaskView };

export type StatusTask = StatusView['tasks'][number];
export type StatusAgent = StatusView['agents'][number];
export type StatusGate = StatusView['gates'][number];
export type StatusEscalationItem = StatusView['escalations'][number];
export type TaskStatus = StatusTask['status'];

/** `GET /v1/plans/{p}/events`. */
export interface EventsPage {
  readonly events: AuditEvent[];
  readonly cursor: string | null;
}

/** `GET /v1/plans/{p}/escalations`. */
export interface EscalationsPage {
  readonly escalations: (StatusEscalationItem & { history?: unknown[] })[];
  readonly cursor: string | null;
}

/** `GET /v1/plans/{p}/plan` (added for the dashboard): the applied plan with its schedule analysis. */
export interface PlanResponse {
  readonly project?: string;
  readonly version?: number;
  readonly plan?: {
    readonly integrations?: { readonly jira?: { readonly site?: string } };
    readonly phases?: readonly {
      readonly id: string;
      readonly name?: string;
      readonly dependsOn?: readonly string[];
    }[];
  };
  readonly analysis?: Partial<PlanAnalysis>;
  readonly schedule?: Partial<PlanAnalysis>;
}

export interface ForecastPercentile {
  readonly date: string;
  readonly workingDays?: number;
  readonly beyondHorizon?: boolean;
}

/** `GET /v1/plans/{p}/forecast`. */
export interface ForecastResponse {
  readonly status?: 'forecast' | 'finished' | 'unavailable';
  readonly reason?: string;
  readonly remaining?: number;
  readonly p50?: ForecastPercentile;
  readonly p85?: ForecastPercentile;
  readonly p95?: ForecastPercentile;
  readonly method?: string;
  readonly forecast?: ForecastResponse;
  /** The plan's own finish, from its estimates alone. */
  readonly baselineFinish?: string;
  /** Working days the P50 finish is after the baseline (negative: before). */
  readonly varianceDays?: number;
  readonly burndown?: BurndownSeries;
}

/** `GET /v1/plans/{p}/metrics/{name}`. */
export interface MetricHistory {
  readonly name?: string;
  readonly points: readonly { readonly value: number; readonly at: string }[];
}

/** `GET /v1/whoami`: who a token is; for a person, the gates they approve and the agents they steer. */
export interface WhoamiResponse {
  readonly role: 'admin' | 'agent' | 'person';
  readonly tokenId: string;
  readonly project?: string;
  readonly subject?: string;
  readonly approves?: readonly string[];
  readonly steers?: readonly string[];
}

/** `GET /v1/projects` (admin). */
export interface ProjectsResponse {
  readonly projects: readonly (string | { readonly id: string; readonly name?: string })[];
}
