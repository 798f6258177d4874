import { describe, expect, it } from 'vitest';
import { escapeMarkdown, renderMarkdown } from '../../../../functions/core/reports/markdown.js';
import type { ReportDocument } from '../../../../functions/core/reports/model.js';

const doc = (blocks: ReportDocument['sections'][number]['blocks']): ReportDocument => ({
  kind: 'report',
  title: 'Daily status report · Wed 14 Jan',
  project: { id: 'demo', name: 'Demo', timezone: 'UTC' },
  planVersion: 1,
  generatedAt: '2026-01-14T17:00:00.000Z',
  period: {
    since: '2026-01-13T17:00:00.000Z',
    until: '2026-01-14T17:00:00.000Z',
    label: 'since the last report',
  },
  agents: [],
  sections: [{ id: 'only', heading: 'Only', blocks }],
});

const body = (markdown: string) => markdown.split('## Only\n\n')[1]?.split('\n\n---')[0];

describe('renderMarkdown', () => {
  it('escapes what people wrote so it cannot turn into markup', () => {
    const markdown = renderMarkdown(
      doc([{ kind: 'paragraph', text: ['Fix *all* the <b>tests</b> [now] `x`'] }]),
    );

    expect(body(markdown)).toBe('Fix \\*all\\* the \\<b>tests\\</b> \\[now\\] \\`x\\`');
    expect(escapeMarkdown('_a_ b_ ~~c~~ \\ &amp; x')).toBe('\\_a\\_ b\\_ \\~\\~c\\~\\~ \\\\ \\&amp; x');
  });

  it('leaves alone what Markdown reads as text: underscores inside words, > and # inside a line', () => {
    const markdown = renderMarkdown(
      doc([
        {
          kind: 'paragraph',
          text: ['schedule.slip_days > 2 and coverage_integration # 3 ', { kind: 'code', text: 'a_b' }],
        },
      ]),
    );

    expect(body(markdown)).toBe('schedule.slip_days > 2 and coverage_integration # 3 `a_b`');
  });

  it('escapes what would start a quote, a heading or a list at the start of a line', () => {
    const markdown = renderMarkdown(
      doc([
        { kind: 'paragraph', text: ['> 2 failing'] },
        { kind: 'paragraph', text: ['# of tasks'] },
        { kind: 'paragraph', text: ['1. first'] },
        { kind: 'list', items: [{ text: ['- dash'], items: [['+ plus']] }] },
        { kind: 'note', text: ['---'] },
        { kind: 'paragraph', text: ['-5 days, #3'] },
      ]),
    );

    expect(body(markdown)?.split('\n\n')).toEqual([
      '\\> 2 failing',
      '\\# of tasks',
      '1\\. first',
      '- \\- dash\n  - \\+ plus',
      '> \\---',
      '-5 days, #3',
    ]);
  });

  it('keeps a table’s rows whole and aligned: pipes escaped, line breaks removed', () => {
    const markdown = renderMarkdown(
      doc([
        {
          kind: 'table',
          columns: [{ label: 'Task' }, { label: 'Left', align: 'right' }],
          rows: [{ cells: [[{ kind: 'code', text: 'a|b' }, ' two\nlines'], ['3d']] }, { cells: [['x']] }],
        },
      ]),
    );

    expect(body(markdown)).toBe(
      [
        '| Task             | Left |',
        '| :--------------- | ---: |',
        '| `a\\|b` two lines |   3d |',
        '| x                |      |',
      ].join('\n'),
    );
  });

  it('renders links, mentions, strong text and nested lists', () => {
    const markdown = renderMarkdown(
      doc([
        {
          kind: 'list',
          items: [
            {
              text: [
                { kind: 'strong', text: 'Done: ' },
                { kind: 'link', text: 'PR #1', url: 'https://x.test/a_(b)' },
              ],
              items: [
                [{ kind: 'mention', name: 'Q_A Lead', slack: 'U1' }],
                [{ kind: 'link', text: 'bad', url: 'javascript:alert(1)' }],
              ],
            },
          ],
        },
      ]),
    );

    expect(body(markdown)).toBe('- **Done:** [PR #1](https://x.test/a_%28b%29)\n  - Q_A Lead\n  - bad');
  });
});
