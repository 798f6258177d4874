import { createHmac, timingSafeEqual } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  handleJiraStatusChange,
  jiraStatusChange,
  jiraWebhookPayload,
} from '../core/integrations/jira-events.js';
import { dependencies } from './dependencies.js';
import {
  DELIVERY_ID,
  DELIVERY_KEEP_SECONDS,
  fingerprint,
  MAX_WEBHOOK_BYTES,
  refuse,
  reply,
  shapeProblems,
  webhookRequest,
} from './http/webhook.js';
import { logger } from './logger.js';
import { secretList } from './secrets.js';

/** JIRA admin webhooks sign the raw body: `X-Hub-Signature: sha256=<hex HMAC-SHA256>`. */
function signatureMatches(secrets: readonly string[], rawBody: string, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from((match[1] as string).toLowerCase(), 'hex');
  return secrets.some((secret) =>
    timingSafeEqual(createHmac('sha256', secret).update(rawBody).digest(), given),
  );
}

/**
 * `POST /webhooks/jira`: an issue's status change moves the tasks linked to it. Deliveries are
 * deduplicated on `X-Atlassian-Webhook-Identifier`, which JIRA keeps across its retries.
 */
export const handler = middy(async (event: APIGatewayProxyEventV2) => {
  const { rawBody, headers } = webhookRequest(event);
  if (Buffer.byteLength(rawBody) > MAX_WEBHOOK_BYTES)
    return refuse(413, 'payload_too_large', 'the payload is over 10 MB');
  const deps = dependencies();
  const secrets = secretList((await deps.secrets()).CONVOY_JIRA_WEBHOOK_SECRET);
  if (secrets.length === 0)
    return refuse(401, 'unauthorized', 'no JIRA webhook secret is configured (CONVOY_JIRA_WEBHOOK_SECRET)');
  if (!signatureMatches(secrets, rawBody, headers['x-hub-signature'])) {
    return refuse(401, 'unauthorized', 'X-Hub-Signature is missing or does not match the payload');
  }
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
  const key = identifier ? `jira:${identifier}` : undefined;
  const print = fingerprint(rawBody);
  if (key) {
    const claim = await deps.idempotency.claim(key, print, deps.clock.now(), 60);
    if (claim.state !== 'new') return reply(200, { duplicate: true });
  }
  try {
    const outcome = await handleJiraStatusChange(deps, change);
    if (key) await deps.idempotency.complete(key, print, outcome, deps.clock.now(), DELIVERY_KEEP_SECONDS);
    return reply(200, outcome);
  } catch (error) {
    if (key) await deps.idempotency.release(key);
    throw error;
  }
}).use(injectLambdaContext(logger));
