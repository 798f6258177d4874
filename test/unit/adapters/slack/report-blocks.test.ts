import { describe, expect, it } from 'vitest';
import { renderBlocksAsText, SLACK_LIMITS } from '../../../../functions/adapters/slack/blocks.js';
import { renderBlocks } from '../../../../functions/adapters/slack/report-blocks.js';
import type { ChatMessage } from '../../../../functions/core/ports.js';
import {
  buildDailyReport,
  buildReport,
  buildStandup,
  forAgent,
  REPORT_KINDS,
  type ReportContext,
  type ReportDocument,
} from '../../../../functions/core/reports/index.js';
import {
  dailyContext,
  largeContext,
  samplePlan,
  standupContext,
  syncContext,
  weeklyContext,
} from '../../core/reports/fixture.js';

type Block = Record<string, unknown>;
type TextObject = { type: string; text: string };

/** Slack refuses a message that breaks any of these (invalid_blocks, msg_too_long). */
function expectWithinSlackLimits(message: ChatMessage) {
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const block of message.blocks as Block[]) {
    const text = block.text as TextObject | undefined;
    if (block.type === 'header') {
      expect(text?.type).toBe('plain_text');
      expect(text?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    }
    if (block.type === 'section') {
      expect(text?.text.length).toBeGreaterThan(0);
      expect(text?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
    const elements = (block.elements as TextObject[] | undefined) ?? [];
    expect(elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
    for (const element of elements) expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  }
}

/** Every mrkdwn text of the message. */
const mrkdwn = (message: ChatMessage) =>
  (message.blocks as Block[])
    .flatMap((block) => [
      ...(block.type === 'section' ? [(block.text as TextObject).text] : []),
      ...((block.elements as TextObject[] | undefined) ?? []).map((element) => element.text),
    ])
    .join('\n');

const contexts: Record<
  (typeof REPORT_KINDS)[number],
  (input?: { plan?: ReturnType<typeof samplePlan> }) => ReportContext
> = {
  standup: standupContext,
  sync: syncContext,
  report: dailyContext,
  'weekly-summary': weeklyContext,
};

describe('renderBlocks', () => {
  it('keeps every report of the example within Slack’s limits, one block per part', () => {
    for (const kind of REPORT_KINDS) {
      const message = renderBlocks(buildReport(kind, contexts[kind](), { seed: 7 }));

      expectWithinSlackLimits(message);
      expect((message.blocks[0] as Block).type).toBe('header');
      expect(message.blocks.some((block) => block.type === 'divider')).toBe(true);
    }
  });

  it('keeps a report of 1,000 tasks and 50 agents within 50 blocks, saying what it left out', () => {
    const ctx = largeContext();

    for (const kind of REPORT_KINDS) {
      // Act
      const message = renderBlocks(buildReport(kind, ctx, { seed: 1 }));

      // Assess
      expectWithinSlackLimits(message);
      expect(message.blocks.length, kind).toBeGreaterThan(3);
    }
    const standup = mrkdwn(renderBlocks(buildReport('standup', ctx)));
    // 50 agents at 1 block each would not fit: sections share blocks, and every agent is still there.
    for (const agent of [0, 17, 49])
      expect(standup).toContain(`*Agent ${agent}: &lt;feature&gt; &amp; more*`);
    expect(mrkdwn(renderBlocks(buildReport('report', ctx)))).toMatch(/• … and \d+ more rows/);
  });

  it('shortens long lists and tables, saying how many more there are', () => {
    const message = renderBlocks(buildDailyReport(dailyContext()), { maxTableRows: 2, maxListItems: 1 });

    const text = mrkdwn(message);
    expect(text).toContain('• … and 5 more rows');
    expect(text).toContain('• … and 2 more');
  });

  it('says how many blocks it left out when even packed sections do not fit', () => {
    const doc = buildStandup(largeContext());
    const many: ReportDocument = {
      ...doc,
      sections: Array.from({ length: 120 }, (_, i) => ({
        id: `s${i}`,
        heading: `Section ${i}`,
        blocks: [{ kind: 'paragraph', text: ['x'.repeat(2_900)] }],
      })),
    };

    const message = renderBlocks(many);

    expectWithinSlackLimits(message);
    expect(renderBlocksAsText(message.blocks).at(-1)).toMatch(/^… \d+ more blocks not shown$/);
  });

  it('mentions people by their Slack id where the plan has one, and by name otherwise', () => {
    const text = mrkdwn(renderBlocks(buildDailyReport(dailyContext({ plan: samplePlan({ slack: true }) }))));

    expect(text).toContain('Owner: <@U0DEVOPS1>');
    expect(text).toContain('notified <@U0QALEAD1>, Tech Lead / Architect');
  });

  it('turns the chart into a context line, the PNG being uploaded beside the message', () => {
    const message = renderBlocks(buildDailyReport(dailyContext()));

    const chart = (message.blocks as Block[]).find(
      (block) => block.type === 'context' && JSON.stringify(block).includes('chart attached'),
    );
    expect((chart?.elements as TextObject[] | undefined)?.[0]?.text).toMatch(
      /^\*Burndown\* · 📉 chart attached: Burndown from Thu 1 Jan to Fri 13 Feb/,
    );
  });

  it('escapes what people wrote and links pull requests', () => {
    const message = renderBlocks(buildStandup(largeContext()));
    const text = mrkdwn(message);

    expect(text).toContain('Waiting on &lt;vendor&gt; &amp; team');
    expect(text).not.toContain('<vendor>');
    expect(text).toMatch(
      /<https:\/\/github\.com\/example-org\/dlt-platform\/pull\/\d+\|example-org\/dlt-platform#\d+>/,
    );
  });

  it('renders an agent’s part for its own channel', () => {
    const part = forAgent(buildStandup(standupContext()), 'ai-agent') as ReportDocument;

    const message = renderBlocks(part);

    expectWithinSlackLimits(message);
    expect(message.text).toBe(
      'Standup · Thu 15 Jan · Agent 4B: AI Optimization Enhancements — Sprint 20-23 Parallel Agent Coordination',
    );
    expect(renderBlocksAsText(message.blocks)).toEqual([
      '☀️ Standup · Thu 15 Jan · Agent 4B: AI Optimization Enhancements',
      '*Sprint 20-23 Parallel Agent Coordination* · plan v3 · since the last standup, Wed 14 Jan 09:00 EST (America/New_York)',
      '*Agent 4B: AI Optimization Enhancements*',
      '🟢 green · idle · 43.5% of its work done · owner Backend Engineer 2',
      '• *Finished since Wed 14 Jan 09:00 EST:*',
      '    ◦ `ai-prediction-caching` Implement prediction caching',
      '• *In progress:* nothing',
      '• *Next:* nothing ready yet',
      '    ◦ `ai-grpc-integration` Integrate AI optimization with gRPC — waits for `grpc-services`',
      '• *PRs merged:*',
      '    ◦ example-org/dlt-platform#38 (https://github.com/example-org/dlt-platform/pull/38) Prediction cache for the AI optimizer',
    ]);
  });
});
