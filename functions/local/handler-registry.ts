import { makeApiChartsHandler } from '../handlers/api-charts.js';
import { makeApiPlansHandler } from '../handlers/api-plans.js';
import { makeApiReadHandler } from '../handlers/api-read.js';
import { makeApiWriteHandler } from '../handlers/api-write.js';
import type { HandlerDependencies } from '../handlers/dependencies.js';
import { makeHealthHandler } from '../handlers/health.js';
import type { HttpHandlerName } from '../handlers/routes.js';
import { makeSlackInteractionsHandler } from '../handlers/slack-interactions.js';
import { makeWebhookGithubHandler } from '../handlers/webhook-github.js';
import { makeWebhookJiraHandler } from '../handlers/webhook-jira.js';
import type { LambdaHttpHandler } from './http-server.js';

/**
 * A handler whose module is imported on its first request, for the ones that bring a large package
 * `convoy dev` would otherwise load at start for nothing: the MCP server SDK (about 8 MB resident)
 * until an agent connects. A failed import fails that request and is tried again on the next.
 */
function loadedOnFirstCall(load: () => Promise<LambdaHttpHandler>): LambdaHttpHandler {
  let loading: Promise<LambdaHttpHandler> | undefined;
  return async (event, context) => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return (await loading)(event, context);
  };
}

/**
 * The factories of the Lambda entry points behind the HTTP routes, as API Gateway would invoke them.
 * The type makes a handler added to routes.ts and forgotten here a compile error.
 */
const HTTP_HANDLER_FACTORIES: Record<HttpHandlerName, (deps: HandlerDependencies) => LambdaHttpHandler> = {
  health: (deps) => makeHealthHandler(deps) as LambdaHttpHandler,
  'api-read': (deps) => makeApiReadHandler(deps) as LambdaHttpHandler,
  'api-write': (deps) => makeApiWriteHandler(deps) as LambdaHttpHandler,
  'api-charts': (deps) => makeApiChartsHandler(deps) as LambdaHttpHandler,
  'api-plans': (deps) => makeApiPlansHandler(deps) as LambdaHttpHandler,
  mcp: (deps) =>
    loadedOnFirstCall(
      async () => (await import('../handlers/mcp.js')).makeMcpHandler(deps) as LambdaHttpHandler,
    ),
  'webhook-github': (deps) => makeWebhookGithubHandler(deps) as LambdaHttpHandler,
  'webhook-jira': (deps) => makeWebhookJiraHandler(deps) as LambdaHttpHandler,
  'slack-interactions': (deps) => makeSlackInteractionsHandler(deps) as LambdaHttpHandler,
};

/** The real Lambda entry points, composed over `deps`, exactly as API Gateway invokes them. */
export function makeHttpHandlers(deps: HandlerDependencies): Record<HttpHandlerName, LambdaHttpHandler> {
  return Object.fromEntries(
    Object.entries(HTTP_HANDLER_FACTORIES).map(([name, make]) => [name, make(deps)]),
  ) as Record<HttpHandlerName, LambdaHttpHandler>;
}
