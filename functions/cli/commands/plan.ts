import {
  analysePlan,
  formatPlanError,
  type Plan,
  type PlanAnalysis,
  parsePlan,
} from '../../core/plan/index.js';
import type { Command } from '../command.js';
import { EXIT, readUserFile, type Style, styler, UsageError } from '../io.js';

export const planCommand: Command = {
  name: 'plan',
  usage: 'convoy plan FILE [--json]',
  details: [
    'Computed from estimates alone, in working days of the project calendar (workdays minus holidays).',
    'Exits 1 when the plan is invalid (the problems are printed as by `convoy validate`).',
  ],
  options: {
    json: { type: 'boolean', description: 'print the analysis as JSON (the format of docs/plan-format.md)' },
  },
  async run({ positionals, values }, io) {
    const [file, ...rest] = positionals;
    if (file === undefined) throw new UsageError('name the plan file to analyse');
    if (rest.length > 0) throw new UsageError(`analyses one plan at a time; got ${positionals.length} files`);
    const result = parsePlan(await readUserFile(io, file), { file });
    if (!result.ok) {
      for (const error of result.errors) io.stderr(`${formatPlanError(error)}\n`);
      return EXIT.failed;
    }
    const analysis = analysePlan(result.plan);
    io.stdout(
      values.json
        ? `${JSON.stringify(analysis, null, 2)}\n`
        : renderAnalysis(result.plan, analysis, styler(io.color)),
    );
    return EXIT.ok;
  },
};

const formatDays = (days: number) => `${Number.isInteger(days) ? days : days.toFixed(2).replace(/0+$/, '')}d`;

function table(rows: string[][], indent = '  '): string {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, visible(cell).length)),
    [],
  );
  return rows
    .map((row) =>
      `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell).length))).join('  ')}`.trimEnd(),
    )
    .join('\n');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colour codes this module adds
const visible = (text: string) => text.replace(/\u001b\[\d+m/g, '');

/** The human-readable analysis `convoy plan` prints. */
export function renderAnalysis(
  plan: Plan,
  analysis: PlanAnalysis,
  style: (s: Style, t: string) => string,
): string {
  const taskCount = Object.keys(analysis.tasks).length;
  const titles = new Map(plan.phases.flatMap((phase) => phase.tasks.map((task) => [task.id, task] as const)));
  const out: string[] = [];
  out.push(`${style('bold', plan.project.name)} ${style('dim', `(${plan.project.id})`)}`);
  out.push(
    `  ${analysis.start} → ${analysis.finish} · ${formatDays(analysis.durationDays)} working · ${plan.project.timezone} · ` +
      `${plan.agents.length} agents · ${taskCount} tasks · at most ${analysis.maxParallel} in parallel`,
  );

  out.push('', style('bold', 'Phases'));
  out.push(
    table(
      plan.phases.map((phase) => {
        const schedule = analysis.phases[phase.id];
        const late =
          phase.due !== undefined &&
          schedule !== undefined &&
          phase.tasks.length > 0 &&
          schedule.finish > phase.due;
        return [
          phase.id,
          phase.name === phase.id ? '' : truncate(phase.name, 48),
          schedule ? `${schedule.start} → ${schedule.finish}` : '',
          `${phase.tasks.length} tasks`,
          phase.due === undefined
            ? ''
            : late
              ? style('red', `due ${phase.due} ✗ late`)
              : style('green', `due ${phase.due} ✓`),
          phase.gate ? `gate ${phase.gate}` : '',
        ];
      }),
    ),
  );

  out.push('', style('bold', `Waves (${analysis.waves.length})`));
  const shown = analysis.waves.slice(0, 30);
  out.push(table(shown.map((wave, i) => [`${i}`, `${wave.length} ·`, abbreviate(wave, 8)])));
  if (analysis.waves.length > shown.length)
    out.push(style('dim', `  … ${analysis.waves.length - shown.length} more waves (see --json)`));

  out.push('', style('bold', `Critical path (${formatDays(analysis.durationDays)})`));
  out.push(
    table(
      analysis.criticalPath.map((id) => {
        const schedule = analysis.tasks[id];
        const task = titles.get(id);
        return [
          id,
          task?.title === id ? '' : truncate(task?.title ?? '', 56),
          schedule ? (schedule.agent ?? (task?.pool ? `pool of ${task.pool.length}` : 'any agent')) : '',
          schedule ? `${schedule.start} → ${schedule.finish}` : '',
          task?.estimate ?? '',
        ];
      }),
    ),
  );

  out.push('', style('bold', `Warnings (${analysis.warnings.length})`));
  if (analysis.warnings.length === 0) out.push(`  ${style('green', 'none')}`);
  for (const warning of analysis.warnings) out.push(`  ${style('yellow', '!')} ${warning}`);
  return `${out.join('\n')}\n`;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function abbreviate(ids: string[], limit: number): string {
  return ids.length <= limit
    ? ids.join(', ')
    : `${ids.slice(0, limit).join(', ')}, … (+${ids.length - limit})`;
}
