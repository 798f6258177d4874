import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { RunInProgressError } from '../core/errors.js';
import {
  handleJiraStatusChange,
  jiraStatusChange,
  jiraWebhookPayload,
} from '../core/integrations/jira-events.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { verifyHubSignature } from './http/hub-signature.js';
import {
  DELIVERY_ID,
  JIRA_DELIVERY,
  MAX_WEBHOOK_BYTES,
  refuse,
  reply,
  shapeProblems,
  webhookMiddlewares,
  webhookRequest,
} from './http/webhook.js';
import { createRunOnceDependencies } from './run-once.js';
import { secretList } from './secrets.js';

/**
 * `POST /webhooks/jira`: an issue's status change moves the tasks linked to it. Deliveries are
 * deduplicated on `X-Atlassian-Webhook-Identifier`, which JIRA keeps across its retries.
 */
export const makeWebhookJiraHandler = (deps: HandlerDependencies) =>
  middy((event: APIGatewayProxyEventV2) => receiveJiraDelivery(deps, event))
    .use(webhookMiddlewares((message, error) => deps.logger.error(message, error as Error)))
    .use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeWebhookJiraHandler, createRunOnceDependencies);

async function receiveJiraDelivery(deps: HandlerDependencies, event: APIGatewayProxyEventV2) {
  const { rawBody, headers } = webhookRequest(event);
  if (Buffer.byteLength(rawBody) > MAX_WEBHOOK_BYTES)
    return refuse(413, 'payload_too_large', 'the payload is over 10 MB');
  // JIRA admin webhooks sign the raw body as GitHub does, under another header name.
  const check = verifyHubSignature(
    { name: 'JIRA', header: 'X-Hub-Signature', secretName: 'CONVOY_JIRA_WEBHOOK_SECRET' },
    secretList((await deps.secrets()).CONVOY_JIRA_WEBHOOK_SECRET),
    rawBody,
    headers['x-hub-signature'],
  );
  if (!check.ok) return refuse(401, 'unauthorized', check.reason);
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return refuse(400, 'invalid_request', 'payload: not JSON');
  }
  const parsed = jiraWebhookPayload.safeParse(json);
  if (!parsed.success) return refuse(400, 'invalid_request', shapeProblems(parsed.error));
  const change = jiraStatusChange(parsed.data);
  if (!change) return reply(202, { ignored: true, reason: 'not an issue status change' });

  const identifier = headers['x-atlassian-webhook-identifier'];
  if (identifier !== undefined && !DELIVERY_ID.test(identifier))
    return refuse(
      400,
      'invalid_request',
      'X-Atlassian-Webhook-Identifier: expected 1 to 200 visible ASCII characters',
    );
  if (!identifier) return reply(200, await handleJiraStatusChange(deps, change));
  try {
    const { outcome, replayed } = await deps.once.run(JIRA_DELIVERY, identifier, '', () =>
      handleJiraStatusChange(deps, change),
    );
    return reply(200, replayed ? { duplicate: true } : outcome);
  } catch (error) {
    if (error instanceof RunInProgressError) return reply(200, { duplicate: true });
    throw error;
  }
}
