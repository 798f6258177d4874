import { existsSync } from 'node:fs';
import { isDemoStart } from '../../local/demo-start.js';
import { DevStartError, startDev } from '../../local/dev-runtime.js';
import { DynamoDbLocalError } from '../../local/dynamodb-local.js';
import type { Command } from '../command.js';
import { EXIT, styler, UsageError } from '../io.js';

export const devCommand: Command = {
  name: 'dev',
  usage: 'convoy dev [--plan FILE] [--port 3000] [--data DIR] [--clock-speed N] [--start today|YYYY-MM-DD]',
  details: [
    'State persists under --data (default .convoy/data), so a restart keeps every task, agent and event.',
    'An admin token and one token per agent and person are written to DIR/tokens.json.',
    'The plan’s schedules (standup, sync, report, gate review, weekly summary) and the monitors run on',
    'the local clock; --clock-speed 60 makes an hour pass in a minute, for demos.',
    '--start today moves the plan to begin today (the next working day on a day off): its start, phase due',
    'dates and holidays move together; the start is kept in DIR/demo-start.json, so a restart or a',
    '`convoy apply` of the same file keeps it. --start YYYY-MM-DD moves it to that date.',
    'One convoy dev per data folder: a second one is refused and told the pid and port of the first.',
    'Needs Java 17+ for DynamoDB Local. Stop with Ctrl-C (or SIGTERM); DynamoDB Local stops with it.',
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
    start: {
      type: 'string',
      value: 'today|DATE',
      description: 'move the plan to start today or on DATE, for a demo (default: its own dates)',
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
    const start = values.start;
    if (start !== undefined && (typeof start !== 'string' || !isDemoStart(start)))
      throw new UsageError(`--start must be "today" or a date YYYY-MM-DD, got ${String(start)}`);
    const style = styler(io.color);
    // Signals are taken from the first moment: one during start-up stops what was started so far.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const starting = new AbortController();
    let received: ((signal: string) => void) | undefined;
    const onSignal = (signal: string) => {
      if (received) received(signal);
      else if (starting.signal.aborted) {
        // A second signal while start-up unwinds: the JVM ends with this process (its watchdog).
        process.exit(130);
      } else {
        io.stdout(`\n${signal}: stopping…\n`);
        starting.abort();
      }
    };
    for (const signal of signals) process.on(signal, onSignal);
    // The process that started convoy dev (npm start, a test runner, a shell) killed outright: stop as
    // on SIGTERM rather than serve on as an orphan nobody can stop with Ctrl-C.
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(orphaned);
      onSignal(`parent process ${parent} is gone`);
    }, 1_000);
    orphaned.unref();
    const removeSignals = () => {
      clearInterval(orphaned);
      for (const signal of signals) process.off(signal, onSignal);
    };
    let runtime: Awaited<ReturnType<typeof startDev>>;
    try {
      io.stdout(`starting DynamoDB Local and applying ${planFile}…\n`);
      runtime = await startDev({
        planFile,
        port,
        ...(typeof values.data === 'string' ? { dataDir: values.data } : {}),
        ...(typeof start === 'string' ? { start } : {}),
        log: (line) => io.stdout(`${line}\n`),
        clockSpeed,
        signal: starting.signal,
      });
    } catch (error) {
      removeSignals();
      if (starting.signal.aborted) {
        io.stdout('stopped\n');
        return EXIT.failed;
      }
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
        `  dashboard: ${style('cyan', `${runtime.url}/`)} ${runtime.dashboard.built ? '(`npx convoy dashboard` opens it signed in as admin)' : '(not built: run `npm run build`)'}`,
        `  tokens:  ${runtime.tokensFile} (admin, one per agent, one per person)`,
        `  status:  npx convoy status`,
        `  try:     curl -H "Authorization: Bearer $(node -p "require('${runtime.tokensFile}').admin")" ${runtime.url}/v1/plans/${runtime.project}/status`,
        '  stop:    Ctrl-C',
        '',
      ].join('\n'),
    );
    const failure = await new Promise<Error | undefined>((resolve) => {
      received = (signal) => {
        received = () => process.exit(130);
        io.stdout(`\n${signal}: stopping…\n`);
        runtime.stop().then(
          () => resolve(undefined),
          () => resolve(undefined),
        );
      };
      runtime.failed.then(resolve);
    });
    removeSignals();
    if (failure !== undefined) {
      io.stderr(`${style('red', 'error:')} ${failure.message}\n`);
      return EXIT.failed;
    }
    io.stdout('stopped\n');
    return EXIT.ok;
  },
};
