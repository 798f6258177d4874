import { handler as apiRead } from '../handlers/api-read.js';
import { handler as apiWrite } from '../handlers/api-write.js';
import { handler as health } from '../handlers/health.js';
import type { HttpHandlerName } from '../handlers/routes.js';
import { handler as slackInteractions } from '../handlers/slack-interactions.js';
import { handler as webhookGithub } from '../handlers/webhook-github.js';
import { handler as webhookJira } from '../handlers/webhook-jira.js';
import type { LambdaHttpHandler } from './http-server.js';

/**
 * The Lambda entry points behind the HTTP routes, imported statically so `convoy dev` can run from
 * one bundle. The type makes a handler added to routes.ts and forgotten here a compile error.
 */
export const HTTP_HANDLER_MODULES: Record<HttpHandlerName, LambdaHttpHandler> = {
  health: health as LambdaHttpHandler,
  'api-read': apiRead as LambdaHttpHandler,
  'api-write': apiWrite as LambdaHttpHandler,
  'webhook-github': webhookGithub as LambdaHttpHandler,
  'webhook-jira': webhookJira as LambdaHttpHandler,
  'slack-interactions': slackInteractions as LambdaHttpHandler,
};
