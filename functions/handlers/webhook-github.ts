import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { RunInProgressError } from '../core/errors.js';
import { GITHUB_EVENTS, githubDeliverySchema } from '../core/integrations/github-events.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { verifyHubSignature } from './http/hub-signature.js';
import {
  DELIVERY_ID,
  GITHUB_DELIVERY,
  MAX_WEBHOOK_BYTES,
  refuse,
  reply,
  shapeProblems,
  webhookMiddlewares,
  webhookRequest,
} from './http/webhook.js';
import { createRunOnceDependencies } from './run-once.js';
import { secretList } from './secrets.js';

const HANDLED = new Set(GITHUB_EVENTS());

/**
 * `POST /webhooks/github`: checks the signature before anything is parsed, remembers the delivery id
 * so a redelivery has no second effect, queues the delivery for the worker and answers 202 at once.
 */
export const makeWebhookGithubHandler = (deps: HandlerDependencies) =>
  middy((event: APIGatewayProxyEventV2) => receiveGithubDelivery(deps, event))
    .use(webhookMiddlewares((message, error) => deps.logger.error(message, error as Error)))
    .use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeWebhookGithubHandler, createRunOnceDependencies);

async function receiveGithubDelivery(deps: HandlerDependencies, event: APIGatewayProxyEventV2) {
  const { rawBody, headers } = webhookRequest(event);
  if (Buffer.byteLength(rawBody) > MAX_WEBHOOK_BYTES)
    return refuse(413, 'payload_too_large', 'the payload is over 10 MB');
  const secrets = await deps.secrets();
  const check = verifyHubSignature(
    { name: 'GitHub', header: 'X-Hub-Signature-256', secretName: 'CONVOY_GITHUB_WEBHOOK_SECRET' },
    secretList(secrets.CONVOY_GITHUB_WEBHOOK_SECRET),
    rawBody,
    headers['x-hub-signature-256'],
  );
  if (!check.ok) return refuse(401, 'unauthorized', check.reason);

  const delivery = headers['x-github-delivery'];
  const name = headers['x-github-event'];
  if (!delivery || !name)
    return refuse(400, 'invalid_request', 'missing X-GitHub-Delivery or X-GitHub-Event header');
  if (!DELIVERY_ID.test(delivery))
    return refuse(400, 'invalid_request', 'X-GitHub-Delivery: expected 1 to 200 visible ASCII characters');
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return refuse(
      400,
      'invalid_request',
      'payload: not JSON (set the webhook content type to application/json)',
    );
  }
  // Every GitHub event is a JSON object; anything else (a signed `null`) is refused here, not
  // queued for a worker that could do nothing with it.
  const shape = githubDeliverySchema.shape.payload.safeParse(json);
  if (!shape.success) return refuse(400, 'invalid_request', shapeProblems(shape.error));
  const payload = shape.data;
  if (name === 'ping') return reply(200, { ok: true, delivery });
  if (!HANDLED.has(name))
    return reply(202, { ignored: true, delivery, reason: `Convoy does not use ${name} events` });

  try {
    const { replayed } = await deps.once.run(GITHUB_DELIVERY, delivery, '', async () => {
      if (!deps.githubQueue)
        throw new Error('no queue for GitHub deliveries is configured (CONVOY_GITHUB_QUEUE_URL)');
      await deps.githubQueue.send({ id: delivery, event: name, payload });
      return { queued: true };
    });
    if (replayed) return reply(200, { duplicate: true, delivery });
  } catch (error) {
    if (error instanceof RunInProgressError) return reply(202, { duplicate: true, delivery });
    // Not remembered: GitHub's redelivery (or a manual one) will find the id free and try again.
    deps.logger.error('could not queue a GitHub delivery', error as Error);
    return refuse(503, 'unavailable', 'the delivery could not be queued; redeliver it');
  }
  return reply(202, { accepted: true, delivery, event: name });
}
