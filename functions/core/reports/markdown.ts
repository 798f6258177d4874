import { formatInstant } from './dates.js';
import type { Inline, ReportBlock, ReportDocument, RichText, TableColumn } from './model.js';

/**
 * A report as GitHub-flavoured Markdown: headings, tables and bullet lists that read well as plain
 * text too (kept as files, attached to issues, shown in the CLI). Complete: unlike a Slack message it
 * has no size limit, so nothing is left out.
 */

/**
 * Backslash-escapes what Markdown (GFM) would read as markup inside a line of plain text, and only
 * that, so the file reads as it was written: `schedule.slip_days > 2` stays as it is (an underscore
 * between letters or digits never starts emphasis, and `>` only quotes at the start of a line, which
 * `escapeLineStart` handles), while `*`, `` ` ``, `[`, `]`, `<`, `~`, a backslash, an `_` that could
 * emphasise and an `&` that would make an entity are escaped.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*[\]<~]/g, '\\$&')
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '\\&');
}

/** Escapes what would start a block at the start of a line: a quote, a heading, a list item. */
function escapeLineStart(line: string): string {
  return line.replace(
    /^(\s*)(>|#(?=[\s#]|$)|[+-](?=[\s-]|$)|\d+[.)](?=\s|$))/,
    (_, space: string, mark: string) =>
      /^\d/.test(mark) ? `${space}${mark.slice(0, -1)}\\${mark.slice(-1)}` : `${space}\\${mark}`,
  );
}

function inline(part: Inline): string {
  if (typeof part === 'string') return escapeMarkdown(part);
  switch (part.kind) {
    case 'strong': {
      // Emphasis may not start or end with a space: spaces go outside the markers.
      const [, before, inner, after] = /^(\s*)(.*?)(\s*)$/s.exec(part.text) as RegExpExecArray;
      return inner ? `${before}**${escapeMarkdown(inner)}**${after}` : part.text;
    }
    case 'code':
      // A backtick would end the span early; a look-alike keeps the text readable.
      return `\`${part.text.replaceAll('`', 'ʼ')}\``;
    case 'link':
      return /^https?:\/\/\S+$/i.test(part.url)
        ? `[${escapeMarkdown(part.text)}](${part.url.replaceAll('(', '%28').replaceAll(')', '%29')})`
        : escapeMarkdown(part.text);
    case 'mention':
      return escapeMarkdown(part.name);
  }
}

/** Rich text on one line: a line break would end a list item or a table row. */
const rich = (text: RichText) =>
  text
    .map(inline)
    .join('')
    .replace(/\s*\n\s*/g, ' ');

const cell = (text: RichText) => rich(text).replaceAll('|', '\\|');

// Variation selectors are nonspacing marks (Mn) too.
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B\u200C\u200E\u200F]/u;
const WIDE =
  /[\p{Emoji_Presentation}\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{20000}-\u{3FFFD}]/u;

const REGIONAL_INDICATOR = /[\u{1F1E6}-\u{1F1FF}]/u;

/**
 * Columns a text takes in a monospace font, as Markdown formatters (Biome) count them when they
 * align tables: emoji and CJK take two, a character followed by VS16 too, a ZWJ sequence as much as
 * its first emoji, a flag's two regional indicators one each, combining marks none.
 */
export function displayWidth(text: string): number {
  const chars = [...text];
  let width = 0;
  let joined = false;
  for (const [i, char] of chars.entries()) {
    if (char === '\u200D') joined = true;
    else if (joined) joined = false;
    else if (ZERO_WIDTH.test(char)) continue;
    else if (REGIONAL_INDICATOR.test(char)) width += 1;
    else width += chars[i + 1] === '\uFE0F' || WIDE.test(char) ? 2 : 1;
  }
  return width;
}

/** A cell padded to its column's width, as Markdown formatters lay tables out. */
export function pad(text: string, width: number, align: TableColumn['align']): string {
  const space = Math.max(0, width - displayWidth(text));
  if (align === 'right') return `${' '.repeat(space)}${text}`;
  if (align === 'center')
    return `${' '.repeat(Math.floor(space / 2))}${text}${' '.repeat(Math.ceil(space / 2))}`;
  return `${text}${' '.repeat(space)}`;
}

function rule(width: number, align: TableColumn['align']): string {
  if (align === 'right') return `${'-'.repeat(width - 1)}:`;
  if (align === 'center') return `:${'-'.repeat(width - 2)}:`;
  return `:${'-'.repeat(width - 1)}`;
}

function block(part: ReportBlock, chartPath: string | undefined): string {
  switch (part.kind) {
    case 'paragraph':
      return escapeLineStart(rich(part.text));
    case 'note':
      return `> ${escapeLineStart(rich(part.text))}`;
    case 'list':
      return part.items
        .map((item) =>
          [
            `- ${escapeLineStart(rich(item.text))}`,
            ...(item.items ?? []).map((child) => `  - ${escapeLineStart(rich(child))}`),
          ].join('\n'),
        )
        .join('\n');
    case 'table': {
      const header = part.columns.map((column) => escapeMarkdown(column.label).replaceAll('|', '\\|'));
      const rows = part.rows.map((row) => part.columns.map((_, i) => cell(row.cells[i] ?? [])));
      const widths = header.map((label, i) =>
        Math.max(3, displayWidth(label), ...rows.map((row) => displayWidth(row[i] as string))),
      );
      const line = (cells: readonly string[]) =>
        `| ${cells.map((text, i) => pad(text, widths[i] as number, part.columns[i]?.align)).join(' | ')} |`;
      return [
        line(header),
        `| ${widths.map((width, i) => rule(width, part.columns[i]?.align)).join(' | ')} |`,
        ...rows.map(line),
      ].join('\n');
    }
    case 'chart':
      return chartPath
        ? `![${escapeMarkdown(part.title)}](${chartPath.replaceAll(' ', '%20')})\n\n> ${escapeMarkdown(part.alt)}`
        : `> 📉 ${escapeMarkdown(part.title)}: ${escapeMarkdown(part.alt)}`;
  }
}

export interface MarkdownOptions {
  /** Where the chart's PNG is kept, relative to the Markdown or absolute: charts become images. */
  readonly chartPath?: string;
}

export function renderMarkdown(doc: ReportDocument, options: MarkdownOptions = {}): string {
  const out: string[] = [
    `# ${escapeMarkdown(doc.title)}`,
    `**${escapeMarkdown(doc.project.name)}** (\`${doc.project.id}\`) · plan v${doc.planVersion} · ${escapeMarkdown(doc.period.label)} · times in \`${doc.project.timezone}\``,
  ];
  for (const section of doc.sections) {
    out.push(`## ${escapeMarkdown(section.heading)}`);
    for (const part of section.blocks) out.push(block(part, options.chartPath));
  }
  out.push(
    '---',
    `_Generated by Convoy on ${escapeMarkdown(formatInstant(doc.generatedAt, doc.project.timezone, doc.generatedAt))}._`,
  );
  return `${out.join('\n\n')}\n`;
}
