import type { ApplyResult } from '../../core/coordination/commands.js';
import { formatPlanError, parsePlan } from '../../core/plan/index.js';
import { shiftLikeRunningDev } from '../../local/demo-start.js';
import { ApiError, request, resolveTarget } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, readUserFile, styler, UsageError } from '../io.js';

const connection = {
  url: { type: 'string', value: 'URL', description: 'Convoy API base URL (default: the running convoy dev)' },
  token: {
    type: 'string',
    value: 'TOKEN',
    description:
      'a Convoy token of any role, admin, agent or person (default: $CONVOY_TOKEN, then convoy dev’s admin token)',
  },
} as const;

export const applyCommand: Command = {
  name: 'apply',
  usage: 'convoy apply FILE [--url URL] [--token TOKEN]',
  details: [
    'Re-applying a changed plan keeps the progress of every task that still exists.',
    'Applying a plan needs an admin token.',
  ],
  options: connection,
  async run({ positionals, values }, io) {
    const [file, ...rest] = positionals;
    if (file === undefined || rest.length > 0) throw new UsageError('name exactly one plan file');
    const text = await readUserFile(io, file);
    const parsed = parsePlan(text, { file });
    if (!parsed.ok) {
      for (const error of parsed.errors) io.stderr(`${formatPlanError(error)}\n`);
      return EXIT.failed;
    }
    const target = await resolveTarget(values);
    const style = styler(io.color);
    const json = file.toLowerCase().endsWith('.json');
    // The running convoy dev moved this plan's dates for a demo (--start): the re-apply keeps them.
    const sent =
      typeof values.url === 'string' ? { text } : await shiftLikeRunningDev(text, parsed.plan, json);
    if (sent.start !== undefined)
      io.stdout(`dates moved to start ${sent.start}, as convoy dev --start runs this plan\n`);
    try {
      const result = await request<ApplyResult>(
        target,
        'PUT',
        `/v1/plans/${encodeURIComponent(parsed.plan.project.id)}`,
        {
          text: sent.text,
          type: json ? 'application/json' : 'application/yaml',
        },
      );
      const { changes } = result;
      io.stdout(
        `${style('green', '✓')} ${result.created ? 'created' : result.changed ? 'updated' : 'unchanged:'} ${result.project} at plan version ${result.version}\n`,
      );
      for (const [label, ids] of [
        ['tasks added', changes.tasksAdded],
        ['tasks removed', changes.tasksRemoved],
        ['tasks changed', changes.tasksChanged],
        ['phases added', changes.phasesAdded],
        ['phases removed', changes.phasesRemoved],
        ['agents added', changes.agentsAdded],
        ['agents removed', changes.agentsRemoved],
      ] as const) {
        if (ids.length > 0) io.stdout(`  ${label}: ${ids.join(', ')}\n`);
      }
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.stderr(`${style('red', 'error:')} ${error.status} ${error.message}\n`);
      return EXIT.failed;
    }
  },
};

export { connection };
