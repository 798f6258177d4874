import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { renderBlocks } from '../adapters/slack/report-blocks.js';
import { handoffChecklist, listEvents } from '../core/coordination/commands.js';
import { listLeases } from '../core/coordination/leases.js';
import { computeStatus, gateViews, type StatusView } from '../core/coordination/status.js';
import { getTask, listTasks } from '../core/coordination/tasks.js';
import { NotFoundError } from '../core/errors.js';
import { listEscalations } from '../core/escalations/service.js';
import { gateOverview } from '../core/gates/service.js';
import { analysisOf } from '../core/reports/context.js';
import { forecastView } from '../core/reports/forecast-view.js';
import { renderMarkdown } from '../core/reports/markdown.js';
import type { ReportKind } from '../core/reports/model.js';
import { produceReport } from '../core/rhythm/jobs.js';
import { reportSince } from '../core/rhythm/report-context.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { apiHandler, etagMatches, validate } from './http/api.js';
import { listTokens } from './http/auth.js';
import {
  escalationsQuery,
  eventsQuery,
  handoffChecklistQuery,
  MAX_METRIC_POINTS,
  metricHistoryQuery,
  metricPath,
  reportPath,
  reportQuery,
  tasksQuery,
} from './http/schemas.js';
import { loadStatusView } from './status-view.js';

/**
 * The read-only routes of the agent API (and what the dashboard reads: the change counter it polls,
 * the plan with its schedule, the forecast, a metric's points, the projects); this function's role
 * can only read the table. The burndown
 * chart is api-charts': drawing it needs a font and a PNG encoder no other route does.
 */
export const makeApiReadHandler = (deps: HandlerDependencies) =>
  middy(
    apiHandler(
      {
        'GET /v1/plans/{project}/status': {
          access: 'project',
          async run({ params }, deps) {
            const body: StatusView = await loadStatusView(deps, params.project as string);
            return { status: 200, body };
          },
        },
        'GET /v1/plans/{project}/changes': {
          access: 'project',
          async run({ params, event }, deps) {
            const project = params.project as string;
            // One read of the plan pointer (or none, when authentication read it just now).
            const counter = await deps.store.changes(project);
            if (!counter) throw noPlan(project);
            const version = `${counter.version}.${counter.changes}`;
            const etag = `"${version}"`;
            const headers = { etag, 'cache-control': 'no-cache' };
            if (etagMatches(event.headers?.['if-none-match'], etag))
              return { status: 304, body: undefined, headers };
            return { status: 200, body: { project, version }, headers };
          },
        },
        'GET /v1/plans/{project}/plan': {
          access: 'project',
          async run({ params }, deps) {
            const project = params.project as string;
            const stored = await deps.store.currentPlan(project);
            if (!stored) throw noPlan(project);
            return {
              status: 200,
              body: {
                project,
                version: stored.version,
                appliedAt: stored.appliedAt,
                appliedBy: stored.appliedBy,
                plan: stored.plan,
                schedule: analysisOf(stored.plan),
              },
            };
          },
        },
        'GET /v1/plans/{project}/forecast': {
          access: 'project',
          async run({ params }, deps) {
            const project = params.project as string;
            const snapshot = await deps.store.snapshot(project);
            if (!snapshot) throw noPlan(project);
            return { status: 200, body: forecastView(snapshot, deps.clock.now()) };
          },
        },
        'GET /v1/plans/{project}/metrics/{name}': {
          access: 'project',
          async run({ params, query }, deps) {
            const project = params.project as string;
            const name = validate(metricPath, params.name, 'path.name');
            const { since, limit = MAX_METRIC_POINTS } = validate(metricHistoryQuery, query, 'query');
            if (!(await deps.store.currentPlan(project))) throw noPlan(project);
            const from = since
              ? new Date(since).toISOString()
              : new Date(deps.clock.now().getTime() - METRIC_HISTORY_DAYS * DAY_MS).toISOString();
            const points = await deps.store.metricHistory(project, name, from);
            return {
              status: 200,
              body: {
                project,
                name,
                since: from,
                points: points.slice(-limit),
                truncated: points.length > limit,
              },
            };
          },
        },
        'GET /v1/whoami': {
          access: 'project',
          async run({ token }, deps) {
            // Who the token is, and for a person what the plan lets them steer: the gates they approve and
            // the agents they own or back up (the dashboard shows its buttons from this; the routes still check).
            const plan = token.project ? (await deps.store.currentPlan(token.project))?.plan : undefined;
            const subject = token.subject;
            return {
              status: 200,
              body: {
                role: token.role,
                tokenId: token.id,
                ...(token.project ? { project: token.project } : {}),
                ...(subject ? { subject } : {}),
                ...(plan && token.role === 'person' && subject
                  ? {
                      approves: plan.gates
                        .filter((gate) => gate.approvers.includes(subject))
                        .map((g) => g.id),
                      steers: plan.agents
                        .filter((agent) => agent.owner === subject || agent.backup === subject)
                        .map((agent) => agent.id),
                    }
                  : {}),
              },
            };
          },
        },
        'GET /v1/projects': {
          access: 'admin',
          async run(_request, deps) {
            return { status: 200, body: { projects: await deps.store.listProjects() } };
          },
        },
        'GET /v1/plans/{project}/gates': {
          access: 'project',
          async run({ params }, deps) {
            const project = params.project as string;
            const [snapshot, gates] = await Promise.all([
              deps.store.snapshot(project),
              gateOverview(deps, project),
            ]);
            if (!snapshot)
              throw new NotFoundError(
                `project ${project} has no plan; apply one with PUT /v1/plans/${project}`,
              );
            const status = computeStatus(snapshot, deps.clock.now());
            return {
              status: 200,
              body: { gates: gateViews(snapshot, status, gates), timezone: status.timezone },
            };
          },
        },
        'GET /v1/plans/{project}/tasks': {
          access: 'project',
          async run({ params, query, actor }, deps) {
            const filters = validate(tasksQuery, query, 'query');
            return {
              status: 200,
              body: await listTasks(deps, { project: params.project as string, viewer: actor, ...filters }),
            };
          },
        },
        'GET /v1/plans/{project}/tasks/{task}': {
          access: 'project',
          async run({ params, actor }, deps) {
            return {
              status: 200,
              body: await getTask(deps, {
                project: params.project as string,
                task: params.task as string,
                viewer: actor,
              }),
            };
          },
        },
        'GET /v1/plans/{project}/leases': {
          access: 'project',
          async run({ params }, deps) {
            return { status: 200, body: await listLeases(deps, { project: params.project as string }) };
          },
        },
        'GET /v1/plans/{project}/tokens': {
          access: 'admin',
          async run({ params }, deps) {
            return { status: 200, body: { tokens: await listTokens(deps, params.project as string) } };
          },
        },
        'GET /v1/plans/{project}/handoff-checklist': {
          access: 'project',
          async run({ params, query }, deps) {
            const { task } = validate(handoffChecklistQuery, query, 'query');
            return {
              status: 200,
              body: await handoffChecklist(deps, {
                project: params.project as string,
                ...(task ? { task } : {}),
              }),
            };
          },
        },
        'GET /v1/plans/{project}/events': {
          access: 'project',
          async run({ params, query }, deps) {
            const { limit, since, ...rest } = validate(eventsQuery, query, 'query');
            const page = await listEvents(deps, {
              project: params.project as string,
              ...rest,
              ...(since ? { since: new Date(since).toISOString() } : {}),
              ...(limit ? { limit } : {}),
            });
            return { status: 200, body: { events: page.events, cursor: page.cursor ?? null } };
          },
        },
        'GET /v1/plans/{project}/escalations': {
          access: 'project',
          async run({ params, query }, deps) {
            const page = await listEscalations(deps, {
              project: params.project as string,
              ...validate(escalationsQuery, query, 'query'),
            });
            return { status: 200, body: { escalations: page.escalations, cursor: page.cursor ?? null } };
          },
        },
        'GET /v1/plans/{project}/reports/{kind}': {
          access: 'project',
          async run({ params, query }, deps) {
            const project = params.project as string;
            const path = validate(reportPath, params.kind, 'path.kind');
            const kind: ReportKind = path === 'weekly' ? 'weekly-summary' : path;
            const options = validate(reportQuery, query, 'query');
            const stored = await deps.store.currentPlan(project);
            if (!stored)
              throw new NotFoundError(
                `project ${project} has no plan; apply one with PUT /v1/plans/${project}`,
              );
            const now = deps.clock.now();
            const since = options.since ? new Date(options.since) : reportSince(stored.plan, kind, now);
            const document = await produceReport(deps, { project, kind, since });
            if (options.format === 'json') return { status: 200, body: document };
            if (options.format === 'slack') return { status: 200, body: renderBlocks(document) };
            return {
              status: 200,
              contentType: 'text/markdown; charset=utf-8',
              body: renderMarkdown(document, options.chart ? { chartPath: options.chart } : {}),
            };
          },
        },
      },
      () => deps,
      (message, error) => deps.logger.error(message, error as Error),
    ),
  ).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeApiReadHandler);

/** How far back `GET …/metrics/{name}` looks without `since`: as far as the reports do. */
const METRIC_HISTORY_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

const noPlan = (project: string) =>
  new NotFoundError(`project ${project} has no plan; apply one with PUT /v1/plans/${project}`);
