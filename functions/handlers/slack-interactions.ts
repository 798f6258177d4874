import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { verifySlackRequest } from '../adapters/slack/verify-request.js';
import { dependencies } from './dependencies.js';
import { refuse, reply, webhookRequest } from './http/webhook.js';
import { logger } from './logger.js';

/**
 * `POST /slack/interactions`: Slack's button clicks. The v0 signature is checked and requests older
 * than five minutes are refused (replays); Slack needs an answer within 3 seconds, so this only
 * acknowledges. The buttons themselves (gate decisions, escalations) come with the gates work.
 */
export const handler = middy(async (event: APIGatewayProxyEventV2) => {
  const { rawBody, headers } = webhookRequest(event);
  const deps = dependencies();
  const secret = (await deps.secrets()).CONVOY_SLACK_SIGNING_SECRET;
  if (!secret)
    return refuse(401, 'unauthorized', 'no Slack signing secret is configured (CONVOY_SLACK_SIGNING_SECRET)');
  const check = verifySlackRequest({ rawBody, headers }, secret, deps.clock.now());
  if (!check.valid) return refuse(401, 'unauthorized', check.reason);
  const form = new URLSearchParams(rawBody);
  let payload: { type?: string; user?: { id?: string }; actions?: { action_id?: string }[] };
  try {
    payload = JSON.parse(form.get('payload') ?? '{}');
  } catch {
    return refuse(400, 'invalid_request', 'the payload field is not JSON');
  }
  logger.info('slack interaction', { type: payload.type, action: payload.actions?.[0]?.action_id });
  return reply(200, { ok: true });
}).use(injectLambdaContext(logger));
