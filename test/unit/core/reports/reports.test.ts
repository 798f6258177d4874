import { describe, expect, it } from 'vitest';
import { renderBlocks } from '../../../../functions/adapters/slack/report-blocks.js';
import type { ResourceLease } from '../../../../functions/core/coordination/model.js';
import {
  agentParts,
  buildDailyReport,
  buildReport,
  buildStandup,
  buildSync,
  buildWeeklySummary,
  forAgent,
  REPORT_KINDS,
  type ReportBlock,
  type ReportDocument,
  type ReportSection,
  renderMarkdown,
} from '../../../../functions/core/reports/index.js';
import { readEscalation } from '../../../../functions/core/reports/sections.js';
import {
  dailyContext,
  largeContext,
  samplePlan,
  standupContext,
  syncContext,
  weeklyContext,
} from './fixture.js';

const section = (doc: ReportDocument, id: string): ReportSection => {
  const found = doc.sections.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no section ${id} in ${doc.sections.map((s) => s.id).join(', ')}`);
  return found;
};

/** A section rendered on its own, as Markdown: what a reader sees of it. */
const text = (doc: ReportDocument, id: string) => renderMarkdown({ ...doc, sections: [section(doc, id)] });

const tableOf = (block: ReportBlock | undefined) => {
  if (block?.kind !== 'table') throw new Error(`expected a table, got ${block?.kind}`);
  return block;
};

describe('buildStandup', () => {
  it('lists every agent with tasks by name, and an agent at risk even without tasks', () => {
    // Prepare
    const ctx = standupContext();

    // Act
    const doc = buildStandup(ctx);

    // Assess
    const headings = doc.sections.filter((s) => s.agent).map((s) => s.heading);
    expect(headings).toEqual([
      '@J4CDeploymentAgent',
      '@QAQCAgent',
      'Agent 4A: REST-gRPC Gateway + Protocol Buffers',
      'Agent 4B: AI Optimization Enhancements',
      'Agent 4C: Cross-Chain Bridge + Oracle Consensus',
      'Agent 4D: RWAT Registry + Oracle Pricing',
    ]);
    expect(text(doc, 'summary')).toContain('No tasks in the plan: @J4CJIRAUpdateAgent.');
  });

  it('counts as finished since the last standup only what was done after it', () => {
    const doc = buildStandup(standupContext());

    // ai-prediction-caching was done Wed 14:30, after Wednesday's 09:00 standup;
    // rwat-tokenization-design on Monday, before it.
    expect(text(doc, 'agent:ai-agent')).toMatch(
      /Finished since Wed 14 Jan 09:00 EST:\*\*\n {2}- `ai-prediction-caching`/,
    );
    expect(text(doc, 'agent:rwat-agent')).toContain('**Finished since Wed 14 Jan 09:00 EST:** nothing');
    expect(renderMarkdown(doc)).not.toContain('`rwat-tokenization-design` Design');
  });

  it('shows a blocked task with its reason, and the risk and state of each agent', () => {
    const doc = buildStandup(standupContext());

    const deployment = text(doc, 'agent:deployment-agent');
    expect(deployment).toContain(
      '⛔ `deploy-grpc-services` Deploy gRPC services to integration and run integration tests: Integration cluster quota exhausted; AWS support case #4711 is open',
    );
    expect(deployment).toContain('🟡 yellow · active');
    expect(deployment).toContain('“waiting on the AWS quota increase”');
    expect(text(doc, 'agent:bridge-agent')).toContain('🔴 red · down (last heartbeat Wed 14 Jan 11:00 EST)');
  });

  it('shows the PRs merged since the last standup, under the agent of their tasks and all together', () => {
    const doc = buildStandup(standupContext());

    expect(text(doc, 'agent:ai-agent')).toContain(
      '[example-org/dlt-platform#38](https://github.com/example-org/dlt-platform/pull/38) Prediction cache for the AI optimizer',
    );
    const prs = tableOf(section(doc, 'prs').blocks[0]);
    expect(prs.rows).toHaveLength(2);
    expect(text(doc, 'prs')).toContain('Bump the protobuf toolchain to 27.1');
    expect(text(doc, 'agent:grpc-agent')).not.toContain('PRs merged');
  });

  it('names the tasks ready to start next, and what the next one waits for when none is', () => {
    const ready = buildStandup(
      standupContext({
        tasks: [
          {
            id: 'grpc-services',
            status: 'done',
            blocked: false,
            updatedAt: '2026-01-15T13:00:00.000Z',
            doneAt: '2026-01-15T13:00:00.000Z',
            updatedBy: 'agent:grpc-agent',
            version: 5,
          },
        ],
      }),
    );
    expect(text(ready, 'agent:grpc-agent')).toContain(
      '**Next, ready to start:**\n  - `grpc-gateway` REST-gRPC translator, API compatibility, performance optimization',
    );

    const waiting = buildStandup(standupContext());
    expect(text(waiting, 'agent:bridge-agent')).toContain(
      '`bridge-atomic-swaps` Implement atomic swaps over gRPC — waits for `grpc-services`, `bridge-oracle-design`',
    );
    expect(text(waiting, 'agent:qa-agent')).toContain(
      'waits for `automated-failover`, phase Sprint 22: multi-cloud production deployment to start',
    );
  });

  it('lists tasks no agent has claimed under "Unassigned", and a claimed one under its assignee', () => {
    // Prepare: the plan names no agent for two tasks; the bridge agent claimed one of them.
    const plan = samplePlan();
    const open = new Set(['grpc-gateway', 'bridge-oracle-design']);
    const unassigned = {
      ...plan,
      phases: plan.phases.map((phase) => ({
        ...phase,
        tasks: phase.tasks.map((task) => {
          if (!open.has(task.id)) return task;
          const { agent: _planned, ...rest } = task;
          return task.id === 'grpc-gateway' ? { ...rest, pool: ['grpc-agent', 'ai-agent'] } : rest;
        }),
      })),
    };
    const ctx = standupContext({
      plan: unassigned,
      tasks: [
        {
          id: 'bridge-oracle-design',
          status: 'in_progress',
          blocked: false,
          updatedAt: '2026-01-02T14:00:00.000Z',
          startedAt: '2026-01-02T14:00:00.000Z',
          updatedBy: 'agent:bridge-agent',
          assignee: 'bridge-agent',
          version: 2,
        },
      ],
    });

    // Act
    const doc = buildStandup(ctx);

    // Assess
    expect(text(doc, 'unassigned')).toContain('1 open task no agent has claimed yet.');
    expect(text(doc, 'unassigned')).toContain('`grpc-gateway`');
    expect(text(doc, 'unassigned')).toContain('waits for `grpc-services`');
    expect(text(doc, 'agent:bridge-agent')).toContain('**In progress:**\n  - `bridge-oracle-design`');
    expect(text(doc, 'agent:grpc-agent')).not.toContain('grpc-gateway');
    expect(doc.sections.map((s) => s.id).slice(-2)).toEqual(['unassigned', 'prs']);
  });

  it('names who holds a claimed task and until when its lease runs', () => {
    // Prepare: the plan gives bridge-oracle-design to the bridge agent; the AI agent claimed it at 08:30.
    const ctx = standupContext({
      tasks: [
        {
          id: 'bridge-oracle-design',
          status: 'in_progress',
          blocked: false,
          updatedAt: '2026-01-15T13:30:00.000Z',
          startedAt: '2026-01-15T13:30:00.000Z',
          updatedBy: 'agent:ai-agent',
          assignee: 'ai-agent',
          claim: {
            agent: 'ai-agent',
            lease: 'L0123456789abcdef',
            at: '2026-01-15T13:30:00.000Z',
            expiresAt: '2026-01-15T14:30:00.000Z',
          },
          version: 3,
        },
      ],
    });

    // Act
    const doc = buildStandup(ctx);

    // Assess
    expect(text(doc, 'agent:ai-agent')).toContain(
      '`bridge-oracle-design` Design oracle consensus — claimed by Agent 4B: AI Optimization Enhancements, lease until Thu 15 Jan 09:30 EST',
    );
    expect(text(doc, 'agent:bridge-agent')).toContain('**In progress:** nothing');
    expect(renderMarkdown(doc)).not.toContain('L0123456789abcdef');
  });

  it('names the holder of a claim on a task the plan gives it, with no lease expiry: that claim never lapses', () => {
    // Prepare: the bridge agent claimed its own task an hour before its lease would have run out.
    const ctx = standupContext({
      tasks: [
        {
          id: 'bridge-oracle-design',
          status: 'in_progress',
          blocked: false,
          updatedAt: '2026-01-15T12:00:00.000Z',
          startedAt: '2026-01-15T12:00:00.000Z',
          updatedBy: 'agent:bridge-agent',
          assignee: 'bridge-agent',
          claim: {
            agent: 'bridge-agent',
            lease: 'L0123456789abcdef',
            at: '2026-01-15T12:00:00.000Z',
            expiresAt: '2026-01-15T13:00:00.000Z',
          },
          version: 3,
        },
      ],
    });

    // Act
    const line = text(buildStandup(ctx), 'agent:bridge-agent');

    // Assess
    expect(line).toContain(
      '`bridge-oracle-design` Design oracle consensus — claimed by Agent 4C: Cross-Chain Bridge + Oracle Consensus, 70% reported',
    );
    expect(line).not.toContain('lease');
  });

  it('lists the resource leases in force with holder, what they cover, mode, task and expiry', () => {
    // Prepare: a shared lease of the gRPC agent on a resource for its task, an exclusive one of a person
    // on paths, and one that expired before the standup.
    const lease = (id: string, extra: Partial<ResourceLease>): ResourceLease => ({
      id,
      holder: 'agent:grpc-agent',
      paths: ['proto/**'],
      mode: 'shared',
      acquiredAt: '2026-01-15T12:00:00.000Z',
      expiresAt: '2026-01-15T15:00:00.000Z',
      ...extra,
    });
    const ctx = standupContext({
      leases: [
        lease('L0000000000000001', { resource: 'grpc-api', task: 'grpc-services' }),
        lease('L0000000000000002', {
          holder: 'person:tech-lead',
          paths: ['deploy/**', 'k8s/*.yaml'],
          mode: 'exclusive',
          expiresAt: '2026-01-15T14:45:00.000Z',
        }),
        lease('L0000000000000003', { holder: 'agent:ai-agent', expiresAt: '2026-01-15T13:59:00.000Z' }),
      ],
    });

    // Act
    const doc = buildStandup(ctx);

    // Assess
    const leases = text(doc, 'leases');
    expect(leases).toContain('2 leases in force.');
    expect(leases).toContain(
      '**Tech Lead / Architect** holds an exclusive lease on `deploy/**`, `k8s/*.yaml` until Thu 15 Jan 09:45 EST',
    );
    expect(leases).toContain(
      '**Agent 4A: REST-gRPC Gateway + Protocol Buffers** holds a shared lease on `grpc-api` (`proto/**`) for `grpc-services` until Thu 15 Jan 10:00 EST',
    );
    expect(leases.indexOf('Tech Lead')).toBeLessThan(leases.indexOf('Agent 4A'));
    expect(leases).not.toContain('AI Optimization');
    expect(doc.sections.map((s) => s.id).slice(-2)).toEqual(['leases', 'prs']);
    expect(JSON.stringify(forAgent(doc, 'grpc-agent'))).toContain('grpc-api');
    expect(buildStandup(standupContext()).sections.map((s) => s.id)).not.toContain('leases');
  });

  it('renders as a readable Markdown document', async () => {
    await expect(renderMarkdown(buildStandup(standupContext()))).toMatchFileSnapshot(
      './__snapshots__/standup.md',
    );
  });
});

describe('buildSync', () => {
  it('lists each agent’s changes since the start of the day, in time order', () => {
    const doc = buildSync(syncContext());

    const ai = text(doc, 'agent:ai-agent');
    expect(ai).toContain('14:29 🔀 merged [example-org/dlt-platform#38]');
    expect(ai).toContain(
      '14:30 `ai-prediction-caching` Implement prediction caching: in progress → ✅ done — PR #38 merged',
    );
    expect(ai.indexOf('14:29')).toBeLessThan(ai.indexOf('14:35 🤝'));
    expect(text(doc, 'agent:grpc-agent')).toContain(
      '15:50 `grpc-services` gRPC services, integration tests, performance validation: PR #41 review approved by alice',
    );
    expect(text(doc, 'agent:rwat-agent')).toContain('**Changes since Wed 14 Jan 09:00 EST:** none');
  });

  it('shows what is due next by the plan, and the handoffs waiting for an agent', () => {
    const doc = buildSync(syncContext());

    const ai = text(doc, 'agent:ai-agent');
    expect(ai).toContain(
      '`ai-grpc-integration` Integrate AI optimization with gRPC — to do, planned finish Mon 19 Jan (in 3 working days)',
    );
    expect(ai).toContain(
      '**Handoffs waiting:**\n  - `ai-grpc-integration` Integrate AI optimization with gRPC ← `ai-prediction-caching`, Wed 14 Jan 14:35 EST — Cache keys are versioned; see docs/cache.md',
    );
    expect(text(doc, 'agent:rwat-agent')).toContain('← `rwat-tokenization-design`, Mon 12 Jan 17:05 EST');
    // Handed to a task already in progress: nothing waits any more.
    expect(text(doc, 'agent:deployment-agent')).not.toContain('Handoffs waiting');
  });

  it('renders as a readable Markdown document', async () => {
    await expect(renderMarkdown(buildSync(syncContext()))).toMatchFileSnapshot('./__snapshots__/sync.md');
  });
});

describe('buildDailyReport', () => {
  it('shows progress per phase with what is done, in progress, blocked and left', () => {
    const doc = buildDailyReport(dailyContext());

    const phases = tableOf(section(doc, 'phases').blocks[0]);
    expect(phases.rows.map((row) => row.cells.map((cell) => cell.join('')))).toEqual([
      [
        'Sprint 20: gRPC foundation and 2M TPS',
        'active',
        '4/15 (42%)',
        '3 (1 in review)',
        '⛔ 1',
        '42d',
        'Wed 21 Jan',
        'Wed 21 Jan',
      ],
      ['Sprint 21: enhanced services', 'pending', '0/15 (0%)', '0', '–', '37d', 'Wed 4 Feb', 'Wed 4 Feb'],
      [
        'Sprint 22: multi-cloud production deployment',
        'pending',
        '0/6 (0%)',
        '0',
        '–',
        '7d',
        'Sat 14 Feb',
        'Fri 13 Feb',
      ],
    ]);
  });

  it('gives each metric its latest value and an arrow for its trend since the last report', () => {
    const doc = buildDailyReport(dailyContext());

    const rows = tableOf(section(doc, 'metrics').blocks[0]).rows.map((row) =>
      row.cells.map((cell) =>
        cell.map((part) => (typeof part === 'string' ? part : 'text' in part ? part.text : '')).join(''),
      ),
    );
    const byName = Object.fromEntries(rows.map((row) => [row[0], row]));
    expect(byName.tps?.slice(1, 4)).toEqual(['1,850,000', '↑', '+150,000']);
    expect(byName['coverage.integration']?.slice(1, 4)).toEqual(['68', '↓', '−1']);
    expect(byName['coverage.unit']?.slice(1, 4)).toEqual(['82', '→', '±0']);
    expect(byName['build.failure_rate']?.[2]).toBe('↑');
    expect(byName.tps?.[5]).toBe('❌ ≥ 2,000,000');
    expect(byName['coverage.unit']?.[5]).toBe('✅ ≥ 80');
  });

  it('lists blocked items with their reasons and owners, open escalations, and what happened', () => {
    const doc = buildDailyReport(dailyContext());

    expect(text(doc, 'blocked')).toContain(
      '| `deploy-grpc-services` Deploy gRPC services to integration and run integration tests | @J4CDeploymentAgent | DevOps Lead | Integration cluster quota exhausted; AWS support case #4711 is open |',
    );
    expect(text(doc, 'escalations')).toContain(
      '🚨 **coverage-below-70** on `coverage.integration` · level 1 · open since Tue 13 Jan 16:00 EST · notified QA Lead, Tech Lead / Architect — coverage.integration is 69',
    );
    const events = text(doc, 'events');
    expect(events).toContain('Builds: 2 runs finished, 2 failed (100%)');
    expect(events).toContain('**Critical security alert**');
  });

  it('includes the burndown chart, as an image when the PNG has a path', () => {
    const doc = buildDailyReport(dailyContext());

    const chart = section(doc, 'burndown').blocks[0];
    expect(chart?.kind).toBe('chart');
    expect(renderMarkdown(doc, { chartPath: 'charts/burndown-2026-01-14.png' })).toContain(
      '![Burndown](charts/burndown-2026-01-14.png)',
    );
    expect(renderMarkdown(doc)).toContain('> 📉 Burndown: Burndown from Thu 1 Jan to Fri 13 Feb');
  });

  it('renders as a readable Markdown document', async () => {
    await expect(
      renderMarkdown(buildDailyReport(dailyContext()), { chartPath: 'burndown.png' }),
    ).toMatchFileSnapshot('./__snapshots__/daily-report.md');
  });
});

describe('buildWeeklySummary', () => {
  it('states the forecast method and sample size in the rendered summary', () => {
    const doc = buildWeeklySummary(weeklyContext(), { seed: 7 });

    const forecast = text(doc, 'forecast');
    expect(forecast).toContain('Monte Carlo simulation of 10,000 trials');
    expect(forecast).toContain('from the last 12 working days of throughput (Thu 1 Jan – Fri 16 Jan)');
    expect(forecast).toContain('Sample size: 12 working days of throughput history; 10,000 trials.');
    expect(forecast).toMatch(/\| P50 +\| .+ \|\n\| P85 +\| .+ \|\n\| P95 +\| .+ \|/);
  });

  it('is the same for the same seed', () => {
    const first = renderMarkdown(buildWeeklySummary(weeklyContext(), { seed: 42, trials: 2_000 }));
    const second = renderMarkdown(buildWeeklySummary(weeklyContext(), { seed: 42, trials: 2_000 }));

    expect(second).toBe(first);
  });

  it('shows velocity per ISO week against the plan', () => {
    const doc = buildWeeklySummary(weeklyContext(), { seed: 7 });

    const weeks = tableOf(section(doc, 'velocity').blocks[0]).rows.map((row) =>
      row.cells.map((cell) => cell.join('')),
    );
    expect(weeks).toEqual([
      ['2026-W01', '29 Dec 2025 – 4 Jan', '0d', '0d', '0'],
      ['2026-W02', '5 Jan – 11 Jan', '10d', '10d', '2'],
      ['2026-W03', '12 Jan – 18 Jan', '40d', '25d', '3'],
    ]);
  });

  it('measures schedule variance against the baseline and each active phase’s due date', () => {
    const doc = buildWeeklySummary(weeklyContext(), { seed: 7 });

    expect(text(doc, 'schedule')).toMatch(
      /Baseline finish Fri 13 Feb; forecast P50 .+: \*\*\d+ working days late\*\*/,
    );
    const phases = tableOf(section(doc, 'schedule').blocks[1]);
    expect(phases.rows).toHaveLength(1);
    expect(phases.rows[0]?.cells[0]).toEqual(['Sprint 20: gRPC foundation and 2M TPS']);
    expect(phases.rows[0]?.cells[4]?.join('')).toMatch(/^🔴 \d+ working days$/);
  });

  it('says why there is no forecast when nothing was finished yet', () => {
    const doc = buildWeeklySummary(reportAtStart(), { seed: 1 });

    expect(text(doc, 'forecast')).toContain(
      '**No forecast:** nothing was finished in the 2 working days of history, so there is no pace to project. 116d remain.',
    );
  });

  it('renders as a readable Markdown document', async () => {
    await expect(
      renderMarkdown(buildWeeklySummary(weeklyContext(), { seed: 7 }), { chartPath: 'burndown.png' }),
    ).toMatchFileSnapshot('./__snapshots__/weekly-summary.md');
  });
});

/** Fri 2 Jan, the second working day, with nothing done yet. */
function reportAtStart() {
  const ctx = weeklyContext({ tasks: [] });
  const tasks = new Map([...ctx.snapshot.tasks].filter(([, state]) => state.status !== 'done'));
  return {
    ...ctx,
    now: new Date('2026-01-02T21:30:00.000Z'),
    since: new Date('2025-12-26T21:30:00.000Z'),
    snapshot: { ...ctx.snapshot, tasks },
  };
}

describe('forAgent', () => {
  it('keeps only what is about one agent', () => {
    for (const kind of REPORT_KINDS) {
      // Prepare
      const doc = buildReport(
        kind,
        kind === 'standup'
          ? standupContext()
          : kind === 'sync'
            ? syncContext()
            : kind === 'report'
              ? dailyContext()
              : weeklyContext(),
        { seed: 3 },
      );

      // Act
      const part = forAgent(doc, 'deployment-agent');

      // Assess
      expect(part, kind).toBeDefined();
      const markdown = renderMarkdown(part as ReportDocument);
      expect(markdown).toContain('@J4CDeploymentAgent');
      for (const other of [
        'Agent 4A',
        'Agent 4B',
        'Agent 4C',
        'Agent 4D',
        '@QAQCAgent',
        '@J4CJIRAUpdateAgent',
      ])
        expect(markdown, `${kind} part mentions ${other}`).not.toContain(other);
      expect(part?.agent).toEqual({
        id: 'deployment-agent',
        name: '@J4CDeploymentAgent',
        channel: '#deployment',
      });
      expect(part?.title).toContain('· @J4CDeploymentAgent');
    }
  });

  it('is undefined for an agent the report says nothing about', () => {
    expect(forAgent(buildStandup(standupContext()), 'jira-agent')).toBeUndefined();
    expect(forAgent(buildStandup(standupContext()), 'no-such-agent')).toBeUndefined();
  });

  it('gives each agent with a channel its part', () => {
    const parts = agentParts(buildStandup(standupContext()));

    expect(parts.map((part) => [part.agent, part.channel])).toEqual([
      ['deployment-agent', '#deployment'],
      ['qa-agent', '#qa-testing'],
      ['grpc-agent', '#grpc-dev'],
      ['ai-agent', '#ai-dev'],
      ['bridge-agent', '#bridge-dev'],
      ['rwat-agent', '#rwat-dev'],
    ]);
  });

  it('renders an agent’s standup as its own readable document', async () => {
    const part = forAgent(buildStandup(standupContext()), 'ai-agent') as ReportDocument;

    await expect(renderMarkdown(part)).toMatchFileSnapshot('./__snapshots__/standup-ai-agent.md');
  });
});

describe('readEscalation', () => {
  it('reads the fields a report shows from an escalation record, whatever it is called', () => {
    expect(
      readEscalation({
        ruleId: 'tps-below-1-5m',
        subject: 'tps',
        at: '2026-01-14T10:00:00Z',
        targets: ['cto'],
        reason: 'tps is 1.2M',
      }),
    ).toEqual({
      rule: 'tps-below-1-5m',
      subject: 'tps',
      openedAt: '2026-01-14T10:00:00Z',
      note: 'tps is 1.2M',
      notify: ['cto'],
    });
    expect(
      readEscalation({
        id: 'agent-down:20260114T1635:ab12',
        rule: 'agent-down',
        kind: 'event',
        subject: 'bridge-agent',
        agent: 'bridge-agent',
        status: 'acknowledged',
        level: 2,
        targets: ['backend-1'],
        openedAt: '2026-01-14T16:35:00.000Z',
        acknowledgedBy: 'person:backend-1',
        reason: 'bridge-agent is down',
      }),
    ).toEqual({
      rule: 'agent-down',
      subject: 'bridge-agent',
      agent: 'bridge-agent',
      acknowledgedBy: 'person:backend-1',
      level: 2,
      openedAt: '2026-01-14T16:35:00.000Z',
      note: 'bridge-agent is down',
      notify: ['backend-1'],
    });
    expect(readEscalation('security')).toEqual({ rule: 'security', notify: [] });
    expect(readEscalation({ subject: 'no rule' })).toBeUndefined();
    expect(readEscalation(42)).toBeUndefined();
  });

  it('mentions the people notified by their names from the plan', () => {
    const doc = buildDailyReport(dailyContext({ plan: samplePlan({ slack: true }) }));

    const item = section(doc, 'escalations').blocks[0];
    expect(item?.kind === 'list' && item.items[0]?.text).toContainEqual({
      kind: 'mention',
      name: 'QA Lead',
      slack: 'U0QALEAD1',
    });
  });
});

describe('reports of a big project', () => {
  // How fast is measured by `npm run bench` (bench/reports.bench.ts); this checks they all render.
  it('builds and renders every report of 1,000 tasks, 50 agents and 30 days of history', () => {
    const ctx = largeContext({ sinceDays: 30 });
    expect(ctx.events.length).toBeGreaterThan(1_000);

    for (const kind of REPORT_KINDS) {
      const doc = buildReport(kind, ctx, { seed: 1 });
      expect(renderMarkdown(doc).length, kind).toBeGreaterThan(0);
      expect(renderBlocks(doc).blocks.length, kind).toBeLessThanOrEqual(50);
      for (const agent of doc.agents) expect(forAgent(doc, agent.id)?.agent?.id, kind).toBe(agent.id);
    }
  });
});
