import { formatPlanError, parsePlan } from '../../core/plan/index.js';
import type { Command } from '../command.js';
import { EXIT, readUserFile, styler, UsageError } from '../io.js';

export const validateCommand: Command = {
  name: 'validate',
  usage: 'convoy validate FILE...',
  details: [
    'Exits 0 when every file is valid, 1 when any is not, 2 when called wrongly.',
    'Each problem is printed as FILE:LINE:COL: path.to.field: message.',
  ],
  options: {},
  async run({ positionals }, io) {
    if (positionals.length === 0) throw new UsageError('name at least one plan file', 'validate');
    const style = styler(io.color);
    let invalid = 0;
    for (const file of positionals) {
      const result = parsePlan(await readUserFile(io, file), { file });
      if (result.ok) {
        const tasks = result.plan.phases.reduce((sum, phase) => sum + phase.tasks.length, 0);
        const counts = [
          plural(result.plan.phases.length, 'phase'),
          plural(tasks, 'task'),
          plural(result.plan.agents.length, 'agent'),
        ];
        io.stdout(`${style('green', '✓')} ${file}: valid (${counts.join(', ')})\n`);
      } else {
        invalid++;
        for (const error of result.errors) io.stderr(`${formatPlanError(error)}\n`);
        io.stderr(`${style('red', '✗')} ${file}: ${plural(result.errors.length, 'problem')}\n`);
      }
    }
    return invalid === 0 ? EXIT.ok : EXIT.failed;
  },
};

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
