import { renderBurndownPng } from '../adapters/chart/burndown-png.js';
import { renderBlocks } from '../adapters/slack/report-blocks.js';
import type { ReportRenderer } from '../core/rhythm/jobs.js';

/** Reports as Slack shows them, and their charts as PNG. */
export const reportRenderer = {
  message: renderBlocks,
  chart: (block) => renderBurndownPng(block.series, { title: block.title }),
} satisfies ReportRenderer;
