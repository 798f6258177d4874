import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import {
  ESCALATION_ACTION_IDS,
  GATE_ACTION_IDS,
  parseEscalationButtonValue,
  parseGateButtonValue,
} from '../adapters/slack/notice-messages.js';
import { verifySlackRequest } from '../adapters/slack/verify-request.js';
import type { Actor } from '../core/coordination/model.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import {
  acknowledgeEscalation,
  confirmEscalationReassignment,
  resolveEscalation,
} from '../core/escalations/service.js';
import { decideGate } from '../core/gates/service.js';
import { toWellFormed } from '../core/unicode.js';
import { type Dependencies, fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { refuse, reply, shapeProblems, webhookMiddlewares, webhookRequest } from './http/webhook.js';

/**
 * `POST /slack/interactions`: Slack's button clicks. The v0 signature is checked and requests older
 * than five minutes are refused (replays). The buttons — acknowledge / resolve / reassign an
 * escalation, accept a gate's risk or hold it — act as the plan's person with that Slack user id.
 */
export const makeSlackInteractionsHandler = (deps: HandlerDependencies) =>
  middy((event: APIGatewayProxyEventV2) => receiveInteraction(deps, event))
    .use(webhookMiddlewares((message, error) => deps.logger.error(message, error as Error)))
    .use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeSlackInteractionsHandler);

async function receiveInteraction(deps: HandlerDependencies, event: APIGatewayProxyEventV2) {
  const { rawBody, headers } = webhookRequest(event);
  const secret = (await deps.secrets()).CONVOY_SLACK_SIGNING_SECRET;
  if (!secret)
    return refuse(401, 'unauthorized', 'no Slack signing secret is configured (CONVOY_SLACK_SIGNING_SECRET)');
  const check = verifySlackRequest({ rawBody, headers }, secret, deps.clock.now());
  if (!check.valid) return refuse(401, 'unauthorized', check.reason);
  const form = new URLSearchParams(rawBody);
  let json: unknown;
  try {
    json = JSON.parse(form.get('payload') ?? '{}');
  } catch {
    return refuse(400, 'invalid_request', 'payload: not JSON');
  }
  const parsed = slackPayload.safeParse(json);
  if (!parsed.success) return refuse(400, 'invalid_request', shapeProblems(parsed.error));
  const payload = parsed.data;
  const action = payload.actions?.[0];
  deps.logger.info('slack interaction', { type: payload.type, action: action?.action_id });
  if (payload.type !== 'block_actions' || !action?.action_id || !action.value)
    return reply(200, { ok: true });
  const outcome = await clicked(deps, action.action_id, action.value, payload.user?.id);
  deps.logger.info('slack button', { action: action.action_id, outcome });
  return reply(200, { ok: true, outcome });
}

/**
 * The parts of an interaction payload Convoy reads, shape-checked; the rest passes through unread.
 * Slack caps a button's value at 2,000 characters and its action_id at 255; text is made
 * well-formed (a lone surrogate becomes U+FFFD) before it is looked up or echoed.
 */
const slackText = (max: number) => z.string().max(max).transform(toWellFormed);
const slackPayload = z.looseObject({
  type: z.string().optional(),
  user: z.looseObject({ id: slackText(255).optional() }).nullish(),
  actions: z
    .array(
      z.looseObject({
        action_id: slackText(255).optional(),
        value: slackText(2000).optional(),
      }),
    )
    .nullish(),
});

/** A project, escalation or gate named by a button ends up in a key: as long as the API allows. */
const MAX_TARGET_LENGTH = 200;
const fits = (...parts: string[]) => parts.every((part) => part.length <= MAX_TARGET_LENGTH);

/** The person of the plan with this Slack user id: buttons act as them, with their permissions. */
async function personOf(
  deps: Dependencies,
  project: string,
  slackUser: string | undefined,
): Promise<Actor | undefined> {
  const stored = await deps.store.currentPlan(project);
  const person = stored?.plan.people.find(
    (candidate) => candidate.slack !== undefined && candidate.slack === slackUser,
  );
  return person ? { kind: 'person', id: person.id } : undefined;
}

/**
 * Carries out a button: acknowledge / resolve / reassign an escalation, or decide a gate. A click by
 * someone the plan does not know, or who may not act, changes nothing; the outcome says why (logged).
 */
async function clicked(deps: Dependencies, actionId: string, value: string, slackUser: string | undefined) {
  try {
    const escalationAction = Object.entries(ESCALATION_ACTION_IDS).find(([, id]) => id === actionId)?.[0];
    if (escalationAction) {
      const target = parseEscalationButtonValue(value);
      if (!target || !fits(target.project, target.id)) return 'the button does not name an escalation';
      const actor = await personOf(deps, target.project, slackUser);
      if (!actor) return `Slack user ${slackUser ?? '?'} is not a person of ${target.project}`;
      const run =
        escalationAction === 'ack'
          ? acknowledgeEscalation
          : escalationAction === 'resolve'
            ? resolveEscalation
            : confirmEscalationReassignment;
      const result = await run(deps, { project: target.project, id: target.id, actor });
      return result.changed ? `${escalationAction} done` : 'nothing to change';
    }
    if (actionId === GATE_ACTION_IDS.advance || actionId === GATE_ACTION_IDS.hold) {
      const target = parseGateButtonValue(value);
      if (!target || !fits(target.project, target.gate)) return 'the button does not name a gate';
      const actor = await personOf(deps, target.project, slackUser);
      if (!actor) return `Slack user ${slackUser ?? '?'} is not a person of ${target.project}`;
      await decideGate(deps, {
        project: target.project,
        gate: target.gate,
        attempt: target.attempt,
        decision: actionId === GATE_ACTION_IDS.advance ? 'advance' : 'hold',
        note: 'decided in Slack',
        actor,
      });
      return 'decided';
    }
    return `unknown action ${actionId}`;
  } catch (error) {
    if (
      error instanceof ForbiddenError ||
      error instanceof ConflictError ||
      error instanceof NotFoundError ||
      error instanceof ValidationError
    )
      return error.message;
    throw error;
  }
}
