import { useMemo, useState } from 'preact/hooks';
import { Loading, Problem, StatusBadge, View } from '../components/ui.js';
import { useProjectData } from '../live.js';
import { STATUS_ICON, STATUS_LABEL } from '../logic/format.js';
import {
  criticalSet,
  type GraphTaskInput,
  initialPhase,
  layoutGraph,
  neighbours,
  phaseSubset,
  WHOLE_GRAPH_LIMIT,
} from '../logic/graph.js';
import type { PlanResponse, TaskView } from '../types.js';

/**
 * The task DAG laid out by dagre: phases as boxes, the critical path highlighted (and marked
 * `data-critical`), each task's slack; selecting a task lists what it waits for and what it unblocks.
 */
export function GraphView() {
  const tasks = useProjectData<{ tasks: TaskView[] }>('/tasks');
  const plan = useProjectData<PlanResponse>('/plan', { live: false });
  const [selected, setSelected] = useState<string | null>(null);
  const analysis = plan.data?.analysis ?? plan.data?.schedule;
  const inputs: GraphTaskInput[] = tasks.data?.tasks ?? [];
  const phases = [...new Set(inputs.map((task) => task.phase))];
  // undefined until the reader picks: then the default follows the plan's size.
  const [picked, setPicked] = useState<string | null | undefined>(undefined);
  const phase = picked === undefined ? initialPhase(inputs) : picked;
  const layout = useMemo(() => {
    const shown = phaseSubset(inputs, phase);
    return shown.length > 0
      ? layoutGraph(shown, criticalSet(inputs, analysis), analysis?.criticalPath)
      : null;
  }, [tasks.data, analysis, phase]);
  const chosen = selected ? neighbours(inputs, selected) : null;
  const chosenTask = inputs.find((task) => task.id === selected);
  return (
    <View
      name="graph"
      title="Plan graph"
      busy={tasks.loading}
      actions={
        phases.length > 1 ? (
          <label class="phase-pick">
            Phase{' '}
            <select
              value={phase ?? ''}
              onChange={(event) => setPicked((event.currentTarget as HTMLSelectElement).value || null)}
            >
              <option value="">
                All phases{inputs.length > WHOLE_GRAPH_LIMIT ? ` (${inputs.length} tasks: slow)` : ''}
              </option>
              {phases.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
        ) : null
      }
    >
      <Loading loading={tasks.loading && !tasks.data} what="the plan graph" />
      <Problem error={tasks.error} />
      <p class="legend">
        <span class="legend-critical">━ critical path</span> · slack in working days · {STATUS_ICON.done} done
        · {STATUS_ICON.in_progress} in progress · {STATUS_ICON.todo} to do · {STATUS_ICON.blocked} blocked
      </p>
      {chosenTask && chosen ? (
        <aside class="selection" aria-live="polite" aria-label={`Task ${chosenTask.id}`}>
          <h2>
            {chosenTask.id}: {chosenTask.title} <StatusBadge status={chosenTask.status} />
          </h2>
          <p>
            Waits for:{' '}
            {chosen.waitsFor.length > 0
              ? chosen.waitsFor.map((t) => t.id).join(', ')
              : 'nothing (its dependencies are done)'}
          </p>
          <p>Depends on: {chosen.dependsOn.map((t) => t.id).join(', ') || 'nothing'}</p>
          <p>Unblocks: {chosen.unblocks.map((t) => t.id).join(', ') || 'nothing'}</p>
          <button type="button" onClick={() => setSelected(null)}>
            Clear selection
          </button>
        </aside>
      ) : null}
      {layout ? (
        <figure class="graph-wrap">
          <figcaption class="visually-hidden">
            Task dependency graph: {layout.nodes.length} tasks; the critical path is drawn thick and marked
            with a star.
          </figcaption>
          <svg
            class="graph"
            width={layout.width}
            height={layout.height}
            viewBox={`0 0 ${layout.width} ${layout.height}`}
          >
            <title>Task dependency graph</title>
            <defs>
              <marker
                id="arrow"
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="8"
                markerHeight="8"
                markerUnits="userSpaceOnUse"
                orient="auto"
              >
                <path d="M0,0 L10,5 L0,10 z" class="arrow" />
              </marker>
            </defs>
            {layout.phases.map((phase) => (
              <g key={phase.id} class="phase" data-phase-id={phase.id}>
                <rect x={phase.x} y={phase.y} width={phase.width} height={phase.height} rx={8} />
                <text x={phase.x + 8} y={phase.y + 16}>
                  {phase.id}
                </text>
              </g>
            ))}
            {layout.edges.map((edge) => (
              <polyline
                key={`${edge.from}->${edge.to}`}
                class={`edge${edge.critical ? ' critical' : ''}${selected && (edge.from === selected || edge.to === selected) ? ' related' : ''}`}
                points={edge.points.map((p) => `${p.x},${p.y}`).join(' ')}
                marker-end="url(#arrow)"
                data-critical={edge.critical ? 'true' : 'false'}
              />
            ))}
            {layout.nodes.map((node) => (
              // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be an HTML <button>; it takes focus and Enter/Space like one
              <g
                key={node.id}
                class={`node status-${node.status}${node.critical ? ' critical' : ''}${node.ghost ? ' ghost' : ''}${node.id === selected ? ' selected' : ''}`}
                data-task-id={node.id}
                data-status={node.status}
                data-critical={node.critical ? 'true' : 'false'}
                data-slack={node.slackDays ?? ''}
                transform={`translate(${node.x - node.width / 2},${node.y - node.height / 2})`}
                tabindex={0}
                role="button"
                aria-pressed={node.id === selected}
                aria-label={`${node.id}${node.critical ? ' ★' : ''} ${slackText(node.slackDays)}: ${STATUS_LABEL[node.status] ?? node.status}${node.blocked ? ', blocked' : ''}${node.critical ? ', on the critical path' : ''}`}
                onClick={() => setSelected(node.id === selected ? null : node.id)}
                onKeyDown={(event) => {
                  if (event.key === 'Enter' || event.key === ' ') {
                    event.preventDefault();
                    setSelected(node.id === selected ? null : node.id);
                  }
                }}
              >
                <rect width={node.width} height={node.height} rx={6} />
                <text x={8} y={20} class="node-id">
                  {`${STATUS_ICON[node.blocked ? 'blocked' : node.status]} ${node.id}${node.critical ? ' ★' : ''} `}
                </text>
                <text x={8} y={40} class="node-meta">
                  {node.ghost
                    ? `${slackText(node.slackDays)} (phase ${node.phase})`
                    : slackText(node.slackDays)}
                </text>
              </g>
            ))}
          </svg>
        </figure>
      ) : null}
    </View>
  );
}

/** `slack 1.5d`: working days the task can slip without moving the finish; empty when unknown. */
const slackText = (days: number | null) => (days === null ? '' : `slack ${Number(days.toFixed(2))}d`);
