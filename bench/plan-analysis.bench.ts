import { stringify } from 'yaml';
import { analysePlan, parsePlan } from '../functions/core/plan/index.js';
import { measure, report } from './harness.js';

/** A deterministic pseudo-random generator (mulberry32), so every run analyses the same plan. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A plan of `taskCount` tasks in `phaseCount` chained phases with `edgeCount` explicit dependsOn
 * edges, each to an earlier task of the same or an earlier phase, spread over 100 agents.
 */
export function largePlan(taskCount = 10_000, edgeCount = 50_000, phaseCount = 10) {
  const next = random(42);
  const perPhase = taskCount / phaseCount;
  const estimates = ['2h', '4h', '1d', '1.5d', '2d', '3d'];
  const phases = Array.from({ length: phaseCount }, (_, p) => ({
    id: `phase-${p}`,
    ...(p > 0 ? { dependsOn: [`phase-${p - 1}`] } : {}),
    tasks: [] as { id: string; agent: string; estimate: string; dependsOn: string[] }[],
  }));
  const edgesPerTask = edgeCount / taskCount;
  for (let i = 0; i < taskCount; i++) {
    const phase = Math.floor(i / perPhase);
    const dependsOn = new Set<string>();
    // The first tasks of the plan have too few predecessors to pick from; they take what there is.
    while (i > 0 && dependsOn.size < Math.min(edgesPerTask, i))
      dependsOn.add(`task-${Math.floor(next() * i)}`);
    phases[phase]?.tasks.push({
      id: `task-${i}`,
      agent: `agent-${Math.floor(next() * 100)}`,
      estimate: estimates[Math.floor(next() * estimates.length)] as string,
      dependsOn: [...dependsOn],
    });
  }
  return {
    version: 1,
    project: {
      id: 'large',
      timezone: 'America/New_York',
      start: '2026-01-05',
      holidays: ['2026-01-19', '2026-02-16'],
    },
    people: [{ id: 'pm' }],
    agents: Array.from({ length: 100 }, (_, a) => ({ id: `agent-${a}`, owner: 'pm' })),
    phases,
  };
}

export function run(): boolean {
  const data = largePlan();
  const edges = data.phases.reduce(
    (sum, phase) => sum + phase.tasks.reduce((s, task) => s + task.dependsOn.length, 0),
    0,
  );
  const yamlText = stringify(data);
  const jsonText = JSON.stringify(data);
  const parsed = parsePlan(jsonText, { file: 'large.json' });
  if (!parsed.ok) throw new Error(`benchmark plan is invalid: ${parsed.errors[0]?.message}`);
  const plan = parsed.plan;
  const analysis = analysePlan(plan);
  console.log(
    `plan: 10,000 tasks, ${edges.toLocaleString('en-US')} explicit dependency edges, 10 chained phases, 100 agents; ` +
      `YAML ${(yamlText.length / 1e6).toFixed(1)} MB; ${analysis.waves.length} waves, critical path of ${analysis.criticalPath.length} tasks, ${analysis.warnings.length} warnings`,
  );
  return report('Plan analysis (npm run bench)', [
    { measurement: measure('analysePlan (schedule analysis)', () => analysePlan(plan)), limitMs: 250 },
    {
      measurement: measure('parsePlan JSON + analysePlan', () =>
        analysePlan((parsePlan(jsonText, { file: 'large.json' }) as { plan: typeof plan }).plan),
      ),
      limitMs: 1000,
    },
    measure('parsePlan YAML (parse + validate)', () => parsePlan(yamlText, { file: 'large.yaml' }), 5),
  ]);
}
