import { DynamoDbOutbox } from '../adapters/dynamodb/outbox.js';
import { DynamoDbRateLimiter } from '../adapters/dynamodb/rate-limiter.js';
import { printingRunner, trackerRunner } from '../adapters/jira/command-runner.js';
import { ConsoleChatPoster } from '../adapters/slack/console-chat-poster.js';
import { DynamoDbMessageRefs } from '../adapters/slack/message-refs.js';
import { noticeMessage } from '../adapters/slack/notice-messages.js';
import type { CoordinationPorts } from '../core/coordination/commands.js';
import { eventRecordedEvent } from '../core/domain-events.js';
import type { GithubPorts } from '../core/integrations/github-events.js';
import {
  type ChartAttachment,
  IntegrationError,
  lineOf,
  type OutboxCommand,
  type OutboxEntry,
} from '../core/integrations/model.js';
import type { DrainPorts } from '../core/integrations/outbox-worker.js';
import type { ChartArchive, ChatMessage, ChatPoster } from '../core/ports.js';
import type { HandlerConfig } from './config.js';
import {
  createDependencies,
  type HandlerDependencies,
  openStateTable,
  type StateTable,
} from './dependencies.js';
import type { Secrets } from './secrets.js';

const JIRA_WINDOW_MS = 65_000;

export interface IntegrationDependencies {
  readonly chat: ChatPoster;
  /** Everything `drainOutbox` needs. */
  readonly drain: DrainPorts;
  /** What the GitHub worker needs. */
  readonly github: GithubPorts;
  /** Whether JIRA commands are really sent (credentials present) or printed and recorded. */
  readonly jiraLive: boolean;
}

/** What the integrations are built over: the coordination ports, the kept charts and the credentials. */
export interface IntegrationPorts extends CoordinationPorts {
  readonly charts: ChartArchive;
  /** Integration credentials; never logged. */
  readonly secrets: () => Promise<Secrets>;
}

export interface IntegrationOptions {
  readonly documentClient: ConstructorParameters<typeof DynamoDbOutbox>[0];
  readonly tableName: string;
  /** Where messages and JIRA calls go when there are no credentials (convoy dev's terminal). */
  readonly print: (line: string) => void;
  /** CONVOY_JIRA_BASE_URL: overrides every plan's JIRA site (tests, self-hosted JIRA). */
  readonly jiraBaseUrl?: string;
  /** CONVOY_SLACK_API_URL. */
  readonly slackApiUrl?: string;
  /** JIRA requests per minute per site (JIRA Cloud's documented budget is 100). @default 100 */
  readonly jiraRequestsPerMinute?: number;
  /** Where charts go when Slack is not configured (`convoy dev`), so they can be opened. */
  readonly chartDir?: string;
}

/**
 * Builds the JIRA and Slack side of Convoy from the credentials: real clients when they are set,
 * printing stand-ins that keep an audit trail when they are not, so `convoy dev` works offline.
 */
export async function buildIntegrations(
  deps: IntegrationPorts,
  options: IntegrationOptions,
): Promise<IntegrationDependencies> {
  const secrets = await deps.secrets();
  const outbox = new DynamoDbOutbox(options.documentClient, options.tableName);
  // The Slack and JIRA clients (and axios under jira.js) load only when their credentials are set:
  // `convoy dev` without them stays small, and so does a cold start.
  const slackLive = Boolean(secrets.CONVOY_SLACK_BOT_TOKEN);
  const chat: ChatPoster = secrets.CONVOY_SLACK_BOT_TOKEN
    ? (await import('../adapters/slack/slack-chat-poster.js')).createChatPoster({
        botToken: secrets.CONVOY_SLACK_BOT_TOKEN,
        ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
        refs: new DynamoDbMessageRefs(options.documentClient, options.tableName),
        print: options.print,
      })
    : new ConsoleChatPoster(options.print, {
        clock: deps.clock,
        ...(options.chartDir ? { fileDir: options.chartDir } : {}),
      });
  const jiraLive = Boolean(secrets.CONVOY_JIRA_EMAIL && secrets.CONVOY_JIRA_API_TOKEN);
  const siteOf = async (project: string) =>
    options.jiraBaseUrl ?? (await deps.store.currentPlan(project))?.plan.integrations.jira?.site;
  const trackers = new Map<string, ReturnType<typeof trackerRunner>>();
  const recordNotSent = async (entry: OutboxEntry, type: string, line: string) => {
    await deps.store.appendEvents(entry.project, [
      {
        id: deps.ids.next(deps.clock.now().toISOString()),
        type,
        at: deps.clock.now().toISOString(),
        actor: 'system',
        subject: lineOf(entry.command),
        note: line,
      },
    ]);
  };
  const printing = printingRunner(options.print, (entry, line) =>
    recordNotSent(entry, 'jira.not_sent', line),
  );
  /** Shares the chart a report shows before the report itself, so the report never points at nothing. */
  const shareChart = async (project: string, channel: string, chart: ChartAttachment, key: string) => {
    const kept = await deps.charts.chartAt(project, chart.name, chart.at);
    if (!kept) {
      options.print(
        `chart ${chart.name} of ${project} at ${chart.at} is no longer kept; the report goes without it`,
      );
      return;
    }
    await chat.upload(
      channel,
      { filename: chart.filename, title: chart.title, bytes: kept.png, altText: chart.title },
      `${key}:chart`,
    );
  };
  const run = async (command: OutboxCommand, entry: OutboxEntry) => {
    if (command.kind === 'slack') {
      let message: ChatMessage;
      if ('notice' in command) {
        const plan = (await deps.store.currentPlan(entry.project))?.plan;
        const site = options.jiraBaseUrl ?? plan?.integrations.jira?.site;
        // Times in the notice read in the project's time zone.
        message = noticeMessage(command.notice, {
          ...(site ? { jiraSite: site } : {}),
          ...(plan ? { timeZone: plan.project.timezone } : {}),
          now: deps.clock.now(),
        });
      } else {
        message = command.message;
        if (command.chart) await shareChart(entry.project, command.channel, command.chart, command.key);
      }
      await chat.post(command.channel, message, command.key);
      // Without a bot token the message was printed; the trail keeps what Slack would have shown.
      if (!slackLive) await recordNotSent(entry, 'slack.not_sent', `${command.channel}: ${message.text}`);
      return;
    }
    const site = await siteOf(entry.project);
    if (!jiraLive) {
      await printing(command, entry);
      return;
    }
    if (!site) {
      throw new IntegrationError(
        `project ${entry.project} has no integrations.jira.site and CONVOY_JIRA_BASE_URL is not set: Convoy does not know where to send the JIRA ${command.kind} for ${lineOf(command)}`,
        false,
      );
    }
    let runner = trackers.get(site);
    if (!runner) {
      const { JiraIssueTracker } = await import('../adapters/jira/jira-issue-tracker.js');
      runner = trackerRunner(
        new JiraIssueTracker({
          baseUrl: site,
          email: secrets.CONVOY_JIRA_EMAIL as string,
          apiToken: secrets.CONVOY_JIRA_API_TOKEN as string,
        }),
      );
      trackers.set(site, runner);
    }
    await runner(command, entry);
  };
  const drain: DrainPorts = {
    outbox,
    run,
    // One bucket per deployment: plans of one Convoy share their JIRA site in practice.
    limiter: new DynamoDbRateLimiter(options.documentClient, options.tableName, {
      name: `jira:${options.jiraBaseUrl ?? 'sites'}`,
      capacity: options.jiraRequestsPerMinute ?? 100,
      // JIRA counts a request when it arrives, up to a few seconds after its token was taken (a
      // transition's POST follows its GET); returning tokens after 65 s keeps any 60 s at JIRA within the limit.
      windowMs: JIRA_WINDOW_MS,
    }),
    clock: deps.clock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async recordFailure(entry, error) {
      const failed = {
        id: deps.ids.next(deps.clock.now().toISOString()),
        type: 'sync.failed',
        at: deps.clock.now().toISOString(),
        actor: 'system',
        subject: lineOf(entry.command),
        note: `${entry.command.kind === 'slack' ? 'Slack post' : `JIRA ${entry.command.kind}`} for ${lineOf(entry.command)}: ${error}`,
        data: { entry: entry.id },
      };
      // `sync.failed` rules of the plan hear about it (one escalation per JIRA issue or channel) by
      // following the domain event written with it: a worker that stops right after loses neither.
      const published = [eventRecordedEvent(entry.project, failed)];
      await deps.store.commit(entry.project, { events: [failed], published });
      await deps.follow?.(published);
    },
  };
  return { chat, drain, github: { ...deps, outbox }, jiraLive };
}

/** What the workers take: the handlers' dependencies and the JIRA and Slack side over them. */
export interface WorkerDependencies extends HandlerDependencies {
  /** Built on the first call and kept; a failed build (credentials unreadable) is tried again. */
  readonly integrations: () => Promise<IntegrationDependencies>;
}

/** The integration settings of a composition (its table aside); `print` defaults to the logger. */
export type IntegrationSettings = Omit<IntegrationOptions, 'documentClient' | 'tableName' | 'print'> & {
  readonly print?: IntegrationOptions['print'];
};

/** The integration settings `config` holds. */
export function integrationSettings(config: HandlerConfig): IntegrationSettings {
  return {
    ...(config.jiraBaseUrl ? { jiraBaseUrl: config.jiraBaseUrl } : {}),
    ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}),
    jiraRequestsPerMinute: config.jiraRequestsPerMinute,
  };
}

/**
 * `deps` with the integrations built over exactly these ports (their clock, bus and outbox) on first
 * use: compose after the last port is in place.
 */
export function withIntegrations(
  deps: HandlerDependencies,
  table: Pick<StateTable, 'documentClient' | 'tableName'>,
  settings: IntegrationSettings = {},
): WorkerDependencies {
  let built: Promise<IntegrationDependencies> | undefined;
  const integrations = () => {
    built ??= buildIntegrations(deps, {
      documentClient: table.documentClient,
      tableName: table.tableName,
      print: (line) => deps.logger.info(line),
      ...settings,
    }).catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
  return { ...deps, integrations };
}

/** The workers' composition root: `createDependencies` and the integrations `config` sets up. */
export function createWorkerDependencies(config: HandlerConfig): WorkerDependencies {
  const table = openStateTable(config);
  return withIntegrations(createDependencies(config, table), table, integrationSettings(config));
}
