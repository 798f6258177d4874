import type {
  ChangeConflictNotice,
  EscalationAction,
  EscalationPostNotice,
  Notice,
} from '../../core/integrations/model.js';
import type { ChatMessage } from '../../core/ports.js';
import { formatInstant, formatInstantsIn } from '../../core/reports/dates.js';
import {
  buildFailingMessage,
  escapeSlackText,
  prMergedMessage,
  SLACK_LIMITS,
  slackTextToPlain,
  taskBlockedMessage,
  taskDoneMessage,
  taskHandedOffMessage,
  truncateSlackText,
} from './blocks.js';

export interface NoticeMessageOptions {
  /** The JIRA site: JIRA keys link to their issues there. */
  readonly jiraSite?: string;
  /** The project's time zone: times read `Mon 7 Dec 09:00 EST` in it. @default UTC */
  readonly timeZone?: string;
  /** The year of a time is shown when it is not the year of `now`. @default the clock's now */
  readonly now?: Date;
}

/** The Block Kit message of a notice from the outbox; JIRA keys link to the site when it is known. */
export function noticeMessage(notice: Notice, options: NoticeMessageOptions = {}): ChatMessage {
  const site = options.jiraSite?.replace(/\/+$/, '');
  const when = (instant: string) => formatInstant(instant, options.timeZone ?? 'UTC', options.now);
  /** A sentence of the engine's, its UTC timestamps written as people read them. */
  const words = (text: string) => formatInstantsIn(text, options.timeZone ?? 'UTC', options.now);
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
      const text = `:red_circle: *${escapeSlackText(notice.agent.name)}* is down: no heartbeat since ${escapeSlackText(when(notice.lastHeartbeatAt))}. ${owner}, please bring it back.`;
      return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    }
    case 'task-released': {
      const why =
        notice.reason === 'expired'
          ? `${escapeSlackText(notice.agent)}'s claim expired without a heartbeat`
          : `${escapeSlackText(notice.agent)} gave it back`;
      const text = `:leftwards_arrow_with_hook: *${escapeSlackText(notice.task.title)}* (${escapeSlackText(notice.task.id)}) is ready to claim again: ${why}.`;
      return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    }
    case 'resource-conflict': {
      if ('source' in notice) return changeConflictMessage(notice, when);
      const held = `${escapeSlackText(notice.holder)} holds it${notice.task ? ` for ${escapeSlackText(notice.task)}` : ''} until ${escapeSlackText(when(notice.expiresAt))}`;
      const text = notice.overridden
        ? `:warning: Resource conflict on *${escapeSlackText(notice.what)}*: its owner ${escapeSlackText(notice.requestedBy)} took a lease over it; ${held}.`
        : `:warning: Resource conflict on *${escapeSlackText(notice.what)}*: ${escapeSlackText(notice.requestedBy)} asked for a lease, refused; ${held}.`;
      return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    }
    case 'agent-up': {
      const text = `:large_green_circle: *${escapeSlackText(notice.agent.name)}* is back (down since ${escapeSlackText(when(notice.downSince))}).`;
      return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    }
    case 'escalation':
      return escalationMessage(notice, words);
    case 'gate':
      return gateMessage(notice, words);
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

/** The `action_id` of each escalation button; the Slack interactions handler dispatches on it. */
export const ESCALATION_ACTION_IDS: Readonly<Record<EscalationAction, string>> = {
  ack: 'escalation:ack',
  resolve: 'escalation:resolve',
  reassign: 'escalation:reassign',
};

const ESCALATION_BUTTONS: Readonly<Record<EscalationAction, { text: string; style?: 'primary' | 'danger' }>> =
  {
    ack: { text: 'Acknowledge' },
    resolve: { text: 'Resolve', style: 'primary' },
    reassign: { text: 'Reassign to backup', style: 'danger' },
  };

/** Slack's limit on a button's `value`. */
const BUTTON_VALUE_LIMIT = 2000;

/** `<project>|<escalation id>`: what an escalation button carries back to Convoy. */
export function escalationButtonValue(project: string, id: string): string {
  return `${project}|${id}`;
}

/** The project and escalation id an escalation button carries, or undefined for any other value. */
export function parseEscalationButtonValue(value: string): { project: string; id: string } | undefined {
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1) return undefined;
  return { project: value.slice(0, bar), id: value.slice(bar + 1) };
}

/** The post about an escalation: the mentions and the engine's sentence, then its buttons. */
function escalationMessage(notice: EscalationPostNotice, words: (text: string) => string): ChatMessage {
  const { escalation } = notice;
  const icon =
    escalation.status === 'resolved'
      ? ':white_check_mark:'
      : escalation.status === 'acknowledged'
        ? ':eyes:'
        : ':rotating_light:';
  const mentions = notice.mentions
    .filter((id) => /^[UW][A-Z0-9]{2,}$/.test(id))
    .map((id) => `<@${id}>`)
    .join(' ');
  const text = `${icon} ${mentions ? `${mentions} ` : ''}${escapeSlackText(words(notice.text))}`;
  const value = escalationButtonValue(notice.project, escalation.id);
  const buttons =
    value.length > BUTTON_VALUE_LIMIT
      ? []
      : notice.actions.map((action) => ({
          type: 'button',
          action_id: ESCALATION_ACTION_IDS[action],
          text: { type: 'plain_text', text: ESCALATION_BUTTONS[action].text, emoji: true },
          value,
          ...(ESCALATION_BUTTONS[action].style ? { style: ESCALATION_BUTTONS[action].style } : {}),
        }));
  const about = `Convoy · project \`${escapeSlackText(notice.project)}\` · escalation \`${escapeSlackText(escalation.id)}\` · level ${escalation.level} · ${escalation.status}`;
  return {
    text: truncateSlackText(slackTextToPlain(text), SLACK_LIMITS.fallbackText),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncateSlackText(text, SLACK_LIMITS.sectionText) } },
      ...(buttons.length > 0 ? [{ type: 'actions', elements: buttons }] : []),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: truncateSlackText(about, SLACK_LIMITS.sectionText) }],
      },
    ],
  };
}

/** The `action_id` of the gate decision buttons; the Slack interactions handler dispatches on it. */
export const GATE_ACTION_IDS = { advance: 'gate:advance', hold: 'gate:hold' } as const;

/** The button value of a gate decision: which project, gate and attempt it decides. */
export function gateButtonValue(project: string, gate: string, attempt: number): string {
  return `${project}|${gate}|${attempt}`;
}

export function parseGateButtonValue(
  value: string,
): { project: string; gate: string; attempt: number } | undefined {
  const [project, gate, attempt, ...rest] = value.split('|');
  const number = Number(attempt);
  if (!project || !gate || rest.length > 0 || !Number.isInteger(number) || number < 1) return undefined;
  return { project, gate, attempt: number };
}

function gateMessage(
  notice: Extract<Notice, { type: 'gate' }>,
  words: (text: string) => string,
): ChatMessage {
  const mentions = notice.mentions.map((id) => `<@${escapeSlackText(id)}>`).join(' ');
  const headline = `*${escapeSlackText(words(notice.headline))}*${mentions ? ` ${mentions}` : ''}`;
  const body = notice.lines.map((line) => `• ${escapeSlackText(words(line))}`).join('\n');
  const text = truncateSlackText(body ? `${headline}\n${body}` : headline, SLACK_LIMITS.sectionText);
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  if (notice.decide) {
    const value = gateButtonValue(notice.project, notice.gate, notice.decide.attempt);
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: GATE_ACTION_IDS.advance,
          text: { type: 'plain_text', text: 'Accept risk and advance' },
          style: 'primary',
          value,
        },
        {
          type: 'button',
          action_id: GATE_ACTION_IDS.hold,
          text: { type: 'plain_text', text: 'Hold' },
          style: 'danger',
          value,
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: escapeSlackText(`${notice.project} · gate ${notice.gate} · phase ${notice.phase}`),
      },
    ],
  });
  return { text: truncateSlackText(slackTextToPlain(text), SLACK_LIMITS.fallbackText), blocks };
}

/** A push or pull request into another agent's leased or owned resource: who, what, and who goes first. */
function changeConflictMessage(notice: ChangeConflictNotice, when: (iso: string) => string): ChatMessage {
  const change =
    notice.source === 'push'
      ? `pushed ${notice.commit ? `${notice.commit.slice(0, 7)} ` : ''}to ${notice.repository}`
      : `opened or updated PR #${notice.pr ?? '?'} in ${notice.repository}`;
  const into = notice.holder
    ? `${escapeSlackText(notice.holder)} holds an exclusive lease on it${notice.task ? ` for ${escapeSlackText(notice.task)}` : ''}${notice.expiresAt ? ` until ${escapeSlackText(when(notice.expiresAt))}` : ''}`
    : `it is ${escapeSlackText(notice.owner)}'s and ${escapeSlackText(notice.changedBy)} holds no lease on it`;
  const shown = notice.paths.slice(0, 5).map((path) => `\`${escapeSlackText(path.slice(0, 200))}\``);
  const more = notice.changedPaths > shown.length ? ` and ${notice.changedPaths - shown.length} more` : '';
  // A link only to a plain https address: `|` or `>` would end Slack's link syntax early.
  const link = notice.url && /^https:\/\/[^\s<>|]+$/.test(notice.url) ? ` <${notice.url}|view>` : '';
  const text = `:warning: Resource conflict on *${escapeSlackText(notice.resource.name)}* (${escapeSlackText(notice.resource.id)}): ${escapeSlackText(notice.changedBy)} ${escapeSlackText(change)}, changing ${shown.join(', ')}${more}; ${into}. The owner, ${escapeSlackText(notice.owner)}, takes precedence.${link}`;
  return { text: slackTextToPlain(text), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
