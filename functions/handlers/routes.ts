/**
 * Every HTTP route Convoy serves, and which Lambda entry point serves it. The CDK stack creates
 * one API Gateway route per entry and the local server dispatches with the same table, so a
 * route exists in both places or in neither.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The Lambda entry points behind the HTTP API: `functions/handlers/<name>.ts`. */
export const HTTP_HANDLERS = {
  health: { description: 'Liveness check: 503 when the database does not answer', tableAccess: 'read' },
  'api-read': {
    description:
      'Agent API: read-only routes (status, tasks, leases, audit trail, escalations, reports, the dashboard: change counter, plan, forecast, metrics, projects)',
    tableAccess: 'read',
  },
  'api-charts': { description: 'Agent API: the burndown chart as PNG', tableAccess: 'read' },
  'api-plans': { description: 'Agent API: applying a plan (YAML or JSON)', tableAccess: 'readwrite' },
  'api-write': { description: 'Agent API: routes that change coordination state', tableAccess: 'readwrite' },
  mcp: {
    description: 'MCP server (Streamable HTTP, stateless): the agent API as tools for AI agents',
    tableAccess: 'readwrite',
  },
  'webhook-github': {
    description: 'GitHub webhooks: verify, deduplicate, queue for the worker',
    tableAccess: 'readwrite',
  },
  'webhook-jira': {
    description: 'JIRA webhooks: issue status changes back to tasks',
    tableAccess: 'readwrite',
  },
  'slack-interactions': {
    description: 'Slack buttons: verify the signature and acknowledge within 3 s',
    tableAccess: 'readwrite',
  },
} as const satisfies Record<string, { description: string; tableAccess: 'none' | 'read' | 'readwrite' }>;

export type HttpHandlerName = keyof typeof HTTP_HANDLERS;

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway syntax: `{name}` is a path parameter. */
  readonly path: string;
  readonly handler: HttpHandlerName;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/health', handler: 'health' },
  { method: 'GET', path: '/v1/plans/{project}/status', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/events', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/reports/{kind}', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/charts/burndown.png', handler: 'api-charts' },
  { method: 'GET', path: '/v1/plans/{project}/changes', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/plan', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/forecast', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/metrics/{name}', handler: 'api-read' },
  { method: 'GET', path: '/v1/projects', handler: 'api-read' },
  { method: 'GET', path: '/v1/whoami', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/gates', handler: 'api-read' },
  { method: 'POST', path: '/v1/plans/{project}/gates/{gate}/evaluate', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/gates/{gate}/decision', handler: 'api-write' },
  { method: 'GET', path: '/v1/plans/{project}/escalations', handler: 'api-read' },
  { method: 'PUT', path: '/v1/plans/{project}', handler: 'api-plans' },
  { method: 'POST', path: '/v1/plans/{project}/agents/{agent}/heartbeat', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/tasks/{task}/transitions', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/tasks/{task}/blocker', handler: 'api-write' },
  { method: 'DELETE', path: '/v1/plans/{project}/tasks/{task}/blocker', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/handoffs', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/agents/{agent}/claim', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/tasks/{task}/release', handler: 'api-write' },
  { method: 'GET', path: '/v1/plans/{project}/tasks', handler: 'api-read' },
  { method: 'GET', path: '/v1/plans/{project}/tasks/{task}', handler: 'api-read' },
  { method: 'POST', path: '/v1/plans/{project}/leases', handler: 'api-write' },
  { method: 'GET', path: '/v1/plans/{project}/leases', handler: 'api-read' },
  { method: 'DELETE', path: '/v1/plans/{project}/leases/{id}', handler: 'api-write' },
  { method: 'GET', path: '/v1/plans/{project}/handoff-checklist', handler: 'api-read' },
  { method: 'POST', path: '/v1/plans/{project}/metrics', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/events', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/agents/{agent}/tokens', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/people/{person}/tokens', handler: 'api-write' },
  { method: 'GET', path: '/v1/plans/{project}/tokens', handler: 'api-read' },
  { method: 'DELETE', path: '/v1/plans/{project}/tokens/{id}', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/escalations/{id}/ack', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/escalations/{id}/resolve', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/escalations/{id}/reassign', handler: 'api-write' },
  { method: 'POST', path: '/v1/plans/{project}/escalations/{id}/snooze', handler: 'api-write' },
  { method: 'POST', path: '/mcp', handler: 'mcp' },
  // A stateless server opens no stream and keeps no session: these answer 405, as the MCP transport says.
  { method: 'GET', path: '/mcp', handler: 'mcp' },
  { method: 'DELETE', path: '/mcp', handler: 'mcp' },
  { method: 'POST', path: '/webhooks/github', handler: 'webhook-github' },
  { method: 'POST', path: '/webhooks/jira', handler: 'webhook-jira' },
  { method: 'POST', path: '/slack/interactions', handler: 'slack-interactions' },
];

/**
 * Lambda entry points that no route invokes: `functions/handlers/<name>.ts`, triggered by a queue or
 * a schedule. `convoy dev` runs the same code in process.
 */
export const WORKERS = {
  'github-worker': {
    description: 'Applies queued GitHub deliveries to tasks, JIRA commands and Slack',
    trigger: 'github-deliveries queue',
  },
  'jira-worker': {
    description: 'Drains the outbox (JIRA under its rate limit, Slack), retrying and dead-lettering',
    trigger: 'every minute, and when commands are enqueued',
  },
  'scheduled-job': {
    description:
      'Runs a plan schedule (standup, sync, report, gate review, weekly summary) once per fire time',
    trigger: "the plan's schedules (EventBridge Scheduler, project time zone)",
  },
  monitor: {
    description:
      'Heartbeat monitor (agent.down, computed metrics, expired claims and leases) and stale-work sweep over every project',
    trigger: 'fixed rates',
  },
  'gate-step': {
    description:
      'Runs the steps of the phase-gate state machine: evaluate, caution, request a decision, advance, hold',
    trigger: 'the phase-gate state machine',
  },
  'gate-starter': {
    description: "Starts a phase's gate workflow when its tasks are all done",
    trigger: 'the EventBridge rule on Phase Tasks Completed',
  },
  publisher: {
    description:
      'Delivers the domain events written with each change: puts them on the Convoy bus and runs their followers',
    trigger: "the state table's stream (inserted domain event items)",
  },
} as const;

export type WorkerName = keyof typeof WORKERS;

/** `GET /v1/plans/{project}/status`: the route key API Gateway puts in `event.routeKey`. */
export const routeKey = (route: Pick<RouteSpec, 'method' | 'path'>) => `${route.method} ${route.path}`;
