import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { OctokitPullRequestFiles } from '../adapters/github/pull-request-files.js';
import {
  type GithubDelivery,
  type GithubPorts,
  githubDeliverySchema,
  handleGithubDelivery,
} from '../core/integrations/github-events.js';
import { ConfigError } from './config.js';
import { fromEnvironment, type HandlerDependencies } from './dependencies.js';

/**
 * Applies queued GitHub deliveries. A delivery that fails is reported back as a batch item failure,
 * so SQS retries only it; after the queue's maxReceiveCount it lands in the dead-letter queue
 * (alarmed). Deliveries are idempotent to apply, because SQS delivers at least once.
 */
export const makeGithubWorkerHandler = (deps: HandlerDependencies) =>
  middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const { logger } = deps;
    const github = githubPorts(deps);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const delivery = parseDelivery(record.body);
      if (!delivery.ok) {
        // No retry can make a malformed message applicable: it is logged and dropped, not retried
        // until it reaches the dead-letter queue.
        logger.error('github delivery dropped: not a delivery the webhook queues', {
          messageId: record.messageId,
          problem: delivery.problem,
        });
        continue;
      }
      try {
        const outcome = await handleGithubDelivery(github, delivery.value);
        logger.info('github delivery applied', {
          delivery: delivery.value.id,
          event: delivery.value.event,
          ...outcome,
        });
      } catch (error) {
        logger.error('github delivery failed; SQS will retry it', {
          messageId: record.messageId,
          error: (error as Error).message,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  }).use(injectLambdaContext(deps.logger));

// A delivery only changes tasks and queues JIRA and Slack commands in the outbox: the worker needs
// neither the JIRA nor the Slack client, so its bundle holds neither. It holds Octokit, for PR files.
export const handler = fromEnvironment(makeGithubWorkerHandler);

function githubPorts(deps: HandlerDependencies): GithubPorts {
  if (!deps.outbox) throw new ConfigError('the GitHub worker needs the outbox its JIRA commands go to');
  // A pull request's files come from GitHub's API with CONVOY_GITHUB_TOKEN (read per listing, so a
  // rotated token is picked up); without one, pull requests are not checked for conflicts.
  const pullRequestFiles =
    deps.pullRequestFiles ??
    new OctokitPullRequestFiles({ token: async () => (await deps.secrets()).CONVOY_GITHUB_TOKEN });
  return { ...deps, outbox: deps.outbox, pullRequestFiles };
}

/** A queued message as the webhook wrote it, or what is wrong with it. */
function parseDelivery(body: string): { ok: true; value: GithubDelivery } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'the message body is not JSON' };
  }
  const parsed = githubDeliverySchema.safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : {
        ok: false,
        problem: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
      };
}
