import { SimulationError, simulate } from '../../local/simulate.js';
import type { Command } from '../command.js';
import { EXIT, styler, UsageError } from '../io.js';

export const simulateCommand: Command = {
  name: 'simulate',
  usage: 'convoy simulate FILE --days N [--seed S] [--verbose | --json]',
  details: [
    'Runs against fresh in-memory stores on a fast virtual clock: agents pick up ready tasks,',
    'work at a seeded pace, sometimes block or go silent; metrics move toward their targets as the work',
    'gets done, with noise and setbacks; approvers decide gates as a sensible person would. Every',
    'schedule fires and every monitor runs as deployed. The same seed prints the same output.',
    'The default output is a digest, a few lines a day: posts (one line each), gate decisions,',
    'escalations, tasks done and where the plan stands at the end of the day. See docs/rhythm.md.',
  ],
  options: {
    days: { type: 'string', value: 'N', description: 'working days to replay (1–1000)' },
    seed: { type: 'string', value: 'S', description: 'seed of the random activity (default 1)' },
    verbose: { type: 'boolean', description: 'print every post in full, and the JIRA commands' },
    json: {
      type: 'boolean',
      description:
        "print one JSON document: every day's posts, decisions, escalations, tasks done; the phases at the end",
    },
  },
  async run({ positionals, values }, io) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError('name the plan to simulate: convoy simulate FILE --days N');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    if (values.days === undefined) throw new UsageError('--days N is required (working days to replay)');
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 1000)
      throw new UsageError(`--days must be a whole number from 1 to 1000, got ${String(values.days)}`);
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isInteger(seed))
      throw new UsageError(`--seed must be a whole number, got ${String(values.seed)}`);
    if (values.verbose && values.json)
      throw new UsageError('--verbose and --json exclude each other: choose one');
    const output = values.json ? 'json' : values.verbose ? 'verbose' : 'digest';
    const style = styler(io.color);
    try {
      await simulate({ planFile: file, days, seed, output, print: (line) => io.stdout(`${line}\n`) });
      return EXIT.ok;
    } catch (error) {
      if (error instanceof SimulationError) {
        io.stderr(`${style('red', 'error:')} ${error.message}\n`);
        return EXIT.failed;
      }
      throw error;
    }
  },
};
