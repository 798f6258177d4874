import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analysePlan, formatPlanError, parsePlan } from '../../../functions/core/plan/index.js';

const file = 'examples/sprint-20-23.yaml';

function loadPlan() {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

type Plan = ReturnType<typeof loadPlan>;

function findTask(plan: Plan, id: string) {
  const found = plan.phases.flatMap((phase) => phase.tasks).find((task) => task.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
}

function findGate(plan: Plan, id: string) {
  const found = plan.gates.find((gate) => gate.id === id);
  if (!found) throw new Error(`no gate ${id}`);
  return found;
}

function taskSchedule(analysis: ReturnType<typeof analysePlan>, id: string) {
  const found = analysis.tasks[id];
  if (!found) throw new Error(`no analysis for task ${id}`);
  return found;
}

/** Tasks of the feature agents 4B, 4C and 4D, which the document calls "not critical path". */
function enhancementTaskIds(plan: Plan) {
  return plan.phases
    .flatMap((phase) => phase.tasks)
    .filter((task) => ['ai-agent', 'bridge-agent', 'rwat-agent'].includes(task.agent ?? ''))
    .map((task) => task.id);
}

describe('sprint-20-23 example plan', () => {
  it('is a valid plan in EST that launches the agents on Jan 1, 2026', () => {
    // Prepare
    const source = readFileSync(file, 'utf8');

    // Act
    const result = parsePlan(source, { file });
    if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
    const analysis = analysePlan(result.plan);

    // Assess
    expect(result.plan.project.timezone).toBe('America/New_York');
    expect(result.plan.project.start).toBe('2026-01-01');
    expect(analysis.start).toBe('2026-01-01');
  });

  it('runs Sprints 20, 21 and 22 in order, on the document dates, and ends before the Feb 15 launch', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(plan.phases.map((phase) => [phase.id, phase.dependsOn, phase.due])).toEqual([
      ['sprint-20', [], '2026-01-21'],
      ['sprint-21', ['sprint-20'], '2026-02-04'],
      ['sprint-22', ['sprint-21'], '2026-02-14'],
    ]);
    expect(analysis.phases['sprint-20']).toMatchObject({ start: '2026-01-01', finish: '2026-01-21' });
    expect(analysis.phases['sprint-21']).toMatchObject({ start: '2026-01-22', finish: '2026-02-04' });
    expect(analysis.phases['sprint-22']?.start).toBe('2026-02-05');
    expect(analysis.finish <= '2026-02-14').toBe(true);
  });

  it('gives Agent 4A one week each for Protobuf design, gRPC services and the gateway, starting immediately', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const steps = ['grpc-proto-design', 'grpc-services', 'grpc-gateway'].map((id) => findTask(plan, id));

    // Assess
    expect(steps.map((task) => [task.agent, task.estimate, task.dependsOn])).toEqual([
      ['grpc-agent', '1w', []],
      ['grpc-agent', '1w', ['grpc-proto-design']],
      ['grpc-agent', '1w', ['grpc-services']],
    ]);
  });

  it('makes 4B, 4C and 4D wait for the gRPC implementation of Agent 4A', () => {
    // Prepare
    const plan = loadPlan();
    const grpcBound = ['ai-grpc-integration', 'bridge-atomic-swaps', 'rwat-basic-registry'];

    // Act
    const analysis = analysePlan(plan);

    // Assess
    const grpcDone = taskSchedule(analysis, 'grpc-services').earliestFinish;
    for (const id of grpcBound) {
      expect(findTask(plan, id).dependsOn).toContain('grpc-services');
      expect(taskSchedule(analysis, id).earliestStart).toBeGreaterThanOrEqual(grpcDone);
    }
  });

  it('keeps 4A on the critical path and 4B-4D off it ("enhancement, not critical path")', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    for (const id of ['grpc-proto-design', 'grpc-services', 'grpc-gateway']) {
      expect(taskSchedule(analysis, id).slackDays).toBe(0);
    }
    for (const id of enhancementTaskIds(plan)) {
      expect(taskSchedule(analysis, id).slackDays, id).toBeGreaterThan(0);
      expect(analysis.criticalPath).not.toContain(id);
    }
    expect(analysis.criticalPath.at(-1)).toBe('failover-dr-validation');
  });

  it('warns only that the performance environment is shared, and names its owner, the deployment agent', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const { warnings } = analysePlan(plan);

    // Assess
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).toContain('deployment-agent');
    expect(warnings.some((w) => w.includes('deploy-perf-benchmark') && w.includes('ai-benchmark'))).toBe(
      true,
    );
    expect(warnings.some((w) => w.includes('bridge-perf') && w.includes('rwat-perf'))).toBe(true);
  });

  it('gates Sprint 20 on 2M+ TPS, with CAUTION down to the 1.5M escalation trigger', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const tps = findGate(plan, 'sprint-20').criteria.find((criterion) => criterion.go.startsWith('tps '));

    // Assess
    expect(tps).toEqual({ go: 'tps >= 2_000_000', caution: 'tps >= 1_500_000' });
  });

  it('gates Sprint 20 on >= 70% integration coverage and no critical issues, approved by Tech Lead and PM', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const gate = findGate(plan, 'sprint-20');
    const goConditions = gate.criteria.map((criterion) => criterion.go);

    // Assess
    expect(plan.phases.find((phase) => phase.id === 'sprint-20')?.gate).toBe('sprint-20');
    expect(goConditions).toEqual(
      expect.arrayContaining([
        'coverage.integration >= 70',
        'issues.critical == 0',
        'tests.integration.failed == 0',
        'schedule.slip_days <= 3',
      ]),
    );
    expect(gate.approvers).toEqual(['tech-lead', 'pm']);
  });

  it('gates Sprint 21 on passing AI, cross-chain bridge and RWAT E2E tests', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const goConditions = findGate(plan, 'sprint-21').criteria.map((criterion) => criterion.go);

    // Assess
    expect(goConditions).toEqual(
      expect.arrayContaining([
        'tests.e2e.ai.pass_rate >= 100',
        'tests.e2e.bridge.pass_rate >= 100',
        'tests.e2e.rwat.pass_rate >= 100',
        'schedule.slip_days <= 2',
      ]),
    );
  });

  it('gates Sprint 22 on failover tests, DR validation and all 3 clouds, after QA validates failover', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const goConditions = findGate(plan, 'sprint-22').criteria.map((criterion) => criterion.go);
    const validation = findTask(plan, 'failover-dr-validation');

    // Assess
    expect(goConditions).toEqual(
      expect.arrayContaining([
        'tests.failover.pass_rate >= 100',
        'tests.dr.pass_rate >= 100',
        'clouds.operational >= 3',
        'schedule.slip_days <= 1',
      ]),
    );
    expect([validation.agent, validation.dependsOn]).toEqual(['qa-agent', ['automated-failover']]);
  });

  it('escalates the six automatic triggers to the people the document names, within 2 hours', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const rules = plan.escalations.map((rule) => [rule.when ?? rule.on, rule.notify, rule.sla]);

    // Assess
    expect(rules).toEqual([
      ['coverage.integration < 70', ['qa-lead', 'tech-lead'], '2h'],
      ['tps < 1_500_000', ['tech-lead', 'cto'], '2h'],
      ['build.failure_rate > 0.2', ['devops-lead'], '2h'],
      ['security.critical', ['ciso', 'cto'], '2h'],
      ['schedule.slip_days > 2', ['pm', 'exec-sponsor'], '2h'],
      ['member.unavailable', ['pm'], '2h'],
    ]);
  });

  it('takes agent owners, backups and Slack channels from the owners table', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const table = plan.agents.map((agent) => [agent.id, agent.owner, agent.backup, agent.channel]);

    // Assess
    expect(table).toEqual([
      ['jira-agent', 'pm', 'tech-lead', '#sprint-20-jira'],
      ['deployment-agent', 'devops-lead', 'tech-lead', '#deployment'],
      ['qa-agent', 'qa-lead', 'tech-lead', '#qa-testing'],
      ['grpc-agent', 'backend-1', 'backend-2', '#grpc-dev'],
      ['ai-agent', 'backend-2', 'backend-1', '#ai-dev'],
      ['bridge-agent', 'backend-3', 'backend-1', '#bridge-dev'],
      ['rwat-agent', 'backend-3', 'backend-2', '#rwat-dev'],
    ]);
  });

  it('restarts a failed JIRA, deployment or QA agent within 30, 15 and 15 minutes', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const restart = Object.fromEntries(plan.agents.map((agent) => [agent.id, agent.restartSla]));

    // Assess
    expect(restart).toMatchObject({ 'jira-agent': '30m', 'deployment-agent': '15m', 'qa-agent': '15m' });
    for (const agent of plan.agents) expect(agent.heartbeat, agent.id).toBeDefined();
  });

  it('holds standup at 09:00, agent sync at 16:00, the report at 17:00 and the gate review Fridays at 17:00', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const schedules = plan.schedules.map((schedule) => [schedule.job, schedule.at, schedule.days]);

    // Assess
    const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'];
    expect(schedules).toEqual(
      expect.arrayContaining([
        ['standup', '09:00', weekdays],
        ['sync', '16:00', weekdays],
        ['report', '17:00', weekdays],
        ['gate-review', '17:00', ['fri']],
      ]),
    );
    expect(schedules.filter(([job]) => job === 'weekly-summary')).toHaveLength(1);
  });

  it('tracks tickets in JIRA project AV12 and posts to the JIRA agent channel', () => {
    // Prepare
    const plan = loadPlan();

    // Act
    const { jira, slack } = plan.integrations;

    // Assess
    expect(jira?.projects).toEqual(['AV12']);
    expect(slack?.channel).toBe('#sprint-20-jira');
  });
});
