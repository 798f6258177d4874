import { describe, expect, it } from 'vitest';
import type { OpenConflict } from '../../../../functions/core/integrations/conflicts.js';
import {
  buildDailyReport,
  buildStandup,
  forAgent,
  type ReportDocument,
  renderMarkdown,
} from '../../../../functions/core/reports/index.js';
import { dailyContext, standupContext } from './fixture.js';

const CONFLICTS: OpenConflict[] = [
  {
    subject: 'bridge-contracts',
    resource: 'bridge-contracts',
    changedBy: 'ai-agent',
    other: 'bridge-agent',
    owner: 'bridge-agent',
    holder: 'agent:bridge-agent',
    source: 'push',
    repository: 'octo-org/convoy',
    commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    paths: ['contracts/Bridge.sol', 'contracts/Oracle.sol', 'contracts/lib/A.sol', 'contracts/lib/B.sol'],
    changedPaths: 5,
    at: '2026-01-15T12:00:00.000Z',
  },
  {
    subject: 'ml-models',
    resource: 'ml-models',
    changedBy: 'bridge-agent',
    other: 'ai-agent',
    owner: 'ai-agent',
    source: 'pull_request',
    pr: 42,
    paths: ['models/fraud.onnx'],
    changedPaths: 1,
    at: '2026-01-15T13:00:00.000Z',
  },
];

const conflictsText = (doc: ReportDocument | undefined) => {
  const found = doc?.sections.find((section) => section.id === 'conflicts');
  return doc && found ? renderMarkdown({ ...doc, sections: [found] }) : undefined;
};

describe('open conflicts in the reports', () => {
  it('the standup lists each open conflict: who changed what, the change, whose lease or resource, since when', () => {
    // Act
    const doc = buildStandup({ ...standupContext(), openConflicts: CONFLICTS });

    // Assess
    const text = conflictsText(doc) ?? '';
    expect(text).toContain('2 conflicts open');
    expect(text).toContain('`resource.conflict_resolved`');
    expect(text).toMatch(
      /changed `bridge-contracts` \(`contracts\/Bridge.sol`, `contracts\/Oracle.sol`, `contracts\/lib\/A.sol` and 2 more\) in push 6113728, under .+'s exclusive lease — open since Thu 15 Jan 07:00 EST/,
    );
    expect(text).toMatch(
      /changed `ml-models` \(`models\/fraud.onnx`\) in PR #42, owned by .+, without a lease/,
    );
    // Each agent's own document keeps the conflicts it caused.
    expect(conflictsText(forAgent(doc, 'ai-agent'))).toContain('bridge-contracts');
    expect(conflictsText(forAgent(doc, 'ai-agent'))).not.toContain('ml-models');
  });

  it('the daily report lists them too, and neither report has the section when none is open', () => {
    expect(conflictsText(buildDailyReport({ ...dailyContext(), openConflicts: CONFLICTS }))).toContain(
      'PR #42',
    );
    expect(conflictsText(buildDailyReport(dailyContext()))).toBeUndefined();
    expect(conflictsText(buildStandup({ ...standupContext(), openConflicts: [] }))).toBeUndefined();
  });
});
