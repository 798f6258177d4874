import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analysePlan, formatPlanError, parsePlan } from '../../../functions/core/plan/index.js';

const file = 'examples/production-readiness.yaml';

function load() {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

type Plan = ReturnType<typeof load>;

function allTasks(plan: Plan) {
  return plan.phases.flatMap((phase) => phase.tasks);
}

function task(plan: Plan, id: string) {
  const found = allTasks(plan).find((t) => t.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
}

/** Splits the criterion on `metric` of gate `gateId` into operator and number. */
function criterion(plan: Plan, gateId: string, metric: string) {
  const gate = plan.gates.find((g) => g.id === gateId);
  if (!gate) throw new Error(`no gate ${gateId}`);
  for (const c of gate.criteria) {
    const [, name, op, number] = /^\s*([a-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*([0-9_.]+)\s*$/.exec(c.go) ?? [];
    if (name === metric && number !== undefined) return { op, value: Number(number.replaceAll('_', '')) };
  }
  throw new Error(`gate ${gateId} has no criterion on ${metric}`);
}

describe('production-readiness example plan', () => {
  it('parses without errors', () => {
    // Prepare
    const source = readFileSync(file, 'utf8');

    // Act
    const result = parsePlan(source, { file });

    // Assess
    if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
    expect(result.plan.project.id).toBe('production-readiness');
  });

  it('has 1 strategic + 1 product + 4 specialized dev agents as the document states', () => {
    // Prepare
    const plan = load();

    // Act
    const ids = plan.agents.map((a) => a.id).sort();

    // Assess
    expect(ids).toEqual(
      [
        'db-migration',
        'integration-testing',
        'message-protocol',
        'product',
        'strategic',
        'tooling-infra',
      ].sort(),
    );
    expect(plan.agents.every((a) => a.kind === 'ai')).toBe(true);
  });

  it('runs Phase 1 → 2 → 3 strictly in order on Days 1-2, 3-7 and 8-10', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(plan.phases.map((p) => [p.id, p.dependsOn])).toEqual([
      ['scaffolding', []],
      ['staging-integration', ['scaffolding']],
      ['consolidation', ['staging-integration']],
    ]);
    expect(analysis.phases.scaffolding).toMatchObject({ start: '2025-07-18', finish: '2025-07-21' });
    expect(analysis.phases['staging-integration']).toMatchObject({
      start: '2025-07-22',
      finish: '2025-07-28',
    });
    expect(analysis.phases.consolidation).toMatchObject({ start: '2025-07-29', finish: '2025-07-31' });
  });

  it('delivers production readiness in 10 working days (within 2 weeks), each phase finishing on its last day', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(analysis.durationDays).toBe(10);
    expect(analysis.finish).toBe('2025-07-31');
    for (const phase of plan.phases) {
      expect(phase.due, phase.id).toBeDefined();
      expect(analysis.phases[phase.id]?.finish, phase.id).toBe(phase.due);
    }
  });

  it('keeps the Database Migration Agent on the critical path through Days 1-7', () => {
    // Prepare
    const plan = load();
    const migration = ['sqlite-analysis', 'postgres-schema-design', 'schema-deployment', 'data-migration'];

    // Act
    const analysis = analysePlan(plan);

    // Assess
    for (const id of migration) {
      expect(analysis.tasks[id]?.agent, id).toBe('db-migration');
      expect(analysis.tasks[id]?.slackDays, id).toBe(0);
    }
    expect(analysis.tasks['sqlite-analysis']?.start).toBe('2025-07-18');
    expect(analysis.tasks['data-migration']?.finish).toBe('2025-07-28');
  });

  it('designs the PostgreSQL schema after SQLite analysis and tests Redis after the message classes (next milestones)', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(task(plan, 'postgres-schema-design').dependsOn).toContain('sqlite-analysis');
    expect(task(plan, 'redis-integration').dependsOn).toContain('protocol-classes');
    expect(analysis.tasks['postgres-schema-design']?.earliestStart).toBe(1);
    expect(analysis.tasks['redis-integration']?.earliestStart).toBe(1);
  });

  it('deploys the schema only once the staging environment is ready', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(task(plan, 'schema-deployment').dependsOn).toContain('staging-env-setup');
    expect(analysis.tasks['schema-deployment']?.earliestStart).toBeGreaterThanOrEqual(
      analysis.tasks['staging-env-setup']?.earliestFinish ?? Number.POSITIVE_INFINITY,
    );
  });

  it('integrates the protocol with PostgreSQL after the schema is deployed and cleans up after the DB migration', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess
    expect(task(plan, 'protocol-postgres-integration').dependsOn).toContain('schema-deployment');
    expect(analysis.tasks['protocol-postgres-integration']?.earliestStart).toBe(
      analysis.tasks['schema-deployment']?.earliestFinish,
    );
    expect(task(plan, 'architecture-cleanup').dependsOn).toContain('data-migration');
    expect(analysis.tasks['architecture-cleanup']).toMatchObject({
      agent: 'message-protocol',
      start: '2025-07-29',
      finish: '2025-07-31',
    });
  });

  it('has the Product Agent do UAT in Phase 3 and the product side approve production readiness', () => {
    // Prepare
    const plan = load();

    // Act
    const consolidation = plan.phases.find((p) => p.id === 'consolidation');
    const gate = plan.gates.find((g) => g.id === 'production-readiness');

    // Assess
    expect(consolidation?.gate).toBe('production-readiness');
    expect(consolidation?.tasks.find((t) => t.id === 'uat')?.agent).toBe('product');
    expect(gate?.approvers).toEqual(['product-owner']);
    expect(criterion(plan, 'production-readiness', 'uat.approved')).toEqual({ op: '==', value: 1 });
  });

  it('gates production readiness on the technical targets (<50 ms writes under 100 agents, >1000 msg/s, Redis-only, no SQLite, all tests passing)', () => {
    // Prepare
    const plan = load();

    // Act
    const targets = {
      latency: criterion(plan, 'production-readiness', 'latency.write_p99_ms'),
      load: criterion(plan, 'production-readiness', 'load.concurrent_agents'),
      throughput: criterion(plan, 'production-readiness', 'messages.throughput_per_s'),
      protocols: criterion(plan, 'production-readiness', 'messaging.protocols'),
      sqlite: criterion(plan, 'production-readiness', 'sqlite.dependencies'),
      tests: criterion(plan, 'production-readiness', 'tests.pass_rate'),
    };

    // Assess
    expect(targets).toEqual({
      latency: { op: '<', value: 50 },
      load: { op: '>=', value: 100 },
      throughput: { op: '>', value: 1000 },
      protocols: { op: '==', value: 1 },
      sqlite: { op: '==', value: 0 },
      tests: { op: '==', value: 100 },
    });
  });

  it('requires E2E tests passing in staging and a clean migration validation before Phase 3', () => {
    // Prepare
    const plan = load();

    // Act
    const e2e = criterion(plan, 'staging-integration', 'tests.e2e.pass_rate');
    const validation = criterion(plan, 'staging-integration', 'migration.validation_errors');

    // Assess
    expect(plan.phases.find((p) => p.id === 'staging-integration')?.gate).toBe('staging-integration');
    expect(e2e).toEqual({ op: '==', value: 100 });
    expect(validation).toEqual({ op: '==', value: 0 });
  });

  it('syncs daily at 09:00, 13:00 and 18:00 as the document states', () => {
    // Prepare
    const plan = load();

    // Act
    const schedules = plan.schedules.map((s) => [s.job, s.at]);

    // Assess
    expect(schedules).toEqual([
      ['standup', '09:00'],
      ['sync', '13:00'],
      ['report', '18:00'],
    ]);
    expect(plan.schedules.map((s) => s.days)).toEqual(Array(3).fill(['mon', 'tue', 'wed', 'thu', 'fri']));
  });

  it('escalates a blocker still open after 24 hours past the agent owner', () => {
    // Prepare
    const plan = load();

    // Act
    const rule = plan.escalations.find((e) => e.id === 'blocker-over-24h');

    // Assess
    expect(rule).toMatchObject({ on: 'task.blocked', notify: ['owner'], sla: '24h' });
    expect(rule?.levels.map((l) => l.notify)).toEqual([['eng-lead']]);
  });

  it('gives the Database Migration Agent precedence on the staging database it shares with protocol integration', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);
    const conflicts = analysis.warnings.filter(
      (w) => w.includes('protocol-postgres-integration') && w.includes('data-migration'),
    );

    // Assess
    expect(plan.resources.find((r) => r.id === 'staging-postgres')?.owner).toBe('db-migration');
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toContain('protocol-postgres-integration');
    expect(conflicts[0]).toContain('data-migration');
    expect(conflicts[0]).toContain('db-migration');
  });

  it('does not let a task complete until it passes E2E tests', () => {
    // Prepare
    const plan = load();

    // Act
    const checklist = plan.handoff.join('\n');

    // Assess
    expect(checklist).toMatch(/E2E tests pass/);
  });
});
