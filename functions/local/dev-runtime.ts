import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_TABLE_NAME, ensureTable } from '../adapters/dynamodb/table-definition.js';
import { OctokitPullRequestFiles } from '../adapters/github/pull-request-files.js';
import { type ApplyResult, applyPlan } from '../core/coordination/commands.js';
import { ConvoyError } from '../core/errors.js';
import { resumeGates } from '../core/gates/service.js';
import { type GithubDelivery, handleGithubDelivery } from '../core/integrations/github-events.js';
import { drainOutbox } from '../core/integrations/outbox-worker.js';
import { formatPlanError, type Plan, parsePlan } from '../core/plan/index.js';
import type { TokenRecord } from '../core/ports.js';
import { formatInstant } from '../core/reports/dates.js';
import { runScheduledJob } from '../core/rhythm/jobs.js';
import { runMonitor } from '../core/rhythm/run-monitor.js';
import { nextFireTimes } from '../core/schedules/index.js';
import { ConfigError, type HandlerConfig, readConfig } from '../handlers/config.js';
import { createPorts, type Dependencies, openStateTable } from '../handlers/dependencies.js';
import { TABLE_NAME_ENV } from '../handlers/env-names.js';
import { mintToken, verifyToken } from '../handlers/http/auth.js';
import {
  type IntegrationDependencies,
  integrationSettings,
  type WorkerDependencies,
  withIntegrations,
} from '../handlers/integrations.js';
import { createLogger } from '../handlers/logger.js';
import { reportRenderer } from '../handlers/report-renderer.js';
import { withRunOnce } from '../handlers/run-once.js';
import { ensureTokenKeyFile } from '../handlers/token-key.js';
import { ScaledClock } from './clock.js';
import { superviseDatabase } from './database-supervisor.js';
import { applyDemoStart, type DemoShift } from './demo-start.js';
import { assertDataDirFree, type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.js';
import { type LocalApiServer, startLocalApi } from './http-server.js';
import { InProcessQueue } from './in-process-queue.js';
import { startLocalWorkflows } from './local-workflows.js';
import { startLocalScheduler } from './scheduler.js';
import { defaultDashboardDir } from './static-files.js';

/** A problem that stops `convoy dev` from starting; the message says what to do. */
export class DevStartError extends ConvoyError {
  constructor(message: string, options?: ErrorOptions) {
    super('dev_start_failed', message, options);
    this.name = 'DevStartError';
  }
}

export interface DevOptions {
  readonly planFile: string;
  /** @default 3000 */
  readonly port?: number;
  /** Where DynamoDB Local keeps its data and tokens.json is written. @default '.convoy/data' */
  readonly dataDir?: string;
  /** Where `convoy status` and `convoy apply` find the running instance. @default '.convoy' */
  readonly stateDir?: string;
  /** One line per request and per lifecycle step. @default console.log */
  readonly log?: (line: string) => void;
  /**
   * How many times faster than real time the local clock runs: schedules, monitors, SLAs and waits
   * all follow it. @default 1
   */
  readonly clockSpeed?: number;
  /** How many upcoming fire times of each schedule to print at start. @default 1 */
  readonly showNextFires?: number;
  /**
   * Moves the plan's dates for a demo: `today` moves its start to today (or the next working day) on
   * the first run and keeps that start in the data folder; `YYYY-MM-DD` sets it. @default - the plan's own dates
   */
  readonly start?: string;
  /** Aborts start-up: what was started is stopped and startDev rejects with a {@link DevStartError}. */
  readonly signal?: AbortSignal;
  /**
   * The built dashboard served at `/` (`npm run build` writes it). @default this package's dist/dashboard
   */
  readonly dashboardDir?: string;
}

export interface DevTokens {
  admin: string;
  agents: Record<string, string>;
  people: Record<string, string>;
}

export interface DevRuntime {
  readonly url: string;
  readonly project: string;
  readonly tokensFile: string;
  readonly tokens: DevTokens;
  /** Where the dashboard is served from, and whether it is built (else `/` says to run `npm run build`). */
  readonly dashboard: { readonly dir: string; readonly built: boolean };
  readonly applied: ApplyResult;
  readonly dynamodb: DynamoDbLocal;
  /** The local clock every timer of this runtime follows. */
  readonly clock: ScaledClock;
  /**
   * Settles when convoy dev had to stop by itself (its data folder deleted or broken, DynamoDB Local
   * dying again and again), with the reason; everything is stopped by then.
   */
  readonly failed: Promise<Error>;
  stop(): Promise<void>;
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new DevStartError(
              `port ${port} is already in use (another convoy dev?); stop it or choose another port with --port ${port + 1}`,
            )
          : error,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

async function readPlan(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DevStartError(
      `cannot read the plan ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  const parsed = parsePlan(text, { file });
  if (!parsed.ok) {
    throw new DevStartError(
      `the plan is invalid; fix these and start again:\n${parsed.errors.map(formatPlanError).join('\n')}`,
    );
  }
  return parsed.plan;
}

/**
 * Keeps the tokens of an earlier run when they are still known to the store, and creates the missing
 * ones: an admin token, one per agent and one per person of the plan.
 */
async function ensureTokens(
  deps: Dependencies,
  plan: Plan,
  file: string,
): Promise<{ tokens: DevTokens; created: number }> {
  let previous: Partial<DevTokens> = {};
  try {
    previous = JSON.parse(await readFile(file, 'utf8')) as DevTokens;
  } catch {
    // no earlier run, or an unreadable file: start afresh
  }
  const project = plan.project.id;
  const createdAt = deps.clock.now().toISOString();
  let created = 0;
  const keep = async (token: string | undefined, matches: (record: TokenRecord | undefined) => boolean) =>
    token !== undefined && matches(await verifyToken(deps, token));
  const issue = async (role: 'admin' | 'agent' | 'person', subject?: string) => {
    const { token } = await mintToken(deps, { role, project, subject }, createdAt);
    created++;
    return token;
  };
  const admin = (await keep(previous.admin, (r) => r?.role === 'admin'))
    ? (previous.admin as string)
    : await issue('admin');
  const agents: Record<string, string> = {};
  for (const agent of plan.agents) {
    const old = previous.agents?.[agent.id];
    agents[agent.id] = (await keep(
      old,
      (r) => r?.role === 'agent' && r.project === project && r.subject === agent.id,
    ))
      ? (old as string)
      : await issue('agent', agent.id);
  }
  const people: Record<string, string> = {};
  for (const person of plan.people) {
    const old = previous.people?.[person.id];
    people[person.id] = (await keep(
      old,
      (r) => r?.role === 'person' && r.project === project && r.subject === person.id,
    ))
      ? (old as string)
      : await issue('person', person.id);
  }
  return { tokens: { admin, agents, people }, created };
}

/**
 * convoy dev's configuration: the user's settings from `env` (integration credentials, JIRA and Slack
 * endpoints, log level: WARN unless set) over its own table, with the AWS services convoy dev runs in
 * process (workflows, bus, queue) left out. Throws a {@link DevStartError} naming a bad setting.
 */
function devConfig(env: NodeJS.ProcessEnv): HandlerConfig {
  let settings: HandlerConfig;
  try {
    settings = readConfig({ ...env, [TABLE_NAME_ENV]: DEFAULT_TABLE_NAME });
  } catch (error) {
    if (error instanceof ConfigError) throw new DevStartError(error.message);
    throw error;
  }
  const { githubQueueUrl, gateStateMachineArn, eventBusName, tokenKeyArn, dynamodbEndpoint, ...kept } =
    settings;
  return { ...kept, logLevel: settings.logLevel ?? 'WARN' };
}

/** What `startDev` checked and worked out before starting anything. */
interface DevStart {
  readonly plan: Plan;
  readonly config: HandlerConfig;
  readonly clock: ScaledClock;
  readonly demoShift?: DemoShift;
}

/**
 * Everything that can be wrong before a process starts: the plan, the settings, the data folder
 * (a second convoy dev on it is told who holds it, whatever port it asked for), the port, the clock
 * speed and the demo start; so a typo costs no JVM start.
 */
async function prepareStart(
  options: DevOptions,
  where: { dataDir: string; port: number; log: (line: string) => void },
): Promise<DevStart> {
  let plan = await readPlan(options.planFile);
  const config = devConfig(process.env);
  await assertDataDirFree(where.dataDir);
  await assertPortFree(where.port);
  let clock: ScaledClock;
  try {
    clock = new ScaledClock(options.clockSpeed ?? 1);
  } catch (error) {
    throw new DevStartError((error as Error).message);
  }
  if (options.start === undefined) return { plan, config, clock };
  let demo: Awaited<ReturnType<typeof applyDemoStart>>;
  try {
    demo = await applyDemoStart(plan, { start: options.start, dataDir: where.dataDir, today: clock.now() });
  } catch (error) {
    if (error instanceof RangeError) throw new DevStartError(error.message);
    throw error;
  }
  plan = demo.plan;
  for (const line of demo.lines) where.log(line);
  return { plan, config, clock, demoShift: demo.shift };
}

/** The composition convoy dev runs, and the in-process stand-ins for the AWS services around it. */
interface LocalServices {
  readonly deps: WorkerDependencies;
  readonly integrations: IntegrationDependencies;
  /** Stops what was started, in reverse order. */
  stop(): Promise<void>;
}

/**
 * Composes the handlers' dependencies over `config` as the Lambda functions do, with the local stand-ins
 * in place of AWS: the phase-gate ASL and the event bus in process on the dev clock (Step Functions,
 * EventBridge), an in-process queue and GitHub worker (SQS), the JIRA worker's drain loop and the
 * scheduler (EventBridge Scheduler).
 */
async function startLocalServices(
  config: HandlerConfig,
  options: { clock: ScaledClock; log: (line: string) => void; chartDir: string },
): Promise<LocalServices> {
  const { clock, log } = options;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const next of stops.splice(0).reverse()) await next();
  };
  try {
    const table = openStateTable(config);
    const workflows = await startLocalWorkflows(
      withRunOnce({ ...createPorts(config, table), clock }, table),
      { clock, log, stream: table },
    );
    stops.push(() => workflows.stop());
    // A pull request's files for conflict detection, listed with CONVOY_GITHUB_TOKEN when it is set.
    const pullRequestFiles = new OctokitPullRequestFiles({
      token: async () => (await deps.secrets()).CONVOY_GITHUB_TOKEN,
    });
    const queue = new InProcessQueue<GithubDelivery>({
      consume: async (delivery) => {
        await handleGithubDelivery({ ...(await deps.integrations()).github, pullRequestFiles }, delivery);
      },
      onDeadLetter: (delivery, error) =>
        log(`github delivery ${delivery.id} (${delivery.event}) failed: ${(error as Error).message}`),
    });
    stops.push(() => queue.stop());
    const deps = withIntegrations(
      { ...workflows.deps, githubQueue: queue, logger: createLogger(config.logLevel) },
      table,
      { ...integrationSettings(config), print: log, chartDir: options.chartDir },
    );
    const integrations = await deps.integrations();
    const drainer = startDrainLoop(integrations.drain, log);
    stops.push(() => drainer.stop());
    const scheduler = startLocalScheduler({
      clock,
      log,
      plans: async () => {
        const stored = await Promise.all(
          (await deps.store.listProjects()).map((id) => deps.store.currentPlan(id)),
        );
        return stored.flatMap((entry) => (entry ? [entry.plan] : []));
      },
      runJob: async (event) => {
        const outcome = await runScheduledJob({ ...deps, reports: reportRenderer }, event);
        log(
          `schedule ${event.project}/${event.schedule} at ${event.scheduledTime}: ${outcome.ran ? `${outcome.job} ran, ${outcome.posts} post${outcome.posts === 1 ? '' : 's'}` : `skipped (${outcome.reason})`}`,
        );
      },
      runMonitor: async (event) => {
        const { outcomes, failures } = await runMonitor(deps, event.monitor);
        for (const outcome of outcomes)
          for (const agent of outcome.down) log(`monitor: ${outcome.project}/${agent} is down`);
        for (const outcome of outcomes)
          for (const task of outcome.released ?? [])
            log(`monitor: ${outcome.project}/${task}: its claim expired, it is ready to claim again`);
        for (const failure of failures)
          log(`monitor ${event.monitor} failed for ${failure.project}: ${failure.error}`);
      },
    });
    stops.push(() => scheduler.stop());
    return { deps, integrations, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One line each for JIRA, Slack and GitHub: live, or what to set to make them so. */
async function describeIntegrations(services: LocalServices, log: (line: string) => void): Promise<void> {
  const secrets = await services.deps.secrets();
  log(
    `JIRA: ${services.integrations.jiraLive ? 'sending commands' : 'printing commands (set CONVOY_JIRA_EMAIL and CONVOY_JIRA_API_TOKEN to send them)'}`,
  );
  log(
    `Slack: ${secrets.CONVOY_SLACK_BOT_TOKEN ? 'posting' : 'printing messages (set CONVOY_SLACK_BOT_TOKEN to post them)'}`,
  );
  log(
    `GitHub: ${secrets.CONVOY_GITHUB_WEBHOOK_SECRET ? 'webhooks accepted at POST /webhooks/github' : 'webhooks refused until CONVOY_GITHUB_WEBHOOK_SECRET is set'}`,
  );
}

/** Writes the tokens beside the data, readable by this user only. */
async function writeTokensFile(file: string, tokens: DevTokens): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * Runs Convoy on this machine: DynamoDB Local (persistent under `dataDir`), the table, the plan
 * applied, tokens written to `dataDir/tokens.json`, and the HTTP API served by the real handlers,
 * composed over DynamoDB Local and the in-process stand-ins for the other AWS services.
 */
export async function startDev(options: DevOptions): Promise<DevRuntime> {
  const log = options.log ?? ((line: string) => console.log(line));
  const port = options.port ?? 3000;
  const dataDir = resolve(options.dataDir ?? '.convoy/data');
  const stateDir = resolve(options.stateDir ?? '.convoy');
  const interrupted = () => {
    if (options.signal?.aborted) throw new DevStartError('start-up interrupted; nothing is left running');
  };
  const { plan, config, clock, demoShift } = await prepareStart(options, { dataDir, port, log });
  interrupted();
  const dynamodb = await startDynamoDbLocal({
    dataDir,
    owner: `convoy dev on http://127.0.0.1:${port}`,
    log,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // Where DynamoDB Local cannot be bound to 127.0.0.1, startDynamoDbLocal has logged a warning naming the port.
  let failWith: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolveFailed) => {
    failWith = resolveFailed;
  });
  let supervisor: { stop(): void } | undefined;
  const devJson = join(stateDir, 'dev.json');
  let api: LocalApiServer | undefined;
  let services: LocalServices | undefined;
  /** Stops whatever has started, the database last, and says so by removing dev.json. */
  const closeAll = async () => {
    supervisor?.stop();
    await api?.close();
    await services?.stop();
    await dynamodb.stop();
    await removeDevJson(devJson);
  };
  try {
    interrupted();
    await ensureTable(dynamodb.client(), DEFAULT_TABLE_NAME);
    // Tokens are sealed with a key only this process holds (beside tokens.json, 0600), so whoever can
    // reach DynamoDB Local cannot write a token into the table.
    const tokenKeyFile = join(dataDir, 'token-key');
    await ensureTokenKeyFile(tokenKeyFile);
    services = await startLocalServices(
      { ...config, dynamodbEndpoint: dynamodb.endpoint, tokenKeyFile },
      { clock, log, chartDir: join(stateDir, 'charts') },
    );
    const { deps } = services;
    await describeIntegrations(services, log);

    interrupted();
    const applied = await applyPlan(deps, { project: plan.project.id, plan, actor: { kind: 'admin' } });
    // Gate workflows lived in the last run's memory: the ones it left under way start again.
    for (const gate of await resumeGates(deps, plan.project.id)) log(`gate ${gate}: resumed its evaluation`);
    const tokensFile = join(dataDir, 'tokens.json');
    const { tokens, created } = await ensureTokens(deps, plan, tokensFile);
    await writeTokensFile(tokensFile, tokens);

    // Loaded here, not with the CLI: the handlers and their middlewares are only needed to serve.
    const { makeHttpHandlers } = await import('./handler-registry.js');
    const dashboardDir = options.dashboardDir ?? defaultDashboardDir();
    api = await startLocalApi({ port, handlers: makeHttpHandlers(deps), log, dashboardDir });
    interrupted();
    await mkdir(stateDir, { recursive: true });
    await writeFile(
      devJson,
      `${JSON.stringify({ url: api.url, project: plan.project.id, tokensFile, dynamodbEndpoint: dynamodb.endpoint, pid: process.pid, dataDir, ...(demoShift ? { demoStart: demoShift } : {}) }, null, 2)}\n`,
    );
    log(
      applied.created
        ? `applied plan ${plan.project.id} (version ${applied.version})`
        : applied.changed
          ? `re-applied plan ${plan.project.id} as version ${applied.version}: ${describeChanges(applied)}`
          : `plan ${plan.project.id} unchanged (version ${applied.version}); state kept from the last run`,
    );
    log(`${created} new token${created === 1 ? '' : 's'}; tokens are in ${tokensFile}`);
    if (clock.speed !== 1) log(`clock: ${clock.speed}× real time, now ${clock.now().toISOString()}`);
    for (const line of describeNextFires(plan, clock.now(), options.showNextFires ?? 1)) log(line);
    const server = api;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= closeAll();
      return stopping;
    };
    supervisor = superviseDatabase({
      dynamodb,
      log,
      onFatal: (message) => {
        void stop().finally(() => failWith(new DevStartError(message)));
      },
    });
    return {
      url: server.url,
      project: plan.project.id,
      tokensFile,
      tokens,
      dashboard: { dir: dashboardDir, built: existsSync(join(dashboardDir, 'index.html')) },
      applied,
      dynamodb,
      clock,
      failed,
      stop,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Removes `.convoy/dev.json` when this process wrote it, so no command finds a stopped server there. */
async function removeDevJson(file: string): Promise<void> {
  try {
    const written = JSON.parse(await readFile(file, 'utf8')) as { pid?: number };
    if (written.pid === process.pid) await rm(file, { force: true });
  } catch {
    // not there, or not ours
  }
}

/** One line per schedule: when it fires next, in the project's time zone. */
function describeNextFires(plan: Plan, now: Date, count: number): string[] {
  const zone = plan.project.timezone;
  return plan.schedules.map((schedule) => {
    const next = nextFireTimes(plan, schedule, now, count);
    return `schedule ${schedule.id} (${schedule.job}): next ${next.length > 0 ? next.map((at) => formatInstant(at, zone, now)).join(', ') : 'never'} (${zone})`;
  });
}

function describeChanges(result: ApplyResult): string {
  const { changes } = result;
  const parts = [
    [changes.tasksAdded, 'tasks added'],
    [changes.tasksRemoved, 'tasks removed'],
    [changes.tasksChanged, 'tasks changed'],
    [changes.phasesAdded, 'phases added'],
    [changes.phasesRemoved, 'phases removed'],
  ] as const;
  const said = parts.filter(([ids]) => ids.length > 0).map(([ids, what]) => `${what}: ${ids.join(', ')}`);
  return said.length > 0 ? said.join('; ') : 'no task or phase changes';
}

/**
 * The local JIRA worker: one drain at a time (overlapping drains would send commands twice), every
 * two seconds, each ending well within the interval.
 */
function startDrainLoop(ports: Parameters<typeof drainOutbox>[0], log: (line: string) => void) {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = drainOutbox(ports, { maxRunMs: 1_500 })
      .then((report) => {
        if (report.deadLettered > 0)
          log(`jira: ${report.deadLettered} command(s) gave up (see sync.failed in the audit trail)`);
      })
      .catch((error: Error) => log(`jira worker: ${error.message}`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, 2_000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
