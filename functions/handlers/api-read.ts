import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { listEvents } from '../core/coordination/commands.js';
import { computeStatus } from '../core/coordination/status.js';
import { NotFoundError } from '../core/errors.js';
import { dependencies } from './dependencies.js';
import { apiHandler, validate } from './http/api.js';
import { eventsQuery } from './http/schemas.js';
import { logError, logger } from './logger.js';

/** The read-only routes of the agent API; this function's role can only read the table. */
export const handler = middy(
  apiHandler(
    {
      'GET /v1/plans/{project}/status': {
        access: 'project',
        async run({ params }, deps) {
          const project = params.project as string;
          const snapshot = await deps.store.snapshot(project);
          if (!snapshot)
            throw new NotFoundError(
              `project ${project} has no plan; apply one with PUT /v1/plans/${project}`,
            );
          return { status: 200, body: computeStatus(snapshot, deps.clock.now()) };
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
    },
    dependencies,
    logError,
  ),
).use(injectLambdaContext(logger));
