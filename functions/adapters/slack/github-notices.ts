import type { GithubNotices } from '../../core/integrations/github-events.js';
import type { ChatPoster } from '../../core/ports.js';
import { buildFailingMessage, prMergedMessage } from './blocks.js';

/** The Slack messages of the GitHub flow: PR merged, build failing. */
export function githubNotices(chat: ChatPoster, options: { jiraSite?: string } = {}): GithubNotices {
  const site = options.jiraSite?.replace(/\/+$/, '');
  return {
    chat,
    prMerged: (pr) =>
      prMergedMessage({
        repo: pr.repo,
        number: pr.number,
        title: pr.title,
        url: pr.url,
        author: pr.author,
        tasks: pr.tasks.map((id) => ({ id })),
        issues: pr.issues,
        ...(site ? { issueUrl: (key: string) => `${site}/browse/${key}` } : {}),
      }),
    buildFailing: (build) =>
      buildFailingMessage({
        repo: build.repo,
        workflow: build.workflow,
        branch: build.branch,
        url: build.url,
        failureRate: build.failureRate ?? 1,
      }),
  };
}
