import type { StatusGate, StatusView } from '../../core/coordination/status.js';
import { formatInstant, formatInstantsIn } from '../../core/reports/dates.js';
import { ApiError, request, resolveTarget } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, type Style, styler, UsageError } from '../io.js';
import { connection } from './apply.js';

export const statusCommand: Command = {
  name: 'status',
  usage: 'convoy status [--url URL] [--project ID] [--token TOKEN] [--json]',
  details: [
    'Each gate shows its latest decision and what it waits for; each open escalation its level, the',
    'SLA left and why it was opened; a reassigned task is listed under the person who holds it.',
    'Claimed tasks show their agent and lease expiry; active resource leases their holder, what they',
    'cover (resource, path globs), mode, task and expiry.',
    'Times are shown in the project’s time zone (ISO 8601 with --json).',
    'Defaults come from the running convoy dev (.convoy/dev.json).',
  ],
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
      const status = await request<StatusView>(
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

/** How a gate's status shows in the terminal (with its word, never by colour alone). */
export const GATE_STYLE: Record<string, Style> = {
  passed: 'green',
  'awaiting-decision': 'red',
  failed: 'red',
  held: 'yellow',
  caution: 'yellow',
};

/** `1h 20m`, `3d 4h`, `45s`: a span of time as a person says it. */
export function span(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}

/** The latest decision of a gate in one line: the verdict, who overrode it, when, and why. */
function latestDecision(gate: StatusGate, when: (iso: string) => string): string {
  const latest = gate.latest;
  if (!latest) return 'not evaluated yet';
  const how = latest.override
    ? `${latest.decision}, then ${latest.override} by ${latest.decidedBy ?? 'an approver'}`
    : latest.decision;
  const why = latest.note ?? latest.evaluation.reasons[0];
  return `${how} · attempt ${latest.attempt} · ${when(latest.at)}${why ? ` · ${why}` : ''}`;
}

/** The status as a person reads it in a terminal; dates in the project's time zone. */
export function renderStatus(status: StatusView, style: (s: Style, t: string) => string): string {
  const zone = status.timezone ?? 'UTC';
  // The year shows only for a date outside the status's own year.
  const when = (iso: string) => formatInstant(iso, zone, status.generatedAt);
  // Sentences written for the audit trail carry ISO times: shown in the zone too.
  const said = (text: string) => formatInstantsIn(text, zone, status.generatedAt);
  const gates = status.gates ?? [];
  const out: string[] = [];
  out.push(
    `${style('bold', status.name)} ${style('dim', `(${status.project}) · plan v${status.planVersion} · ${when(status.generatedAt)}`)}`,
  );
  out.push(
    `active: ${status.activePhases.length > 0 ? status.activePhases.join(', ') : 'none'}`,
    '',
    style('bold', 'Phases'),
  );
  const width = Math.max(...status.phases.map((p) => p.id.length));
  for (const phase of status.phases) {
    const t = phase.tasks;
    const gate = gates.find((candidate) => candidate.gate === phase.gate);
    const extra = [
      t.in_progress && `${t.in_progress} in progress`,
      t.in_review && `${t.in_review} in review`,
      t.blocked && style('yellow', `${t.blocked} blocked`),
      // A phase whose tasks are all done may still wait for its gate: say so on its line.
      gate &&
        gate.status !== 'passed' &&
        style(GATE_STYLE[gate.status] ?? 'dim', `gate ${gate.gate} ${gate.status}`),
    ].filter(Boolean);
    out.push(
      `  ${phase.id.padEnd(width)}  ${phase.status.padEnd(7)}  ${t.done}/${phase.total} done${extra.length ? ` · ${extra.join(' · ')}` : ''}`,
    );
  }
  out.push('', style('bold', `Gates (${gates.length})`));
  const gateWidth = Math.max(0, ...gates.map((g) => g.gate.length));
  for (const gate of gates) {
    out.push(
      `  ${gate.gate.padEnd(gateWidth)}  ${style(GATE_STYLE[gate.status] ?? 'dim', gate.status)}${gate.phase ? ` (phase ${gate.phase})` : ''}`,
      `  ${''.padEnd(gateWidth)}  latest: ${said(latestDecision(gate, when))}`,
    );
    if (gate.waitsFor) out.push(`  ${''.padEnd(gateWidth)}  waits for ${gate.waitsFor}`);
  }
  out.push('', style('bold', 'Agents'));
  const agentWidth = Math.max(...status.agents.map((a) => a.id.length));
  for (const agent of status.agents) {
    const handed = agent.reassigned ?? [];
    out.push(
      `  ${agent.id.padEnd(agentWidth)}  ${(agent.status === 'down' ? style('red', 'down') : agent.status).padEnd(6)}  ${(agent.currentTask ?? '-').padEnd(24)}  ` +
        `heartbeat ${ago(agent.lastHeartbeat, status.generatedAt).padEnd(9)}  ${String(agent.completion).padStart(5)}%  ${style(RISK_STYLE[agent.risk] ?? 'dim', agent.risk)}` +
        (handed.length > 0 ? `  ${style('dim', `${handed.length} reassigned`)}` : ''),
    );
  }
  // Who holds which task: claims and resource leases (a server before claims sends neither).
  const claimed = status.tasks.filter((task) => task.claim);
  if (claimed.length > 0) {
    out.push('', style('bold', `Claimed (${claimed.length})`));
    const idWidth = Math.max(...claimed.map((task) => task.id.length));
    for (const task of claimed) {
      const claim = task.claim as NonNullable<typeof task.claim>;
      const lapsed = claim.expiresAt <= status.generatedAt;
      out.push(
        `  ${task.id.padEnd(idWidth)}  ${claim.agent} · ${task.status} · since ${when(claim.at)} · ` +
          // A claim on a task the plan assigns to its holder never lapses (docs/api.md).
          (claim.agent === task.agent
            ? 'assigned by the plan'
            : lapsed
              ? style('red', `lease expired ${when(claim.expiresAt)}, about to be released`)
              : `lease until ${when(claim.expiresAt)}`),
      );
    }
  }
  const leases = status.leases ?? [];
  if (leases.length > 0) {
    out.push('', style('bold', `Leases (${leases.length})`));
    for (const lease of leases) {
      const what = lease.resource
        ? `resource ${lease.resource} (${lease.paths.join(', ')})`
        : `paths ${lease.paths.join(', ')}`;
      out.push(
        `  ${lease.holder} · ${lease.mode === 'exclusive' ? style('yellow', 'exclusive') : 'shared'} · ${what}${
          lease.task ? ` · task ${lease.task}` : ''
        } · until ${when(lease.expiresAt)}`,
        `    ${style('dim', lease.id)}`,
      );
    }
  }
  const blocked = status.tasks.filter((task) => task.blocked);
  out.push('', style('bold', `Blocked (${blocked.length})`));
  for (const task of blocked)
    out.push(
      `  ${style('yellow', '!')} ${task.id} (${task.holder ?? task.agent ?? 'unassigned'}): ${said(task.reason ?? '')}`,
    );
  const reassigned = status.tasks.filter((task) => task.reassignment);
  if (reassigned.length > 0) {
    out.push('', style('bold', `Reassigned (${reassigned.length})`));
    for (const task of reassigned) {
      const r = task.reassignment as NonNullable<typeof task.reassignment>;
      out.push(
        `  ${task.id} → ${r.to} (from ${r.from}; confirmed by ${r.by}, ${when(r.at)}) · ${task.status}`,
      );
    }
  }
  const metrics = Object.entries(status.metrics);
  out.push('', style('bold', `Metrics (${metrics.length})`));
  for (const [name, metric] of metrics)
    out.push(`  ${name.padEnd(28)} ${String(metric.value).padStart(12)}  ${style('dim', when(metric.at))}`);
  out.push('', style('bold', `Escalations (${status.escalations.length})`));
  for (const escalation of status.escalations) {
    const left = escalation.slaLeftSeconds;
    const sla = escalation.snoozedUntil
      ? `snoozed until ${when(escalation.snoozedUntil)}`
      : left >= 0
        ? `${span(left)} left (due ${when(escalation.dueAt)})`
        : style('red', `overdue by ${span(left)} (due ${when(escalation.dueAt)})`);
    out.push(
      `  ${style(escalation.status === 'open' ? 'red' : 'yellow', '!')} ${escalation.name} · ${escalation.subject} · level ${escalation.level} of ${escalation.levels} · ${escalation.status} · ${sla}`,
      `    ${said(escalation.reason)}`,
      `    ${style('dim', escalation.id)}`,
    );
  }
  return `${out.join('\n')}\n`;
}
