import { buildDailyReport } from './daily.js';
import type {
  ListItem,
  ReportBlock,
  ReportContext,
  ReportDocument,
  ReportKind,
  ReportSection,
  TableRow,
} from './model.js';
import { buildStandup } from './standup.js';
import { buildSync } from './sync.js';
import { buildWeeklySummary, type WeeklyOptions } from './weekly.js';

export type ReportOptions = WeeklyOptions;

/** The report a scheduled job posts. Options apply to the weekly summary's forecast. */
export function buildReport(
  kind: ReportKind,
  ctx: ReportContext,
  options: ReportOptions = {},
): ReportDocument {
  switch (kind) {
    case 'standup':
      return buildStandup(ctx);
    case 'sync':
      return buildSync(ctx);
    case 'report':
      return buildDailyReport(ctx);
    case 'weekly-summary':
      return buildWeeklySummary(ctx, options);
  }
}

/** The part of a block about one agent: the block itself if it is the agent's, else its rows/items that are. */
function blockFor(block: ReportBlock, agent: string): ReportBlock | undefined {
  if (block.agent !== undefined) return block.agent === agent ? block : undefined;
  if (block.kind === 'list') {
    const items = block.items.filter((item: ListItem) => item.agent === agent);
    return items.length === 0 ? undefined : { ...block, items };
  }
  if (block.kind === 'table') {
    const rows = block.rows.filter((row: TableRow) => row.agent === agent);
    return rows.length === 0 ? undefined : { ...block, rows };
  }
  return undefined;
}

/**
 * The document limited to one agent, for the agent's own channel: its own sections whole, and from
 * the project-wide sections only the rows and items about it (its blockers, its row of the agents
 * table). Undefined when the report says nothing about the agent.
 */
export function forAgent(doc: ReportDocument, agentId: string): ReportDocument | undefined {
  const agent = doc.agents.find((candidate) => candidate.id === agentId);
  if (!agent) return undefined;
  const sections: ReportSection[] = doc.sections.flatMap((section) => {
    if (section.agent !== undefined) return section.agent === agentId ? [section] : [];
    const blocks = section.blocks.flatMap((block) => blockFor(block, agentId) ?? []);
    return blocks.length === 0 ? [] : [{ ...section, blocks }];
  });
  if (sections.length === 0) return undefined;
  return { ...doc, title: `${doc.title} · ${agent.name}`, agents: [agent], agent, sections };
}

/** Each agent's part of a report, for the agents that have their own channel. */
export function agentParts(doc: ReportDocument): { channel: string; agent: string; doc: ReportDocument }[] {
  return doc.agents.flatMap((agent) => {
    if (!agent.channel) return [];
    const part = forAgent(doc, agent.id);
    return part ? [{ channel: agent.channel, agent: agent.id, doc: part }] : [];
  });
}
