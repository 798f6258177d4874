import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type * as z from 'zod';
import { claimTask, releaseTask } from '../core/coordination/claims.js';
import {
  recordEvent,
  recordHandoff,
  recordHeartbeat,
  recordMetrics,
  setBlocker,
  transitionTask,
} from '../core/coordination/commands.js';
import { acquireLease, releaseLease } from '../core/coordination/leases.js';
import { describeActor } from '../core/coordination/model.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import {
  acknowledgeEscalation,
  confirmEscalationReassignment,
  type EscalationActionInput,
  type EscalationActionResult,
  type EscalationPorts,
  resolveEscalation,
  snoozeEscalation,
} from '../core/escalations/service.js';
import { decideGate, startGate } from '../core/gates/service.js';
import { didYouMean } from '../core/plan/suggest.js';
import type { TokenRole } from '../core/ports.js';
import { type Dependencies, fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { type ApiRequest, apiHandler, jsonBody, type RouteDefinition, validate } from './http/api.js';
import { mintToken, revokeToken, TOKEN_ID_FORMAT } from './http/auth.js';
import {
  claimBody,
  escalationActionBody,
  escalationSnoozeBody,
  eventBody,
  fencedBlockerBody,
  fencedHandoffBody,
  fencedTransitionBody,
  fencedUnblockBody,
  gateDecisionBody,
  gateEvaluateBody,
  heartbeatBody,
  leaseBody,
  leasePath,
  metricsBody,
  releaseBody,
  releaseLeaseBody,
} from './http/schemas.js';
import { createRunOnceDependencies } from './run-once.js';

const project = (request: ApiRequest) => request.params.project as string;

/** The project and the caller, which every use case takes. */
const scope = (request: ApiRequest) => ({ project: project(request), actor: request.actor });

/** A route open to any token of the project: validate the JSON body, run one use case, answer `status`. */
function command<S extends z.ZodType>(
  schema: S,
  status: number,
  run: (body: z.output<S>, request: ApiRequest, deps: Dependencies) => Promise<unknown>,
): RouteDefinition {
  return {
    access: 'project',
    run: async (request, deps) => ({ status, body: await run(jsonBody(request, schema), request, deps) }),
  };
}

/**
 * The claim's lease a write on a task carries: the body's `lease`, or the `If-Match` header (quoted, as
 * an ETag is, or bare). Both may be sent only if they agree. Nothing when neither is sent.
 */
export function leaseOf(request: ApiRequest, bodyLease: string | undefined): { lease?: string } {
  const header = request.event.headers?.['if-match'];
  if (header === undefined) return bodyLease === undefined ? {} : { lease: bodyLease };
  const unquoted = header
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  const fromHeader = validate(leasePath, unquoted, 'If-Match');
  if (bodyLease !== undefined && bodyLease !== fromHeader)
    throw new ValidationError(
      `body.lease: ${bodyLease} differs from the If-Match header's ${fromHeader}; send the claim's lease once, in either`,
    );
  return { lease: fromHeader };
}

/** `POST …/agents/{agent}/tokens` and `…/people/{person}/tokens`: a new token, shown only in this response. */
function issueToken(role: Exclude<TokenRole, 'admin'>) {
  return async (request: ApiRequest, deps: Dependencies) => {
    const subject = (role === 'agent' ? request.params.agent : request.params.person) as string;
    const stored = await deps.store.currentPlan(project(request));
    if (!stored) throw new NotFoundError(`project ${project(request)} has no plan`);
    const ids = role === 'agent' ? stored.plan.agents.map((a) => a.id) : stored.plan.people.map((p) => p.id);
    if (!ids.includes(subject))
      throw new NotFoundError(
        `${role === 'agent' ? 'agent' : 'person'} ${subject} is not in the plan${didYouMean(subject, ids)}`,
      );
    const createdAt = deps.clock.now().toISOString();
    const { token, record } = await mintToken(
      deps,
      { role, project: project(request), subject },
      createdAt,
      ({ id }) => ({
        project: project(request),
        event: {
          id: deps.ids.next(createdAt),
          type: 'token.created',
          at: createdAt,
          actor: describeActor(request.actor),
          subject: `${role}:${subject}`,
          note: `token ${id}`,
        },
      }),
    );
    return {
      status: 201,
      body: {
        token,
        id: record.id,
        role,
        subject,
        project: project(request),
        createdAt,
        note: 'store this token now: it is not shown again',
      },
    };
  };
}

/**
 * `DELETE …/tokens/{id}`: revokes any token of the project, or an admin token, at once on this container
 * and within the token cache time (30 s) on the others.
 */
async function revoke(request: ApiRequest, deps: Dependencies) {
  const id = request.params.id as string;
  if (!TOKEN_ID_FORMAT.test(id))
    throw new ValidationError(
      `path.id: "${id}" is not a token id: ids are 16 hex digits, as convoy tokens list shows them`,
    );
  const stored = await deps.tokens.findToken(id);
  if (!stored || (stored.role !== 'admin' && stored.project !== project(request)))
    throw new NotFoundError(
      `project ${project(request)} has no token ${id}; convoy tokens list shows its tokens`,
    );
  const at = deps.clock.now().toISOString();
  const holder = stored.role === 'admin' ? 'admin' : `${stored.role}:${stored.subject}`;
  const revoked = await revokeToken(deps, id, {
    project: project(request),
    event: {
      id: deps.ids.next(at),
      type: 'token.revoked',
      at,
      actor: describeActor(request.actor),
      subject: holder,
      note: `token ${id}`,
    },
  });
  if (!revoked)
    throw new NotFoundError(`project ${project(request)} has no token ${id}; it was just revoked`);
  return {
    status: 200,
    body: {
      revoked: {
        id,
        role: stored.role,
        ...(stored.subject !== undefined ? { subject: stored.subject } : {}),
        createdAt: stored.createdAt,
      },
    },
  };
}

/**
 * `POST …/escalations/{id}/ack|resolve|reassign`: open to any token of the project; the use case
 * decides who may (a person the escalation reached, the agent's owner for a reassignment, an admin).
 */
function escalationAction(
  run: (ports: EscalationPorts, input: EscalationActionInput) => Promise<EscalationActionResult>,
): RouteDefinition {
  return command(escalationActionBody, 200, ({ note }, request, deps) =>
    run(deps, { ...scope(request), id: request.params.id as string, ...(note ? { note } : {}) }),
  );
}

/** The routes of the agent API that change coordination state. */
export const makeApiWriteHandler = (deps: HandlerDependencies) =>
  middy(
    apiHandler(
      {
        'POST /v1/plans/{project}/agents/{agent}/heartbeat': command(
          heartbeatBody,
          200,
          async (body, request, deps) => ({
            agent: await recordHeartbeat(deps, {
              ...body,
              ...scope(request),
              agent: request.params.agent as string,
            }),
          }),
        ),
        'POST /v1/plans/{project}/tasks/{task}/transitions': command(
          fencedTransitionBody,
          200,
          ({ lease, ...body }, request, deps) =>
            transitionTask(deps, {
              ...body,
              ...scope(request),
              task: request.params.task as string,
              ...leaseOf(request, lease),
            }),
        ),
        'POST /v1/plans/{project}/tasks/{task}/blocker': command(
          fencedBlockerBody,
          200,
          ({ reason, lease }, request, deps) =>
            setBlocker(deps, {
              ...scope(request),
              task: request.params.task as string,
              reason,
              ...leaseOf(request, lease),
            }),
        ),
        'DELETE /v1/plans/{project}/tasks/{task}/blocker': command(
          fencedUnblockBody,
          200,
          ({ lease }, request, deps) =>
            setBlocker(deps, {
              ...scope(request),
              task: request.params.task as string,
              reason: null,
              ...leaseOf(request, lease),
            }),
        ),
        'POST /v1/plans/{project}/agents/{agent}/claim': command(claimBody, 200, ({ task }, request, deps) =>
          claimTask(deps, {
            ...scope(request),
            agent: request.params.agent as string,
            ...(task !== undefined ? { task } : {}),
          }),
        ),
        'POST /v1/plans/{project}/tasks/{task}/release': command(
          releaseBody,
          200,
          ({ lease }, request, deps) =>
            releaseTask(deps, {
              ...scope(request),
              task: request.params.task as string,
              ...leaseOf(request, lease),
            }),
        ),
        'POST /v1/plans/{project}/leases': command(
          leaseBody,
          201,
          async ({ resource, paths, mode, ttl, task }, request, deps) => ({
            lease: await acquireLease(deps, {
              ...scope(request),
              mode,
              ...(resource !== undefined ? { resource } : {}),
              ...(paths !== undefined ? { paths } : {}),
              ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
              ...(task !== undefined ? { task } : {}),
            }),
          }),
        ),
        'DELETE /v1/plans/{project}/leases/{id}': {
          access: 'project',
          async run(request, deps) {
            jsonBody(request, releaseLeaseBody);
            const id = validate(leasePath, request.params.id, 'path.id');
            return { status: 200, body: await releaseLease(deps, { ...scope(request), id }) };
          },
        },
        'POST /v1/plans/{project}/handoffs': {
          access: 'project',
          async run(request, deps) {
            const { lease, ...body } = jsonBody(request, fencedHandoffBody);
            const result = await recordHandoff(deps, {
              ...body,
              ...scope(request),
              ...leaseOf(request, lease),
            });
            // A retry of the same handoff answers 200 with the one recorded first.
            return { status: result.created ? 201 : 200, body: result };
          },
        },
        'POST /v1/plans/{project}/metrics': command(metricsBody, 201, async (body, request, deps) => ({
          metrics: await recordMetrics(deps, {
            project: project(request),
            metrics: 'metrics' in body ? body.metrics : [body],
          }),
        })),
        'POST /v1/plans/{project}/events': command(eventBody, 201, async (body, request, deps) => ({
          event: await recordEvent(deps, { ...body, ...scope(request) }),
        })),
        'POST /v1/plans/{project}/agents/{agent}/tokens': { access: 'admin', run: issueToken('agent') },
        'POST /v1/plans/{project}/people/{person}/tokens': { access: 'admin', run: issueToken('person') },
        'DELETE /v1/plans/{project}/tokens/{id}': { access: 'admin', run: revoke },
        'POST /v1/plans/{project}/gates/{gate}/evaluate': {
          access: 'admin',
          async run(request, deps) {
            jsonBody(request, gateEvaluateBody);
            const { result, state } = await startGate(deps, {
              project: request.params.project as string,
              gate: request.params.gate as string,
            });
            return {
              status: result === 'started' ? 202 : 200,
              body: {
                gate: state.gate,
                phase: state.phase,
                attempt: state.attempt,
                status: state.status,
                result,
              },
            };
          },
        },
        'POST /v1/plans/{project}/gates/{gate}/decision': command(
          gateDecisionBody,
          200,
          async (body, request, deps) => ({
            decision: await decideGate(deps, {
              ...scope(request),
              gate: request.params.gate as string,
              decision: body.decision,
              ...(body.note ? { note: body.note } : {}),
            }),
          }),
        ),
        'POST /v1/plans/{project}/escalations/{id}/ack': escalationAction(acknowledgeEscalation),
        'POST /v1/plans/{project}/escalations/{id}/resolve': escalationAction(resolveEscalation),
        'POST /v1/plans/{project}/escalations/{id}/reassign': escalationAction(confirmEscalationReassignment),
        'POST /v1/plans/{project}/escalations/{id}/snooze': command(
          escalationSnoozeBody,
          200,
          ({ until, note }, request, deps) =>
            snoozeEscalation(deps, {
              ...scope(request),
              id: request.params.id as string,
              until,
              ...(note ? { note } : {}),
            }),
        ),
      },
      () => deps,
      (message, error) => deps.logger.error(message, error as Error),
    ),
  ).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeApiWriteHandler, createRunOnceDependencies);
