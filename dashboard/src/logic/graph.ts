import { Graph, layout } from '@dagrejs/dagre';
import type { PlanAnalysis, TaskStatus } from '../types.js';

/** What the graph needs of a task: `GET …/tasks` gives all of it. */
export interface GraphTaskInput {
  readonly id: string;
  readonly title: string;
  readonly phase: string;
  readonly status: TaskStatus;
  readonly blocked: boolean;
  readonly dependsOn: readonly { readonly id: string }[];
  readonly slackDays?: number;
  /** Drawn for context only: a task of another phase that a shown task depends on. */
  readonly ghost?: boolean;
}

export interface GraphNode {
  readonly id: string;
  readonly title: string;
  readonly phase: string;
  readonly status: TaskStatus;
  readonly blocked: boolean;
  readonly slackDays: number | null;
  readonly critical: boolean;
  readonly ghost: boolean;
  /** Centre, as laid out. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly critical: boolean;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface GraphLayout {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
  readonly width: number;
  readonly height: number;
  /** The phases as boxes around their tasks. */
  readonly phases: { readonly id: string; x: number; y: number; width: number; height: number }[];
}

export const NODE_HEIGHT = 52;
/** Wide enough for the task id in the node's 13px font, with its status mark and star. */
export const nodeWidth = (id: string) => Math.max(120, Math.ceil(id.length * 8 + 44));

/**
 * The critical path: the analysis's when the plan route gives one, else every task without slack
 * (the schedule's `slackDays` of 0).
 */
export function criticalSet(
  tasks: readonly GraphTaskInput[],
  analysis?: Partial<Pick<PlanAnalysis, 'criticalPath'>>,
): Set<string> {
  if (analysis?.criticalPath && analysis.criticalPath.length > 0) return new Set(analysis.criticalPath);
  return new Set(tasks.filter((task) => task.slackDays === 0).map((task) => task.id));
}

/**
 * Lays the task DAG out left to right with dagre; edges point from a dependency to its dependant. An
 * edge is critical when it joins two consecutive tasks of `path` (the analysis's critical path), or,
 * without a path, two critical tasks.
 */
export function layoutGraph(
  tasks: readonly GraphTaskInput[],
  critical: ReadonlySet<string>,
  path?: readonly string[],
): GraphLayout {
  const pathEdges =
    path && path.length > 0 ? new Set(path.slice(1).map((id, i) => `${path[i]}->${id}`)) : null;
  const isCriticalEdge = (from: string, to: string) =>
    pathEdges ? pathEdges.has(`${from}->${to}`) : critical.has(from) && critical.has(to);
  const graph = new Graph({ compound: true });
  graph.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  const known = new Set(tasks.map((task) => task.id));
  const phaseIds = [...new Set(tasks.map((task) => task.phase))];
  for (const phase of phaseIds) graph.setNode(`phase:${phase}`, { label: phase, paddingTop: 24 });
  for (const task of tasks) {
    graph.setNode(task.id, { width: nodeWidth(task.id), height: NODE_HEIGHT });
    graph.setParent(task.id, `phase:${task.phase}`);
  }
  for (const task of tasks)
    for (const dependency of task.dependsOn)
      if (known.has(dependency.id)) graph.setEdge(dependency.id, task.id);
  layout(graph);
  const label = graph.graph() as { width?: number; height?: number };
  const nodes: GraphNode[] = tasks.map((task) => {
    const placed = graph.node(task.id) as { x: number; y: number };
    return {
      id: task.id,
      title: task.title,
      phase: task.phase,
      status: task.status,
      blocked: task.blocked,
      slackDays: task.slackDays ?? null,
      critical: critical.has(task.id),
      ghost: task.ghost === true,
      x: placed.x,
      y: placed.y,
      width: nodeWidth(task.id),
      height: NODE_HEIGHT,
    };
  });
  const edges: GraphEdge[] = graph.edges().map((edge: { v: string; w: string }) => ({
    from: edge.v,
    to: edge.w,
    critical: isCriticalEdge(edge.v, edge.w),
    points: ((graph.edge(edge) as { points?: { x: number; y: number }[] }).points ?? []).map((p) => ({
      x: p.x,
      y: p.y,
    })),
  }));
  const phases = phaseIds.map((id) => {
    const box = graph.node(`phase:${id}`) as { x: number; y: number; width: number; height: number };
    return { id, x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height };
  });
  return {
    nodes,
    edges,
    width: Math.max(label.width ?? 0, 200),
    height: Math.max(label.height ?? 0, 100),
    phases,
  };
}

/** What a task waits for (its dependencies not done yet, and all of them) and what it unblocks. */
export function neighbours(
  tasks: readonly GraphTaskInput[],
  id: string,
): { waitsFor: GraphTaskInput[]; dependsOn: GraphTaskInput[]; unblocks: GraphTaskInput[] } {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const task = byId.get(id);
  if (!task) return { waitsFor: [], dependsOn: [], unblocks: [] };
  const dependsOn = task.dependsOn.flatMap((d) => byId.get(d.id) ?? []);
  return {
    dependsOn,
    waitsFor: dependsOn.filter((d) => d.status !== 'done'),
    unblocks: tasks.filter((other) => other.dependsOn.some((d) => d.id === id)),
  };
}

/**
 * Above this many tasks the graph shows one phase at a time: dagre's layout grows much faster than
 * the graph (a few hundred milliseconds for 100 tasks, seconds for 300, minutes for 1,000).
 */
export const WHOLE_GRAPH_LIMIT = 150;

/**
 * The tasks of one phase, and for context the tasks of other phases they depend on (`ghost`, with
 * their own dependencies left out); every task for `null`.
 */
export function phaseSubset(tasks: readonly GraphTaskInput[], phase: string | null): GraphTaskInput[] {
  if (phase === null) return [...tasks];
  const shown = tasks.filter((task) => task.phase === phase);
  const ids = new Set(shown.map((task) => task.id));
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const ghosts = new Map<string, GraphTaskInput>();
  for (const task of shown)
    for (const dependency of task.dependsOn) {
      const other = byId.get(dependency.id);
      if (other && !ids.has(other.id) && !ghosts.has(other.id))
        ghosts.set(other.id, { ...other, dependsOn: [], ghost: true });
    }
  return [...ghosts.values(), ...shown];
}

/** The phases in plan order, and which one the graph opens on: all of them when the plan is small. */
export function initialPhase(tasks: readonly GraphTaskInput[]): string | null {
  if (tasks.length <= WHOLE_GRAPH_LIMIT) return null;
  return (tasks.find((task) => task.status !== 'done') ?? tasks[0])?.phase ?? null;
}
