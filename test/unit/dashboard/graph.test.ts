import { describe, expect, it } from 'vitest';
import {
  criticalSet,
  type GraphTaskInput,
  initialPhase,
  layoutGraph,
  neighbours,
  phaseSubset,
  WHOLE_GRAPH_LIMIT,
} from '../../../dashboard/src/logic/graph.js';

const tasks: GraphTaskInput[] = [
  { id: 'design', title: 'Design', phase: 'p1', status: 'done', blocked: false, dependsOn: [], slackDays: 0 },
  {
    id: 'api',
    title: 'API',
    phase: 'p1',
    status: 'in_progress',
    blocked: false,
    dependsOn: [{ id: 'design' }],
    slackDays: 0,
  },
  {
    id: 'docs',
    title: 'Docs',
    phase: 'p1',
    status: 'todo',
    blocked: false,
    dependsOn: [{ id: 'design' }],
    slackDays: 2,
  },
  {
    id: 'release',
    title: 'Release',
    phase: 'p2',
    status: 'todo',
    blocked: true,
    dependsOn: [{ id: 'api' }, { id: 'docs' }],
    slackDays: 0,
  },
];

describe('the plan graph', () => {
  it('takes the critical path from the plan analysis when there is one, else the tasks without slack', () => {
    expect([...criticalSet(tasks, { criticalPath: ['design', 'api'] })]).toEqual(['design', 'api']);
    expect([...criticalSet(tasks)]).toEqual(['design', 'api', 'release']);
  });

  it('lays dependencies out left to right, marks the critical nodes and edges, and boxes each phase', () => {
    const layout = layoutGraph(tasks, criticalSet(tasks));
    const node = (id: string) => layout.nodes.find((n) => n.id === id);
    expect(node('design')?.x).toBeLessThan(node('api')?.x as number);
    expect(node('api')?.x).toBeLessThan(node('release')?.x as number);
    expect(layout.nodes.filter((n) => n.critical).map((n) => n.id)).toEqual(['design', 'api', 'release']);
    expect(node('docs')).toMatchObject({ critical: false, slackDays: 2 });
    const edges = Object.fromEntries(layout.edges.map((e) => [`${e.from}->${e.to}`, e.critical]));
    expect(edges).toEqual({
      'design->api': true,
      'design->docs': false,
      'api->release': true,
      'docs->release': false,
    });
    for (const edge of layout.edges) expect(edge.points.length).toBeGreaterThanOrEqual(2);
    // With the analysis's path, only its consecutive tasks make a critical edge.
    const withPath = layoutGraph(tasks, criticalSet(tasks, { criticalPath: ['design', 'api'] }), [
      'design',
      'api',
    ]);
    expect(withPath.edges.filter((e) => e.critical).map((e) => `${e.from}->${e.to}`)).toEqual([
      'design->api',
    ]);
    const p1 = layout.phases.find((p) => p.id === 'p1');
    for (const id of ['design', 'api', 'docs']) {
      const n = node(id) as { x: number; y: number };
      expect(n.x).toBeGreaterThan(p1?.x as number);
      expect(n.x).toBeLessThan((p1?.x as number) + (p1?.width as number));
      expect(n.y).toBeGreaterThan(p1?.y as number);
    }
    expect(layout.width).toBeGreaterThan(0);
  });

  it('says what a task waits for (its dependencies not done) and what it unblocks', () => {
    expect(neighbours(tasks, 'release')).toMatchObject({
      waitsFor: [{ id: 'api' }, { id: 'docs' }],
      dependsOn: [{ id: 'api' }, { id: 'docs' }],
      unblocks: [],
    });
    const api = neighbours(tasks, 'api');
    expect(api.waitsFor).toEqual([]);
    expect(api.dependsOn.map((t) => t.id)).toEqual(['design']);
    expect(api.unblocks.map((t) => t.id)).toEqual(['release']);
    expect(neighbours(tasks, 'nope')).toEqual({ waitsFor: [], dependsOn: [], unblocks: [] });
  });
});

describe('a large plan graph', () => {
  const many: GraphTaskInput[] = Array.from({ length: WHOLE_GRAPH_LIMIT + 1 }, (_, i) => ({
    id: `t${i}`,
    title: `T${i}`,
    phase: i < 100 ? 'p1' : 'p2',
    status: i < 100 ? 'done' : 'todo',
    blocked: false,
    dependsOn: i === 0 ? [] : [{ id: `t${i - 1}` }],
  }));

  it('opens on the first phase with work left, and on every task when the plan is small', () => {
    expect(initialPhase(many)).toBe('p2');
    expect(initialPhase(tasks)).toBeNull();
  });

  it('shows one phase with the tasks of other phases it waits for, as context without their own dependencies', () => {
    const shown = phaseSubset(many, 'p2');
    expect(shown[0]).toMatchObject({ id: 't99', ghost: true, dependsOn: [] });
    expect(shown.slice(1).every((task) => task.phase === 'p2' && !task.ghost)).toBe(true);
    expect(shown).toHaveLength(1 + (WHOLE_GRAPH_LIMIT + 1 - 100));
    expect(phaseSubset(tasks, null)).toEqual(tasks);
  });
});
