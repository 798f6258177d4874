import type { StatusGate } from '../../core/coordination/status.js';
import type { GateDecision } from '../../core/gates/decision.js';
import { formatInstant } from '../../core/reports/dates.js';
import { ApiError, request, resolveTarget } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, type Io, type Style, styler, UsageError } from '../io.js';
import { connection } from './apply.js';
import { GATE_STYLE } from './status.js';

const DECISIONS = ['advance', 'hold'] as const;

export const gatesCommand: Command = {
  name: 'gates',
  usage:
    'convoy gates [list] | decide GATE advance|hold [--note TEXT] | evaluate GATE  [--url URL] [--project ID] [--token TOKEN] [--json]',
  details: [
    'list (the default) shows each gate: its status, its latest decision (verdict, who overrode it,',
    'when, why) and what it waits for.',
    'decide answers a gate that waits for a decision (NO-GO, or CAUTIONs exhausted): advance accepts',
    'the risk and passes the phase, hold keeps it; only the gate’s approvers or an admin may.',
    'evaluate starts a new evaluation of a held or failed gate (an admin token).',
    'Times are shown in the project’s time zone. Defaults come from the running convoy dev (.convoy/dev.json).',
  ],
  options: {
    ...connection,
    project: { type: 'string', value: 'ID', description: 'project id (default: convoy dev’s project)' },
    note: { type: 'string', value: 'TEXT', description: 'why, kept with the decision (decide)' },
    json: { type: 'boolean', description: 'print the JSON the API returns' },
  },
  async run({ positionals, values }, io) {
    const [action = 'list', ...rest] = positionals;
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      if (values.note !== undefined) throw new UsageError('--note goes with decide');
    } else if (action === 'decide') {
      if (rest.length !== 2)
        throw new UsageError('name the gate and the decision: convoy gates decide GATE advance|hold');
      if (!DECISIONS.includes(rest[1] as (typeof DECISIONS)[number]))
        throw new UsageError(`the decision is advance or hold, got ${rest[1]}`);
    } else if (action === 'evaluate') {
      if (rest.length !== 1) throw new UsageError('name exactly one gate: convoy gates evaluate GATE');
      if (values.note !== undefined) throw new UsageError('--note goes with decide');
    } else throw new UsageError(`unknown action ${action}; expected list, decide or evaluate`);
    const target = await resolveTarget(values);
    if (!target.project) throw new UsageError('no --project given and no running convoy dev to take it from');
    const style = styler(io.color);
    const base = `/v1/plans/${encodeURIComponent(target.project)}/gates`;
    try {
      if (action === 'list') {
        const listed = await request<{ gates: StatusGate[]; timezone?: string }>(target, 'GET', base);
        io.stdout(
          values.json
            ? `${JSON.stringify(listed, null, 2)}\n`
            : renderGates(listed.gates, listed.timezone ?? 'UTC', style, new Date()),
        );
        return EXIT.ok;
      }
      const gate = rest[0] as string;
      const path = `${base}/${encodeURIComponent(gate)}/${action === 'decide' ? 'decision' : 'evaluate'}`;
      const note = typeof values.note === 'string' ? values.note : undefined;
      const body = action === 'decide' ? { decision: rest[1], ...(note ? { note } : {}) } : {};
      const result = await request<Record<string, unknown>>(target, 'POST', path, {
        text: JSON.stringify(body),
        type: 'application/json',
      });
      if (values.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else io.stdout(describeResult(io, gate, action, result));
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.stderr(`${style('red', 'error:')} ${error.status} ${error.message}\n`);
      return EXIT.failed;
    }
  },
};

function describeResult(io: Io, gate: string, action: string, result: Record<string, unknown>): string {
  const style = styler(io.color);
  if (action === 'decide') {
    const decision = result.decision as GateDecision;
    return `${style('green', '✓')} gate ${gate}: ${decision.override} by ${decision.decidedBy ?? 'you'} (it was ${decision.decision}); the phase workflow carries it out\n`;
  }
  return result.result === 'started'
    ? `${style('green', '✓')} gate ${gate}: attempt ${String(result.attempt)} started\n`
    : `gate ${gate} is ${String(result.status)}; nothing started (${String(result.result)})\n`;
}

/** The gates as a person reads them: one block per gate. */
export function renderGates(
  gates: readonly StatusGate[],
  zone: string,
  style: (s: Style, t: string) => string,
  now: Date,
): string {
  if (gates.length === 0) return 'the plan has no gates\n';
  const out: string[] = [];
  for (const gate of gates) {
    const latest = gate.latest;
    out.push(
      `${style('bold', gate.gate)}  ${style(GATE_STYLE[gate.status] ?? 'dim', gate.status)}${gate.phase ? `  phase ${gate.phase}` : ''}${
        gate.attempt > 0 ? `  attempt ${gate.attempt}` : ''
      }`,
    );
    if (latest) {
      const how = latest.override
        ? `${latest.override} by ${latest.decidedBy ?? 'an approver'} (evaluated ${latest.decision})`
        : latest.decision;
      out.push(`  latest: ${how} · ${formatInstant(latest.at, zone, now)}`);
      if (latest.note) out.push(`  note: ${latest.note}`);
      for (const reason of latest.evaluation.reasons) out.push(style('dim', `    ${reason}`));
    } else out.push('  latest: not evaluated yet');
    if (gate.waitsFor) out.push(`  waits for ${gate.waitsFor}`);
    out.push(
      `  approvers: ${gate.approvers.length > 0 ? gate.approvers.join(', ') : 'none (an admin decides)'}`,
    );
  }
  return `${out.join('\n')}\n`;
}
