import type { ProjectStatus } from '../../core/coordination/status.js';
import { ApiError, request, resolveTarget } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, type Style, styler, UsageError } from '../io.js';
import { connection } from './apply.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Print the coordination status of a project: phases, agents, blockers, metrics',
  usage: 'convoy status [--url URL] [--project ID] [--token TOKEN] [--json]',
  details: ['Defaults come from the running convoy dev (.convoy/dev.json).'],
  options: {
    ...connection,
    project: { type: 'string', value: 'ID', description: 'project id (default: convoy dev’s project)' },
    json: { type: 'boolean', description: 'print the status JSON as the API returns it' },
  },
  async run({ values }, io) {
    const target = await resolveTarget(values);
    if (!target.project) throw new UsageError('no --project given and no running convoy dev to take it from');
    const style = styler(io.color);
    try {
      const status = await request<ProjectStatus>(
        target,
        'GET',
        `/v1/plans/${encodeURIComponent(target.project)}/status`,
      );
      io.stdout(values.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status, style));
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.stderr(`${style('red', 'error:')} ${error.status} ${error.message}\n`);
      return EXIT.failed;
    }
  },
};

function ago(iso: string | null, now: string): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((Date.parse(now) - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds}s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

const RISK_STYLE: Record<string, Style> = { green: 'green', yellow: 'yellow', red: 'red' };

/** The status as a person reads it in a terminal. */
export function renderStatus(status: ProjectStatus, style: (s: Style, t: string) => string): string {
  const out: string[] = [];
  out.push(
    `${style('bold', status.name)} ${style('dim', `(${status.project}) · plan v${status.planVersion} · ${status.generatedAt}`)}`,
  );
  out.push(
    `active: ${status.activePhases.length > 0 ? status.activePhases.join(', ') : 'none'}`,
    '',
    style('bold', 'Phases'),
  );
  const width = Math.max(...status.phases.map((p) => p.id.length));
  for (const phase of status.phases) {
    const t = phase.tasks;
    const extra = [
      t.in_progress && `${t.in_progress} in progress`,
      t.in_review && `${t.in_review} in review`,
      t.blocked && style('yellow', `${t.blocked} blocked`),
    ].filter(Boolean);
    out.push(
      `  ${phase.id.padEnd(width)}  ${phase.status.padEnd(7)}  ${t.done}/${phase.total} done${extra.length ? ` · ${extra.join(' · ')}` : ''}`,
    );
  }
  out.push('', style('bold', 'Agents'));
  const agentWidth = Math.max(...status.agents.map((a) => a.id.length));
  for (const agent of status.agents) {
    out.push(
      `  ${agent.id.padEnd(agentWidth)}  ${(agent.status === 'down' ? style('red', 'down') : agent.status).padEnd(6)}  ${(agent.currentTask ?? '-').padEnd(24)}  ` +
        `heartbeat ${ago(agent.lastHeartbeat, status.generatedAt).padEnd(9)}  ${String(agent.completion).padStart(5)}%  ${style(RISK_STYLE[agent.risk] ?? 'dim', agent.risk)}`,
    );
  }
  const blocked = status.tasks.filter((task) => task.blocked);
  out.push('', style('bold', `Blocked (${blocked.length})`));
  for (const task of blocked)
    out.push(`  ${style('yellow', '!')} ${task.id} (${task.agent}): ${task.reason ?? ''}`);
  const metrics = Object.entries(status.metrics);
  out.push('', style('bold', `Metrics (${metrics.length})`));
  for (const [name, metric] of metrics)
    out.push(`  ${name.padEnd(28)} ${String(metric.value).padStart(12)}  ${style('dim', metric.at)}`);
  out.push('', style('bold', `Escalations (${status.escalations.length})`));
  return `${out.join('\n')}\n`;
}
