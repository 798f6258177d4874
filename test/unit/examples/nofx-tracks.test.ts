import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analysePlan, formatPlanError, parsePlan } from '../../../functions/core/plan/index.js';

const file = 'examples/nofx-tracks.yaml';

function load() {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

function task(plan: ReturnType<typeof load>, id: string) {
  const found = plan.phases.flatMap((phase) => phase.tasks).find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no task ${id} in ${file}`);
  return found;
}

const trackLeads = ['track-a-lead', 'track-b-lead', 'track-c-lead'];

describe('nofx-tracks example plan', () => {
  it('parses and analyses without errors or warnings, as the tracks are independent with their own resources', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(analysis.project).toBe('nofx-tracks');
    expect(analysis.warnings).toEqual([]);
  });

  it('has three AI agents, Alpha, Beta and Gamma, each running its own track', () => {
    // Prepare
    const plan = load();

    // Act
    const agentsByTask = new Map(plan.phases.flatMap((phase) => phase.tasks).map((t) => [t.id, t.agent]));

    // Assess
    expect(plan.agents.map((agent) => [agent.id, agent.kind])).toEqual([
      ['alpha', 'ai'],
      ['beta', 'ai'],
      ['gamma', 'ai'],
    ]);
    for (const [id, agent] of agentsByTask) {
      expect(agent, id).toBe({ a: 'alpha', b: 'beta', c: 'gamma' }[id[0] as 'a' | 'b' | 'c']);
    }
  });

  it("runs Alpha's Week 1 as schema (Day 1-2), then core APIs (Day 3-4), then integration testing (Day 5)", () => {
    // Prepare
    const plan = load();

    // Act
    const week1 = ['a1-db-schema', 'a1-core-apis', 'a1-integration-tests'].map((id) => task(plan, id));

    // Assess
    expect(week1.map((t) => t.estimate)).toEqual(['2d', '2d', '1d']);
    expect(week1.map((t) => t.dependsOn)).toEqual([[], ['a1-db-schema'], ['a1-core-apis']]);
  });

  it('starts all three tracks together on Day 1 and never runs more than three tasks at once', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect([...(analysis.waves[0] ?? [])].sort()).toEqual([
      'a1-db-schema',
      'b1-marketplace-model',
      'c1-package-structure',
    ]);
    expect(analysis.maxParallel).toBe(3);
    expect(analysis.start).toBe('2024-09-30');
  });

  it("makes Gamma's cross-track integration wait for Alpha's core APIs and Beta's template APIs", () => {
    // Prepare
    const plan = load();

    // Act
    const integration = task(plan, 'c2-integration-framework');
    const analysis = analysePlan(plan);

    // Assess
    expect(integration.dependsOn).toEqual(
      expect.arrayContaining(['c1-cicd', 'a1-core-apis', 'b1-template-apis']),
    );
    expect(analysis.tasks['c2-integration-framework']?.start).toBe('2024-10-07'); // Week 2, Day 1
  });

  it("makes Alpha's Week 3 integration testing wait for the Beta and Gamma tracks", () => {
    // Prepare
    const plan = load();

    // Act
    const finalTask = task(plan, 'a3-advanced-testing');

    // Assess
    expect(finalTask.estimate).toBe('3d'); // Week 3, Day 3-5
    expect(finalTask.dependsOn).toEqual(
      expect.arrayContaining(['a3-version-mgmt', 'b2-advanced-features', 'c2-integration-framework']),
    );
  });

  it("finishes Phase 1 with Alpha's three-week track while Beta and Gamma need two weeks", () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(analysis.durationDays).toBe(15);
    expect(analysis.finish).toBe('2024-10-18');
    expect(analysis.criticalPath.every((id) => id.startsWith('a'))).toBe(true);
    expect(analysis.criticalPath.at(-1)).toBe('a3-advanced-testing');
    expect(analysis.tasks['b2-advanced-features']?.finish).toBe('2024-10-11');
    expect(analysis.tasks['c2-docs-tools']?.finish).toBe('2024-10-11');
    // Beta must be done before Alpha's Week 3 Day 3-5 integration testing; Gamma's docs feed nothing.
    expect(analysis.tasks['b2-advanced-features']?.slackDays).toBe(2);
    expect(analysis.tasks['c2-docs-tools']?.slackDays).toBe(5);
  });

  it('gates Phase 1 on the completion thresholds: 95% coverage, <200ms, zero critical vulnerabilities, 5/5 endpoints', () => {
    // Prepare
    const plan = load();

    // Act
    const gate = plan.gates.find((candidate) => candidate.id === plan.phases[0]?.gate);

    // Assess
    expect(gate?.criteria.map((criterion) => criterion.go)).toEqual(
      expect.arrayContaining([
        'tests.pass_rate == 100',
        'vulnerabilities.critical == 0',
        'coverage.total >= 95',
        'latency.p95_ms < 200',
        'docs.api_coverage == 100',
        'registry.endpoints >= 5',
        'registry.scripts >= 3',
      ]),
    );
    expect(gate?.approvers).toEqual(['project-lead']);
  });

  it('escalates a blocker through four levels: agent-to-agent, standup, emergency meeting, project leadership', () => {
    // Prepare
    const plan = load();

    // Act
    const blocker = plan.escalations.find((rule) => rule.id === 'blocker');

    // Assess
    expect(blocker?.on).toBe('task.blocked');
    expect(blocker?.notify).toEqual(['owner']);
    expect(blocker?.levels.map((level) => level.notify)).toEqual([trackLeads, trackLeads, ['project-lead']]);
    expect(blocker?.levels[1]?.sla).toBe('2h'); // emergency coordination call within 2 hours
  });

  it('calls an emergency meeting within 1 hour of an integration failure and within 2 hours of a conflict', () => {
    // Prepare
    const plan = load();

    // Act
    const rule = (id: string) => plan.escalations.find((candidate) => candidate.id === id);

    // Assess
    expect(rule('integration-failure')?.sla).toBe('1h');
    expect(rule('cross-track-conflict')?.sla).toBe('2h');
    expect(rule('integration-failure')?.notify).toEqual(trackLeads);
    expect(rule('security-breach')?.notify).toEqual([...trackLeads, 'project-lead']);
  });

  it('holds the standup at 09:00, an integration sync every 2 days and the weekly review on Fridays at 16:00', () => {
    // Prepare
    const plan = load();

    // Act
    const byJob = Object.fromEntries(plan.schedules.map((schedule) => [schedule.job, schedule]));

    // Assess
    expect(plan.schedules).toHaveLength(3);
    expect(byJob.standup).toMatchObject({ at: '09:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
    expect(byJob.sync?.every).toBe(2);
    expect(byJob['weekly-summary']).toMatchObject({ at: '16:00', days: ['fri'] });
  });

  it('gives the database tables to their owning tracks and posts to #nofx-phase1-coordination', () => {
    // Prepare
    const plan = load();

    // Act
    const owners = Object.fromEntries(plan.resources.map((resource) => [resource.id, resource.owner]));

    // Assess
    expect(owners['agent-registry-tables']).toBe('alpha');
    expect(owners['template-tables']).toBe('beta');
    expect(owners['analytics-views']).toBe('gamma');
    expect(task(plan, 'a1-db-schema').touches).toEqual(['agent-registry-tables']);
    expect(plan.integrations.slack?.channel).toBe('#nofx-phase1-coordination');
  });
});
