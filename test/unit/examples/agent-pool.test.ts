import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  analysePlan,
  formatPlanError,
  leaseDuration,
  parsePlan,
} from '../../../functions/core/plan/index.js';

const file = 'examples/agent-pool.yaml';

function load() {
  const result = parsePlan(readFileSync(file, 'utf8'), { file });
  if (!result.ok) throw new Error(result.errors.map(formatPlanError).join('\n'));
  return result.plan;
}

const tasks = (plan: ReturnType<typeof load>) => plan.phases.flatMap((phase) => phase.tasks);

describe('agent-pool example plan', () => {
  it('parses and analyses without warnings: pooled and open tasks count against no agent', () => {
    // Prepare
    const plan = load();

    // Act
    const analysis = analysePlan(plan);

    // Assess: three tasks start together though no agent is named for them.
    expect(analysis.warnings).toEqual([]);
    expect(analysis.waves[0]).toEqual(['refunds-schema', 'webhooks-retry', 'flaky-tests']);
    expect(analysis.tasks['refunds-schema']).not.toHaveProperty('agent');
    expect(analysis.tasks.deploy?.agent).toBe('release-bot');
  });

  it('has a pool of three AI coders, tasks any agent may claim, and the release assigned', () => {
    // Prepare
    const plan = load();

    // Act
    const who = Object.fromEntries(tasks(plan).map((task) => [task.id, [task.agent, task.pool]]));

    // Assess
    const coders = ['coder-a', 'coder-b', 'coder-c'];
    expect(plan.agents.filter((agent) => coders.includes(agent.id)).map((agent) => agent.kind)).toEqual([
      'ai',
      'ai',
      'ai',
    ]);
    expect(who).toEqual({
      'refunds-schema': [undefined, coders],
      'refunds-api': [undefined, coders],
      'webhooks-retry': [undefined, coders],
      'docs-refunds': [undefined, undefined],
      'flaky-tests': [undefined, undefined],
      'release-notes': ['release-bot', undefined],
      deploy: ['release-bot', ['coder-a']],
    });
  });

  it('gives each coder a claim lease: its own, or twice its heartbeat', () => {
    // Act
    const leases = Object.fromEntries(
      load().agents.map((agent) => [agent.id, leaseDuration(agent) / 60_000]),
    );

    // Assess: minutes; the release bot has no heartbeat, so 30m.
    expect(leases).toEqual({ 'coder-a': 20, 'coder-b': 10, 'coder-c': 30, 'release-bot': 30 });
  });

  it('makes the migrations and the API contract resources of path globs, touched by the tasks that change them', () => {
    // Prepare
    const plan = load();

    // Act
    const touching = (resource: string) =>
      tasks(plan)
        .filter((task) => task.touches.includes(resource))
        .map((task) => task.id);

    // Assess
    expect(plan.resources.map((resource) => [resource.id, resource.owner, resource.paths])).toEqual([
      ['db-migrations', 'coder-a', ['db/migrations/**', 'src/db/schema.ts']],
      ['public-api', 'coder-b', ['openapi/**/*.yaml', 'src/api/routes/*.ts']],
    ]);
    expect(touching('db-migrations')).toEqual(['refunds-schema']);
    expect(touching('public-api')).toEqual(['refunds-api']);
  });
});
