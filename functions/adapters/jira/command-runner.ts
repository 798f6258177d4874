import type { JiraCommand, OutboxEntry } from '../../core/integrations/model.js';
import type { CommandRunner, IssueTracker } from '../../core/ports.js';

/** Runs outbox commands against a tracker: one JIRA operation per command. */
export function trackerRunner(tracker: IssueTracker): CommandRunner {
  return async (command) => {
    switch (command.kind) {
      case 'create-issue': {
        const { project, type, summary, description, label } = command;
        await tracker.createIssue({ project, type, summary, description, label });
        return;
      }
      case 'transition':
        await tracker.transition(command.issue, command.status);
        return;
      case 'remote-link':
        await tracker.upsertRemoteLink(command.issue, command.link);
        return;
      case 'comment':
        await tracker.addComment(command.issue, command.body);
        return;
      case 'worklog':
        await tracker.addWorklog(command.issue, command.seconds, command.comment);
        return;
    }
  };
}

/** One readable line per JIRA call, for `convoy dev` without JIRA credentials. */
export function describeCommand(command: JiraCommand): string {
  switch (command.kind) {
    case 'transition':
      return `${command.issue}: move to "${command.status}"`;
    case 'remote-link':
      return `${command.issue}: link ${command.link.title} (${command.link.url})${command.link.resolved ? ' [resolved]' : ''}`;
    case 'comment':
      return `${command.issue}: comment "${command.body}"`;
    case 'worklog':
      return `${command.issue}: log ${Math.round(command.seconds / 60)} min${command.comment ? ` "${command.comment}"` : ''}`;
    case 'create-issue':
      return `${command.project}: create ${command.type} "${command.summary}" (label ${command.label}): ${command.description.replace(/\s*\n\s*/g, ' / ')}`;
  }
}

/**
 * Without credentials, commands are not sent: each is printed and kept in its project's audit trail
 * (event `jira.not_sent`), so a user trying Convoy sees exactly what JIRA would receive.
 */
export function printingRunner(
  print: (line: string) => void,
  record: (entry: OutboxEntry, line: string) => Promise<void>,
) {
  return async (command: JiraCommand, entry: OutboxEntry) => {
    const line = describeCommand(command);
    print(`[jira] ${line}`);
    await record(entry, line);
  };
}
