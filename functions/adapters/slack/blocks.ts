import type { ChatMessage } from '../../core/ports.js';

/**
 * Block Kit messages for what Convoy posts to Slack. Every builder is pure, escapes whatever came
 * from users (titles, reasons, notes, names) and keeps within Slack's limits by truncating with an
 * ellipsis or "… and N more", never by splitting a message in two.
 */

type Block = Record<string, unknown>;

/** Slack's limits for the parts Convoy uses (docs.slack.dev, Block Kit reference). */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fieldsPerSection: 10,
  contextElements: 10,
  /**
   * Slack accepts up to 40,000 characters of top-level text, but it is only the notification and
   * screen-reader fallback here, so it is kept as short as a section.
   */
  fallbackText: 3000,
} as const;

const ELLIPSIS = '…';

/** A person as the plan knows them: a name, and a Slack user id when the plan has one. */
export type Person = string | { readonly name: string; readonly slack?: string };

export interface TaskRef {
  readonly id: string;
  readonly title?: string;
  /** A page about the task (Convoy's UI, the JIRA issue), linked from its id. */
  readonly url?: string;
}

/**
 * Escapes the three characters Slack treats as markup (`&`, `<`, `>`), as Slack asks for any text
 * that is not meant to be a link, mention or command. Applies to mrkdwn and plain_text alike.
 */
export function escapeSlackText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Shortens escaped Slack text to at most `max` characters, ending with an ellipsis. It never cuts
 * inside an entity (`&amp;`), a link or mention (`<url|label>`, `<@U123>`), or a surrogate pair,
 * so the shortened text still renders correctly.
 */
export function truncateSlackText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < ELLIPSIS.length) return '';
  let head = text.slice(0, max - ELLIPSIS.length);
  const open = head.lastIndexOf('<');
  if (open !== -1 && !head.includes('>', open)) head = head.slice(0, open);
  const amp = head.lastIndexOf('&');
  if (amp !== -1 && !head.includes(';', amp)) head = head.slice(0, amp);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}${ELLIPSIS}`;
}

/**
 * Joins already-rendered items (links, names) within `max` characters. Items that do not fit are
 * counted instead of cut (`a, b, … and 3 more`), so a link is never broken in half.
 */
export function joinWithinLimit(items: readonly string[], max: number, separator = ', '): string {
  const all = items.join(separator);
  if (all.length <= max) return all;
  let shown = '';
  for (const [index, item] of items.entries()) {
    const next = index === 0 ? item : `${shown}${separator}${item}`;
    const left = items.length - index - 1;
    if (next.length + (left > 0 ? `${separator}${ELLIPSIS} and ${left} more`.length : 0) > max) {
      const rest = `${ELLIPSIS} and ${items.length - index} more`;
      return truncateSlackText(index === 0 ? rest : `${shown}${separator}${rest}`, max);
    }
    shown = next;
  }
  return shown;
}

/**
 * Keeps a message within Slack's 50 blocks: the first 49 and a context block saying how many were
 * left out, so a reader knows the message is incomplete.
 */
export function limitBlocks(blocks: readonly Block[]): Block[] {
  const max = SLACK_LIMITS.blocksPerMessage;
  if (blocks.length <= max) return [...blocks];
  const omitted = blocks.length - (max - 1);
  return [...blocks.slice(0, max - 1), context([`${ELLIPSIS} ${omitted} more blocks not shown`])];
}

// Builders of single blocks. Their text arguments are escaped mrkdwn already; they only enforce limits.

function header(plainText: string): Block {
  return {
    type: 'header',
    text: { type: 'plain_text', text: truncateSlackText(plainText, SLACK_LIMITS.headerText), emoji: true },
  };
}

function section(mrkdwn: string): Block {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateSlackText(mrkdwn, SLACK_LIMITS.sectionText) },
  };
}

function fields(items: readonly (readonly [label: string, value: string])[]): Block {
  return {
    type: 'section',
    fields: items.slice(0, SLACK_LIMITS.fieldsPerSection).map(([label, value]) => ({
      type: 'mrkdwn',
      text: truncateSlackText(`*${label}*\n${value}`, SLACK_LIMITS.fieldText),
    })),
  };
}

function context(mrkdwnElements: readonly string[]): Block {
  return {
    type: 'context',
    elements: mrkdwnElements
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => ({ type: 'mrkdwn', text: truncateSlackText(text, SLACK_LIMITS.sectionText) })),
  };
}

function message(fallback: string, blocks: readonly Block[]): ChatMessage {
  return { text: truncateSlackText(fallback, SLACK_LIMITS.fallbackText), blocks: limitBlocks(blocks) };
}

// Inline pieces: these create Slack markup, so they escape what goes inside it.

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** `<@U123>` when the person has a Slack id, else their name, escaped. */
function mention(person: Person): string {
  if (typeof person === 'string') return escapeSlackText(person);
  return person.slack && SLACK_USER_ID.test(person.slack)
    ? `<@${person.slack}>`
    : escapeSlackText(person.name);
}

/** `<url|label>` for http(s) URLs; anything else shows the label alone rather than a broken link. */
function link(url: string | undefined, label: string): string {
  const escapedLabel = escapeSlackText(label);
  if (!url || !/^https?:\/\/[^\s]+$/i.test(url)) return escapedLabel;
  return `<${escapeSlackText(url).replaceAll('|', '%7C')}|${escapedLabel.replaceAll('|', '¦')}>`;
}

/** Inline code; a backtick inside would end the span, so it becomes a look-alike quote. */
function code(text: string): string {
  return `\`${escapeSlackText(text).replaceAll('`', 'ʼ')}\``;
}

/** `` `api-1` `` or `<url|api-1>`, then the title when it says more than the id. */
function taskLine(task: TaskRef): string {
  const id = task.url ? link(task.url, task.id) : code(task.id);
  return task.title && task.title !== task.id ? `${id} ${escapeSlackText(task.title)}` : id;
}

const titleOf = (task: TaskRef) => task.title ?? task.id;

function footer(project: string | undefined): Block[] {
  return project ? [context([`Convoy · project ${code(project)}`])] : [];
}

function textSection(label: string, text: string | undefined): Block[] {
  return text?.trim() ? [section(`*${label}*\n${escapeSlackText(text.trim())}`)] : [];
}

// The messages.

export interface TaskDoneInput {
  readonly project: string;
  readonly task: TaskRef;
  readonly by?: Person;
  readonly note?: string;
}

export function taskDoneMessage(input: TaskDoneInput): ChatMessage {
  const { task } = input;
  return message(`✅ Task ${task.id} is done: ${escapeSlackText(titleOf(task))}`, [
    header(`✅ Done: ${escapeSlackText(titleOf(task))}`),
    fields([['Task', taskLine(task)], ...(input.by ? [['Done by', mention(input.by)] as const] : [])]),
    ...textSection('Note', input.note),
    ...footer(input.project),
  ]);
}

export interface TaskBlockedInput {
  readonly project: string;
  readonly task: TaskRef;
  readonly reason: string;
  readonly by?: Person;
}

export function taskBlockedMessage(input: TaskBlockedInput): ChatMessage {
  const { task } = input;
  const reason = input.reason.trim() || 'no reason given';
  return message(`⛔ Task ${task.id} is blocked: ${escapeSlackText(reason)}`, [
    header(`⛔ Blocked: ${escapeSlackText(titleOf(task))}`),
    fields([['Task', taskLine(task)], ...(input.by ? [['Reported by', mention(input.by)] as const] : [])]),
    ...textSection('Reason', reason),
    ...footer(input.project),
  ]);
}

export interface TaskHandedOffInput {
  readonly project: string;
  readonly task: TaskRef;
  /** The tasks that take the work over. */
  readonly to: readonly TaskRef[];
  /** The handoff checklist: item → confirmed. */
  readonly checklist: Readonly<Record<string, boolean>>;
  readonly notes?: string;
  readonly by?: Person;
}

export function taskHandedOffMessage(input: TaskHandedOffInput): ChatMessage {
  const { task } = input;
  const items = Object.entries(input.checklist);
  const confirmed = items.filter(([, done]) => done).length;
  const summary =
    items.length === 0
      ? 'no checklist'
      : confirmed === items.length
        ? `all ${items.length} items confirmed`
        : `${confirmed} of ${items.length} items confirmed`;
  const receivers = input.to.length === 0 ? 'no tasks' : input.to.map((t) => t.id).join(', ');
  const lines = items.map(([item, done]) => `${done ? '✅' : '❌'} ${escapeSlackText(item)}`);
  const room = SLACK_LIMITS.sectionText - `*Checklist* (${summary})\n`.length;
  return message(`🤝 Task ${task.id} handed off to ${escapeSlackText(receivers)}; ${summary}`, [
    header(`🤝 Handed off: ${escapeSlackText(titleOf(task))}`),
    fields([['Task', taskLine(task)], ...(input.by ? [['Handed off by', mention(input.by)] as const] : [])]),
    section(
      `*To*\n${input.to.length === 0 ? '_no tasks_' : joinWithinLimit(input.to.map(taskLine), SLACK_LIMITS.sectionText - 5, '\n')}`,
    ),
    section(`*Checklist* (${summary})${lines.length ? `\n${joinWithinLimit(lines, room - 1, '\n')}` : ''}`),
    ...textSection('Notes', input.notes),
    ...footer(input.project),
  ]);
}

export interface PrMergedInput {
  /** `owner/name`. */
  readonly repo: string;
  readonly number: number;
  readonly title: string;
  readonly url?: string;
  readonly author: Person;
  /** Plan tasks the PR is linked to. */
  readonly tasks: readonly TaskRef[];
  /** JIRA keys named by the PR (title, branch, commits). */
  readonly issues: readonly string[];
  /** Links each key to its issue, e.g. `https://acme.atlassian.net/browse/${key}`. */
  readonly issueUrl?: (key: string) => string;
  readonly project?: string;
}

export function prMergedMessage(input: PrMergedInput): ChatMessage {
  const pr = `${input.repo}#${input.number}`;
  const max = SLACK_LIMITS.fieldText - '*Issues*\n'.length;
  const tasks = input.tasks.map((task) => (task.url ? link(task.url, task.id) : code(task.id)));
  const issues = input.issues.map((key) => link(input.issueUrl?.(key), key));
  return message(`🔀 ${escapeSlackText(pr)} merged: ${escapeSlackText(input.title)}`, [
    header(`🔀 Merged: ${escapeSlackText(input.title)}`),
    section(`${link(input.url, pr)} ${escapeSlackText(input.title)}`),
    fields([
      ['Repository', code(input.repo)],
      ['Author', mention(input.author)],
      ['Tasks', tasks.length ? joinWithinLimit(tasks, max) : '_none linked_'],
      ['Issues', issues.length ? joinWithinLimit(issues, max) : '_none linked_'],
    ]),
    ...footer(input.project),
  ]);
}

export interface BuildFailingInput {
  readonly repo?: string;
  readonly workflow: string;
  readonly branch: string;
  /** Share of recent runs that failed, 0–1. */
  readonly failureRate: number;
  /** The runs the rate is computed from, when known. */
  readonly runs?: { readonly failed: number; readonly total: number };
  /** The rate above which the build counts as failing, 0–1. */
  readonly threshold?: number;
  /** The failing run. */
  readonly url?: string;
  readonly project?: string;
}

const percent = (rate: number) =>
  Number.isFinite(rate) ? `${Math.round(Math.min(1, Math.max(0, rate)) * 100)}%` : 'unknown';

export function buildFailingMessage(input: BuildFailingInput): ChatMessage {
  const rate = percent(input.failureRate);
  const runs = input.runs ? ` (${input.runs.failed} of ${input.runs.total} runs)` : '';
  const above = input.threshold === undefined ? '' : `, above the ${percent(input.threshold)} threshold`;
  const where = `${escapeSlackText(input.workflow)} on ${escapeSlackText(input.branch)}`;
  return message(`🔴 Build failing: ${where}, ${rate} of runs failed`, [
    header(`🔴 Build failing: ${where}`),
    fields([
      ['Workflow', link(input.url, input.workflow)],
      ['Branch', code(input.branch)],
      ['Failure rate', `${rate}${runs}${above}`],
      ...(input.repo ? [['Repository', code(input.repo)] as const] : []),
    ]),
    ...footer(input.project),
  ]);
}

// Text rendering, for `convoy dev` without a Slack token and for the audit trail.

/** Slack markup as a person reads it: links as `label (url)`, mentions as `@U123`, entities decoded. */
export function slackTextToPlain(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]*)>/g, (_, target: string, label: string) =>
      target.startsWith('!') ? label : /^[@#]/.test(target) ? `${target[0]}${label}` : `${label} (${target})`,
    )
    .replace(/<([@#])([^<>]+)>/g, '$1$2')
    .replace(/<!([^<>]+)>/g, '@$1')
    .replace(/<([^<>]+)>/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The text of every block, one entry per line, in order. */
export function renderBlocksAsText(blocks: readonly Block[]): string[] {
  const lines: string[] = [];
  const textOf = (value: unknown) =>
    typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string'
      ? slackTextToPlain((value as { text: string }).text)
      : undefined;
  for (const block of blocks) {
    const parts: string[] = [];
    const text = textOf(block.text);
    if (text !== undefined) parts.push(text);
    for (const element of [block.fields, block.elements].flatMap((list) =>
      Array.isArray(list) ? list : [],
    )) {
      const elementText = textOf(element) ?? textOf((element as { text?: unknown }).text);
      if (elementText !== undefined) parts.push(elementText);
    }
    if (block.type === 'divider') parts.push('—');
    const joined = block.type === 'context' ? parts.join(' · ') : parts.join('\n');
    lines.push(...joined.split('\n').filter((line) => line.trim() !== ''));
  }
  return lines;
}
