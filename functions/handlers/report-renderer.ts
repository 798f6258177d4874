import { renderBlocks } from '../adapters/slack/report-blocks.js';
import type { ReportRenderer } from '../core/rhythm/jobs.js';

/**
 * Reports as Slack shows them, and their charts as PNG. The chart renderer (pureimage and the font it
 * loads: about 14 MB resident once a chart is drawn) is imported on the first chart, so `convoy dev`
 * starts without it; a Lambda bundle inlines it all the same.
 */
export const reportRenderer = {
  message: renderBlocks,
  chart: async (block) =>
    (await import('../adapters/chart/burndown-png.js')).renderBurndownPng(block.series, {
      title: block.title,
    }),
} satisfies ReportRenderer;
