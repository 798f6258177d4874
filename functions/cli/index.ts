import { parseArgs } from 'node:util';
import { didYouMean } from '../core/plan/suggest.js';
import type { Command } from './command.js';
import { agentCommand } from './commands/agent.js';
import { applyCommand } from './commands/apply.js';
import { dashboardCommand } from './commands/dashboard.js';
import { devCommand } from './commands/dev.js';
import { escalationsCommand } from './commands/escalations.js';
import { gatesCommand } from './commands/gates.js';
import { mcpCommand } from './commands/mcp.js';
import { planCommand } from './commands/plan.js';
import { reportCommand } from './commands/report.js';
import { scheduleCommand } from './commands/schedule.js';
import { schemaCommand } from './commands/schema.js';
import { simulateCommand } from './commands/simulate.js';
import { statusCommand } from './commands/status.js';
import { tokensCommand } from './commands/tokens.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, type Io, processIo, styler, UsageError } from './io.js';

export const COMMANDS: readonly Command[] = [
  validateCommand,
  planCommand,
  scheduleCommand,
  reportCommand,
  simulateCommand,
  devCommand,
  dashboardCommand,
  applyCommand,
  statusCommand,
  gatesCommand,
  escalationsCommand,
  tokensCommand,
  mcpCommand,
  agentCommand,
  schemaCommand,
];

const VERSION = '0.1.0';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'convoy — coordinate parallel AI agents and humans through a multi-phase plan',
    '',
    'Usage: convoy <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: convoy <command> --help)',
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const options = Object.entries(command.options).map(([name, spec]) => [
    `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`,
    spec.description,
  ]);
  options.push(['-h, --help', 'show this help']);
  const width = Math.max(...options.map(([flag]) => (flag as string).length));
  return [
    `Usage: ${command.usage}`,
    '',
    command.summary,
    ...(command.details && command.details.length > 0 ? ['', ...command.details] : []),
    '',
    'Options:',
    ...options.map(([flag, description]) => `  ${(flag as string).padEnd(width)}  ${description}`),
    '',
  ].join('\n');
}

/** Runs the `convoy` CLI on its arguments; resolves to the exit code. Never throws for bad input. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = rest[0] && COMMANDS.find((command) => command.name === rest[0]);
    io.stdout(topic ? commandHelp(topic) : mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '-v' || name === '--version') {
    io.stdout(`convoy ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  const style = styler(io.color);
  if (!command) {
    const hint = didYouMean(
      name,
      COMMANDS.map((c) => c.name),
    );
    io.stderr(
      `${style('red', 'error:')} unknown command "${name}"${hint}\nRun \`convoy --help\` to see the commands.\n`,
    );
    return EXIT.usage;
  }
  try {
    const options = Object.fromEntries(
      Object.entries(command.options).map(([key, spec]) => [
        key,
        {
          type: spec.type,
          ...(spec.short ? { short: spec.short } : {}),
          ...(spec.multiple ? { multiple: true } : {}),
        },
      ]),
    );
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run({ positionals, values }, io);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      let message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
      const unknown = /^Unknown option '--?([^']+)'/.exec(message);
      if (unknown)
        message += didYouMean(unknown[1] as string, ['help', ...Object.keys(command.options)]).replace(
          /"([^"]+)"/,
          '"--$1"',
        );
      io.stderr(`${style('red', 'error:')} ${message}\nRun \`convoy ${command.name} --help\` for usage.\n`);
      return EXIT.usage;
    }
    io.stderr(
      `${style('red', 'internal error:')} ${(error as Error).message}\nThis is a bug in Convoy; please report it with the command you ran.\n`,
    );
    return EXIT.failed;
  }
}
