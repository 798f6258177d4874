import { parseArgs } from 'node:util';
import { didYouMean } from '../core/plan/suggest.js';
import type { Command } from './command.js';
import { EXIT, type Io, processIo, styler, UsageError } from './io.js';

/** A command as `convoy --help` lists it; its module is imported only when it runs or its help is asked for. */
export interface CommandEntry {
  readonly name: string;
  /** One line, for `convoy --help` and at the top of the command's own help. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/**
 * The commands, in the order `convoy --help` lists them. Each module is imported on demand so a command
 * loads only what it uses: `convoy validate` starts without the local runtime, and `convoy dev` without
 * the MCP client that only `convoy mcp` and `convoy agent` need (the CLI bundle is split into chunks,
 * scripts/build-cli.mjs).
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'Check plan files and report every problem with its file, line and field',
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  {
    name: 'plan',
    summary: "Analyse a plan's schedule: phases with dates, waves, the critical path, warnings",
    load: async () => (await import('./commands/plan.js')).planCommand,
  },
  {
    name: 'schedule',
    summary: "Show when each of a plan's schedules runs next, in local time and UTC",
    load: async () => (await import('./commands/schedule.js')).scheduleCommand,
  },
  {
    name: 'report',
    summary: 'Render a report (standup, sync, report, weekly) of a running Convoy to the terminal or a file',
    load: async () => (await import('./commands/report.js')).reportCommand,
  },
  {
    name: 'simulate',
    summary: 'Replay N working days of a synthetic team and print what Convoy posts, day by day',
    load: async () => (await import('./commands/simulate.js')).simulateCommand,
  },
  {
    name: 'dev',
    summary: 'Run Convoy locally: DynamoDB Local, the plan applied, the HTTP API on 127.0.0.1',
    load: async () => (await import('./commands/dev.js')).devCommand,
  },
  {
    name: 'dashboard',
    summary: 'Open the web dashboard of the running convoy dev, signed in with its admin token',
    load: async () => (await import('./commands/dashboard.js')).dashboardCommand,
  },
  {
    name: 'apply',
    summary: 'Validate a plan and apply it to a running Convoy; prints what changed',
    load: async () => (await import('./commands/apply.js')).applyCommand,
  },
  {
    name: 'status',
    summary:
      'Print the coordination status of a project: phases, gates, agents, claims, leases, blockers, metrics, escalations',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'gates',
    summary: 'List the gates of a project with their latest decision, or decide one that waits',
    load: async () => (await import('./commands/gates.js')).gatesCommand,
  },
  {
    name: 'escalations',
    summary: 'List the escalations of a project, or acknowledge, snooze, resolve or reassign one',
    load: async () => (await import('./commands/escalations.js')).escalationsCommand,
  },
  {
    name: 'tokens',
    summary: 'List the API tokens of a project by id, or revoke one',
    load: async () => (await import('./commands/tokens.js')).tokensCommand,
  },
  {
    name: 'mcp',
    summary:
      'Serve MCP over stdio, forwarding to a running Convoy: for MCP clients that only start local processes',
    load: async () => (await import('./commands/mcp.js')).mcpCommand,
  },
  {
    name: 'agent',
    summary: 'Act as an agent from a shell or a script: claim the next task, report progress, finish it',
    load: async () => (await import('./commands/agent.js')).agentCommand,
  },
  {
    name: 'schema',
    summary: 'Print the JSON Schema of the plan format, for editor completion',
    load: async () => (await import('./commands/schema.js')).schemaCommand,
  },
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

export function commandHelp(entry: CommandEntry, command: Command): string {
  const options = Object.entries(command.options).map(([name, spec]) => [
    `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`,
    spec.description,
  ]);
  options.push(['-h, --help', 'show this help']);
  const width = Math.max(...options.map(([flag]) => (flag as string).length));
  return [
    `Usage: ${command.usage}`,
    '',
    entry.summary,
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
    const topic = rest[0] ? COMMANDS.find((entry) => entry.name === rest[0]) : undefined;
    io.stdout(topic ? commandHelp(topic, await topic.load()) : mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '-v' || name === '--version') {
    io.stdout(`convoy ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((candidate) => candidate.name === name);
  const style = styler(io.color);
  if (!entry) {
    const hint = didYouMean(
      name,
      COMMANDS.map((c) => c.name),
    );
    io.stderr(
      `${style('red', 'error:')} unknown command "${name}"${hint}\nRun \`convoy --help\` to see the commands.\n`,
    );
    return EXIT.usage;
  }
  const command = await entry.load();
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
      io.stdout(commandHelp(entry, command));
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
