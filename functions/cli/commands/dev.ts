import { existsSync } from 'node:fs';
import { DevStartError, startDev } from '../../local/dev-runtime.js';
import { DynamoDbLocalError } from '../../local/dynamodb-local.js';
import type { Command } from '../command.js';
import { EXIT, styler, UsageError } from '../io.js';

export const devCommand: Command = {
  name: 'dev',
  summary: 'Run Convoy locally: DynamoDB Local, the plan applied, the HTTP API on 127.0.0.1',
  usage: 'convoy dev [--plan FILE] [--port 3000] [--data DIR] [--clock-speed N]',
  details: [
    'State persists under --data (default .convoy/data), so a restart keeps every task, agent and event.',
    'An admin token and one token per agent and person are written to DIR/tokens.json.',
    'The plan’s schedules (standup, sync, report, gate review, weekly summary) and the monitors run on',
    'the local clock; --clock-speed 60 makes an hour pass in a minute, for demos.',
    'Needs Java 17+ for DynamoDB Local. Stop with Ctrl-C.',
  ],
  options: {
    plan: {
      type: 'string',
      value: 'FILE',
      description: 'the plan to apply (default: plan.yaml in this directory)',
    },
    port: { type: 'string', value: 'PORT', description: 'port of the local API (default 3000)' },
    data: {
      type: 'string',
      value: 'DIR',
      description: 'where the state and tokens.json live (default .convoy/data)',
    },
    'clock-speed': {
      type: 'string',
      value: 'N',
      description: 'run the local clock N times faster than real time (default 1)',
    },
  },
  async run({ positionals, values }, io) {
    if (positionals.length > 0)
      throw new UsageError(
        `unexpected argument ${positionals[0]}; name the plan with --plan ${positionals[0]}`,
      );
    const planFile =
      typeof values.plan === 'string' ? values.plan : existsSync('plan.yaml') ? 'plan.yaml' : undefined;
    if (!planFile)
      throw new UsageError('name a plan with --plan FILE (for example --plan examples/sprint-20-23.yaml)');
    const port = values.port === undefined ? 3000 : Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new UsageError(`--port must be a port number from 1 to 65535, got ${String(values.port)}`);
    const clockSpeed = values['clock-speed'] === undefined ? 1 : Number(values['clock-speed']);
    if (!Number.isFinite(clockSpeed) || clockSpeed <= 0 || clockSpeed > 1_000_000)
      throw new UsageError(
        `--clock-speed must be a number above 0 (1 = real time, 60 = an hour a minute), got ${String(values['clock-speed'])}`,
      );
    const style = styler(io.color);
    let runtime: Awaited<ReturnType<typeof startDev>>;
    try {
      io.stdout(`starting DynamoDB Local and applying ${planFile}…\n`);
      runtime = await startDev({
        planFile,
        port,
        ...(typeof values.data === 'string' ? { dataDir: values.data } : {}),
        log: (line) => io.stdout(`${line}\n`),
        clockSpeed,
      });
    } catch (error) {
      if (error instanceof DevStartError || error instanceof DynamoDbLocalError) {
        io.stderr(`${style('red', 'error:')} ${error.message}\n`);
        return EXIT.failed;
      }
      throw error;
    }
    io.stdout(
      [
        '',
        `${style('bold', 'Convoy is running')} at ${style('cyan', runtime.url)} (project ${runtime.project})`,
        `  tokens:  ${runtime.tokensFile} (admin, one per agent, one per person)`,
        `  status:  npx convoy status`,
        `  try:     curl -H "Authorization: Bearer $(node -p "require('${runtime.tokensFile}').admin")" ${runtime.url}/v1/plans/${runtime.project}/status`,
        '  stop:    Ctrl-C',
        '',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        io.stdout(`\n${signal}: stopping…\n`);
        runtime.stop().then(resolve, resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    io.stdout('stopped\n');
    return EXIT.ok;
  },
};
