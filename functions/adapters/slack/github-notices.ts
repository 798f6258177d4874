import type { GithubNotices } from '../../core/integrations/github-events.js';
import type { TaskNotice } from '../../core/integrations/model.js';
import type { ChatMessage, ChatPoster } from '../../core/ports.js';
import {
  buildFailingMessage,
  prMergedMessage,
  taskBlockedMessage,
  taskDoneMessage,
  taskHandedOffMessage,
} from './blocks.js';

/** The Block Kit message of a task notice from the outbox. */
export function noticeMessage(notice: TaskNotice): ChatMessage {
  switch (notice.type) {
    case 'task-done':
      return taskDoneMessage({
        project: notice.project,
        task: notice.task,
        by: notice.by,
        ...(notice.note ? { note: notice.note } : {}),
      });
    case 'task-blocked':
      return taskBlockedMessage({
        project: notice.project,
        task: notice.task,
        by: notice.by,
        reason: notice.reason,
      });
    case 'task-handed-off':
      return taskHandedOffMessage({
        project: notice.project,
        task: notice.task,
        by: notice.by,
        to: notice.to,
        checklist: notice.checklist,
        ...(notice.notes ? { notes: notice.notes } : {}),
      });
  }
}

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
