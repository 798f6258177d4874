import type { Notice } from '../../core/integrations/model.js';
import type { ChatMessage } from '../../core/ports.js';
import {
  buildFailingMessage,
  escapeSlackText,
  prMergedMessage,
  slackTextToPlain,
  taskBlockedMessage,
  taskDoneMessage,
  taskHandedOffMessage,
} from './blocks.js';

/** The Block Kit message of a notice from the outbox; JIRA keys link to the site when it is known. */
export function noticeMessage(notice: Notice, options: { jiraSite?: string } = {}): ChatMessage {
  const site = options.jiraSite?.replace(/\/+$/, '');
  switch (notice.type) {
    case 'pr-merged':
      return prMergedMessage({
        repo: notice.repo,
        number: notice.number,
        title: notice.title,
        url: notice.url,
        author: notice.author,
        tasks: notice.tasks.map((id) => ({ id })),
        issues: notice.issues,
        ...(site ? { issueUrl: (key: string) => `${site}/browse/${key}` } : {}),
      });
    case 'build-failing':
      return buildFailingMessage({
        repo: notice.repo,
        workflow: notice.workflow,
        branch: notice.branch,
        url: notice.url,
        failureRate: notice.failureRate,
        project: notice.project,
      });
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
    case 'agent-down': {
      const owner = notice.owner.slack ? `<@${notice.owner.slack}>` : escapeSlackText(notice.owner.name);
      const text = `:red_circle: *${escapeSlackText(notice.agent.name)}* is down: no heartbeat since ${notice.lastHeartbeatAt}. ${owner}, please bring it back.`;
      return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    }
    case 'agent-up': {
      const text = `:large_green_circle: *${escapeSlackText(notice.agent.name)}* is back (down since ${notice.downSince}).`;
      return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    }
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
