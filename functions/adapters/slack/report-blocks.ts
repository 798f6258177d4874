import type { ChatMessage } from '../../core/ports.js';
import type {
  Inline,
  ReportBlock,
  ReportDocument,
  ReportKind,
  ReportSection,
  RichText,
} from '../../core/reports/model.js';
import { escapeSlackText, limitBlocks, SLACK_LIMITS, truncateSlackText } from './blocks.js';

/**
 * A report as one Block Kit message. A Slack post is a summary: long lists and tables show their
 * first entries and say how many more there are, a section too long for one block continues in the
 * next, and a report with more sections than blocks allow is packed several sections to a block.
 * People are mentioned by Slack id where the plan has one; a chart becomes a context line (its PNG is
 * uploaded beside the message).
 */

type Block = Record<string, unknown>;

export interface ReportBlocksOptions {
  /** Entries of a list shown before "… and N more". @default 10 */
  readonly maxListItems?: number;
  /** Nested entries shown under one list entry. @default 8 */
  readonly maxNestedItems?: number;
  /** Rows of a table shown before "… and N more rows". @default 15 */
  readonly maxTableRows?: number;
}

const ELLIPSIS = '…';
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

const KIND_EMOJI: Record<ReportKind, string> = {
  standup: '☀️',
  sync: '🔄',
  report: '📊',
  'weekly-summary': '🗓️',
};

function inline(part: Inline): string {
  if (typeof part === 'string') return escapeSlackText(part);
  switch (part.kind) {
    case 'strong': {
      const text = escapeSlackText(part.text).replaceAll('*', '∗').trim();
      return text ? `*${text}*` : '';
    }
    case 'code':
      return `\`${escapeSlackText(part.text).replaceAll('`', 'ʼ')}\``;
    case 'link':
      return /^https?:\/\/[^\s]+$/i.test(part.url)
        ? `<${escapeSlackText(part.url).replaceAll('|', '%7C')}|${escapeSlackText(part.text).replaceAll('|', '¦')}>`
        : escapeSlackText(part.text);
    case 'mention':
      return part.slack && SLACK_USER_ID.test(part.slack) ? `<@${part.slack}>` : escapeSlackText(part.name);
  }
}

const rich = (text: RichText) =>
  text
    .map(inline)
    .join('')
    .replace(/\s*\n\s*/g, ' ');

const isEmpty = (text: RichText) => {
  const plain = text.map((part) =>
    typeof part === 'string' ? part : 'text' in part ? part.text : part.name,
  );
  const joined = plain.join('').trim();
  return joined === '' || joined === '–';
};

/** What a section renders to: mrkdwn lines, and context lines (notes, charts) of their own. */
type Piece =
  | { readonly kind: 'text'; readonly lines: string[] }
  | { readonly kind: 'context'; readonly text: string };

function more(count: number, what = ''): string {
  return `${ELLIPSIS} and ${count} more${what}`;
}

function pieces(section: ReportSection, options: Required<ReportBlocksOptions>): Piece[] {
  const result: Piece[] = [];
  const heading = `*${escapeSlackText(section.heading).replaceAll('*', '∗')}*`;
  let text: string[] = [heading];
  const flush = () => {
    if (text.length > 0) result.push({ kind: 'text', lines: text });
    text = [];
  };
  for (const block of section.blocks) {
    const lines = blockLines(block, options);
    if (lines === undefined) {
      // A heading alone would be a block of its own: it leads the context line instead.
      const lead = result.length === 0 && text.length === 1 && text[0] === heading;
      if (lead) text = [];
      else flush();
      result.push({
        kind: 'context',
        text: lead ? `${heading} · ${contextText(block)}` : contextText(block),
      });
    } else text.push(...lines);
  }
  flush();
  return result;
}

function contextText(block: ReportBlock): string {
  if (block.kind === 'chart') return `📉 chart attached: ${escapeSlackText(block.alt)}`;
  return block.kind === 'note' ? rich(block.text) : '';
}

/** The mrkdwn lines of a block; undefined for blocks shown as context (notes, charts). */
function blockLines(block: ReportBlock, options: Required<ReportBlocksOptions>): string[] | undefined {
  switch (block.kind) {
    case 'paragraph':
      return [rich(block.text)];
    case 'note':
    case 'chart':
      return undefined;
    case 'list': {
      const lines: string[] = [];
      for (const item of block.items.slice(0, options.maxListItems)) {
        lines.push(`• ${rich(item.text)}`);
        const children = item.items ?? [];
        for (const child of children.slice(0, options.maxNestedItems)) lines.push(`    ◦ ${rich(child)}`);
        if (children.length > options.maxNestedItems)
          lines.push(`    ◦ ${more(children.length - options.maxNestedItems)}`);
      }
      if (block.items.length > options.maxListItems)
        lines.push(`• ${more(block.items.length - options.maxListItems)}`);
      return lines;
    }
    case 'table': {
      // Block Kit has no table that fits every client: each row becomes a line of "label: value" pairs.
      const lines = block.rows.slice(0, options.maxTableRows).map((row) => {
        const [first, ...rest] = row.cells;
        const pairs = rest.flatMap((cell, i) =>
          isEmpty(cell) ? [] : [`${escapeSlackText(block.columns[i + 1]?.label ?? '')}: ${rich(cell)}`],
        );
        const lead = first ? rich(first) : '';
        return `• ${lead}${pairs.length > 0 ? ` — ${pairs.join(' · ')}` : ''}`;
      });
      if (block.rows.length > options.maxTableRows)
        lines.push(`• ${more(block.rows.length - options.maxTableRows, ' rows')}`);
      return lines;
    }
  }
}

function sectionBlock(mrkdwn: string): Block {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateSlackText(mrkdwn, SLACK_LIMITS.sectionText) },
  };
}

function contextBlock(mrkdwn: string): Block {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncateSlackText(mrkdwn, SLACK_LIMITS.sectionText) }],
  };
}

/** Lines joined into texts of at most `max` characters; a line longer than that is shortened. */
function chunkLines(lines: readonly string[], max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncateSlackText(raw, max);
    if (current === '') current = line;
    else if (current.length + 1 + line.length <= max) current = `${current}\n${line}`;
    else {
      chunks.push(current);
      current = line;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

export function renderBlocks(doc: ReportDocument, options: ReportBlocksOptions = {}): ChatMessage {
  const settings: Required<ReportBlocksOptions> = {
    maxListItems: options.maxListItems ?? 10,
    maxNestedItems: options.maxNestedItems ?? 8,
    maxTableRows: options.maxTableRows ?? 15,
  };
  const head: Block[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncateSlackText(`${KIND_EMOJI[doc.kind]} ${doc.title}`, SLACK_LIMITS.headerText),
        emoji: true,
      },
    },
    contextBlock(
      `*${escapeSlackText(doc.project.name)}* · plan v${doc.planVersion} · ${escapeSlackText(doc.period.label)} (${escapeSlackText(doc.project.timezone)})`,
    ),
  ];
  const sections = doc.sections.map((section) => pieces(section, settings));

  // One block per piece, a divider between sections: the most readable layout, when it fits.
  const spacious: Block[] = [...head];
  sections.forEach((section, i) => {
    if (i > 0) spacious.push({ type: 'divider' });
    for (const piece of section)
      if (piece.kind === 'context') spacious.push(contextBlock(piece.text));
      else
        for (const chunk of chunkLines(piece.lines, SLACK_LIMITS.sectionText))
          spacious.push(sectionBlock(chunk));
  });
  const fallback = truncateSlackText(
    `${escapeSlackText(doc.title)} — ${escapeSlackText(doc.project.name)}`,
    SLACK_LIMITS.fallbackText,
  );
  if (spacious.length <= SLACK_LIMITS.blocksPerMessage) return { text: fallback, blocks: spacious };

  // Too many blocks: sections share blocks (a blank line between them), context lines become text.
  const lines = sections.flatMap((section, i) => [
    ...(i > 0 ? [''] : []),
    ...section.flatMap((piece) => (piece.kind === 'text' ? piece.lines : [piece.text])),
  ]);
  const packed = [...head, ...chunkLines(lines, SLACK_LIMITS.sectionText).map(sectionBlock)];
  return { text: fallback, blocks: limitBlocks(packed) };
}
