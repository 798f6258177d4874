import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { NotFoundError } from '../core/errors.js';
import { produceReport } from '../core/rhythm/jobs.js';
import { reportSince } from '../core/rhythm/report-context.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { apiHandler, validate } from './http/api.js';
import { chartQuery } from './http/schemas.js';
import { reportRenderer } from './report-renderer.js';

/**
 * The burndown chart as PNG, drawn now or as a report kept it: the one API route that needs the chart
 * renderer (a font, a rasteriser and a PNG encoder, 150 KB), so it has a function of its own and the
 * other read routes (api-read) load none of it.
 */
export const makeApiChartsHandler = (deps: HandlerDependencies) =>
  middy(
    apiHandler(
      {
        'GET /v1/plans/{project}/charts/burndown.png': {
          access: 'project',
          async run({ params, query }, deps) {
            const project = params.project as string;
            const { kept } = validate(chartQuery, query, 'query');
            if (kept) {
              const chart = await deps.charts.latestChart(project, 'burndown');
              if (!chart)
                throw new NotFoundError(
                  `no burndown chart of ${project} is kept yet; the daily report keeps one`,
                );
              return { status: 200, contentType: 'image/png', body: chart.png };
            }
            const stored = await deps.store.currentPlan(project);
            if (!stored)
              throw new NotFoundError(
                `project ${project} has no plan; apply one with PUT /v1/plans/${project}`,
              );
            const document = await produceReport(deps, {
              project,
              kind: 'report',
              since: reportSince(stored.plan, 'report', deps.clock.now()),
            });
            const block = document.sections
              .flatMap((section) => section.blocks)
              .find((candidate) => candidate.kind === 'chart');
            if (block?.kind !== 'chart')
              throw new NotFoundError(`the report of ${project} has no burndown chart`);
            return { status: 200, contentType: 'image/png', body: await reportRenderer.chart(block) };
          },
        },
      },
      () => deps,
      (message, error) => deps.logger.error(message, error as Error),
    ),
  ).use(injectLambdaContext(deps.logger));

export const handler = fromEnvironment(makeApiChartsHandler);
