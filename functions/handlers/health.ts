import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';

/** How long the database may take to answer before /health calls it unreachable. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * `GET /health`: no auth. 200 when the API is up and its database answers a read, 503 when the
 * database cannot be reached (DynamoDB Local stopped, the table gone), so a load balancer, a
 * supervisor or a human sees the outage that every data route would otherwise show as a 500.
 */
export const makeHealthHandler = (deps: HandlerDependencies) =>
  middy(async (): Promise<APIGatewayProxyStructuredResultV2> => {
    const database = await databaseState(deps);
    return {
      statusCode: database === 'ok' ? 200 : 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify({ status: database === 'ok' ? 'ok' : 'unavailable', service: 'convoy', database }),
    };
  });

export const handler = fromEnvironment(makeHealthHandler);

/**
 * One small query the table must answer (the list of projects: one item per project), given
 * {@link PROBE_TIMEOUT_MS}; no cache stands in front of it.
 */
async function databaseState(
  deps: Pick<HandlerDependencies, 'store' | 'logger'>,
): Promise<'ok' | 'unreachable'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.store.listProjects(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
          PROBE_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (error) {
    deps.logger.warn('health: the database did not answer', { error: (error as Error).message });
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}
