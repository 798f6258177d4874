import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { applyPlan } from '../core/coordination/commands.js';
import { ValidationError } from '../core/errors.js';
import { formatPlanError, parsePlan } from '../core/plan/index.js';
import { type Dependencies, fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { type ApiRequest, apiHandler } from './http/api.js';
import { createRunOnceDependencies } from './run-once.js';

/** `PUT /v1/plans/{project}`: YAML or JSON, validated exactly as `convoy validate` does. */
async function putPlan(request: ApiRequest, deps: Dependencies) {
  const type = (request.event.headers?.['content-type'] ?? '').toLowerCase();
  const json =
    type.includes('json') || (!type.includes('yaml') && request.rawBody.trimStart().startsWith('{'));
  const file = json ? 'plan.json' : 'plan.yaml';
  const parsed = parsePlan(request.rawBody, { file, format: json ? 'json' : 'yaml' });
  if (!parsed.ok) {
    const shown = parsed.errors.slice(0, 5).map(formatPlanError).join('\n');
    const more = parsed.errors.length > 5 ? `\n… and ${parsed.errors.length - 5} more` : '';
    throw new ValidationError(
      `the plan is invalid (${parsed.errors.length} problem${parsed.errors.length === 1 ? '' : 's'}):\n${shown}${more}`,
      parsed.errors,
    );
  }
  const result = await applyPlan(deps, {
    project: request.params.project as string,
    plan: parsed.plan,
    actor: request.actor,
  });
  return { status: result.created ? 201 : 200, body: result };
}

/**
 * Applying a plan, the one API route that parses YAML: its own function, so the two YAML parsers
 * (160 KB) load only here and not in every agent's heartbeat and transition (api-write).
 */
export const makeApiPlansHandler = (deps: HandlerDependencies) =>
  middy(
    apiHandler(
      { 'PUT /v1/plans/{project}': { access: 'admin', run: putPlan } },
      () => deps,
      (message, error) => deps.logger.error(message, error as Error),
    ),
  ).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeApiPlansHandler, createRunOnceDependencies);
