import { CfnOutput, Duration, Stack, type StackProps, Tags, Token } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { Plan } from '../functions/core/plan/index.js';
import { ROUTES, WORKERS } from '../functions/handlers/routes.js';
import { ConvoyAlarms } from './constructs/alarms.js';
import { AppFunction } from './constructs/app-function.js';
import { ConvoyDashboard } from './constructs/dashboard.js';
import { ConvoyEvents } from './constructs/events.js';
import { ConvoyHttpApi } from './constructs/http-api.js';
import { ConvoyIntegrations } from './constructs/integrations.js';
import { ConvoyPublisher } from './constructs/publisher.js';
import { ConvoySchedules } from './constructs/schedules.js';
import { StateTable } from './constructs/state-table.js';
import { ConvoyTokenKey } from './constructs/token-key.js';
import { ConvoyWorkflows } from './constructs/workflows.js';

const CONVOY_TAGS: Readonly<Record<string, string>> = { project: 'convoy' };

/** Properties of {@link ConvoyStack}. `env.region` must be set explicitly. */
export interface ConvoyStackProps extends StackProps {
  /**
   * The region whose stack owns the coordination state table.
   *
   * @default - this stack's own region
   */
  readonly primaryRegion?: string;

  /**
   * The other regions Convoy is deployed to; each gets a replica of the state table.
   * Must not contain the primary region.
   *
   * @default - none: a single-region deployment
   */
  readonly replicaRegions?: readonly string[];

  /**
   * Custom domain name of the HTTP API in this region. Requires `apiCertificateArn`.
   *
   * @default - no custom domain
   */
  readonly apiDomainName?: string;

  /**
   * ARN of the ACM certificate for `apiDomainName`, in this stack's region. Requires `apiDomainName`.
   *
   * @default - no custom domain
   */
  readonly apiCertificateArn?: string;

  /**
   * The region whose schedules run: the plans' scheduled jobs, the monitors and the JIRA outbox drain. In
   * every other region they exist but are disabled. Must be the primary region or a replica region.
   *
   * @default - the primary region
   */
  readonly activeRegion?: string;

  /**
   * The plans whose schedules this stack runs (when it is in the active region), with distinct project ids.
   *
   * @default - none: only the monitors and the JIRA drain are scheduled
   */
  readonly plans?: readonly Plan[];

  /**
   * JIRA requests per minute per site, shared by the functions that talk to JIRA and Slack.
   *
   * @default 100
   */
  readonly jiraRequestsPerMinute?: number;
}

/**
 * Convoy in one region. The stack in the primary region owns the global state
 * table; a stack in a replica region uses that region's replica of it.
 */
export class ConvoyStack extends Stack {
  /** Whether this stack is the one in the primary region, which owns the state table. */
  readonly isPrimary: boolean;

  /** The coordination state table as seen from this region: bind functions to this. */
  readonly table: ITableV2;

  /** The HTTP API and the functions behind it. */
  readonly httpApi: ConvoyHttpApi;

  /** The key API tokens are sealed with, readable by the functions that check or mint tokens only. */
  readonly tokenKey: ConvoyTokenKey;

  /** Every alarm of the stack and the `convoy-alarms` topic they notify. */
  readonly alarms: ConvoyAlarms;

  /** The GitHub, JIRA and Slack integrations: secret, queue, workers and alarms. */
  readonly integrations: ConvoyIntegrations;

  /** The plans' scheduled jobs and the monitors, with their dead-letter queues and alarms. */
  readonly schedules: ConvoySchedules;

  /** The phase-gate state machine and its gate-step function. */
  readonly workflows: ConvoyWorkflows;

  /** The custom event bus Convoy publishes its domain events to, and the rule that starts gates. */
  readonly events: ConvoyEvents;

  /** Starts a phase's gate workflow when EventBridge says the phase's tasks are done. */
  readonly gateStarter: AppFunction;

  /**
   * Delivers the domain events written into the state table (its stream → the bus and the followers);
   * only in the primary region, whose table stream carries every region's writes.
   */
  readonly publisher?: ConvoyPublisher;

  /**
   * The web dashboard: a private bucket behind CloudFront, which also forwards `/v1/*` and `/mcp` to this
   * region's HTTP API. In every region, like the API: a region's dashboard works while another is down.
   */
  readonly dashboard: ConvoyDashboard;

  constructor(scope: Construct, id: string, props: ConvoyStackProps) {
    // Stack tags reach resources CloudFormation creates outside the template; Tags.of covers the
    // template itself, including the table's replicas in other regions.
    super(scope, id, { ...props, tags: { ...props.tags, ...CONVOY_TAGS } });
    const regions = checkRegions(id, this.region, props);
    this.isPrimary = this.region === regions.primary;

    this.table = this.stateTable(regions);
    this.httpApi = this.httpApiWithOutputs(props);
    this.tokenKey = this.tokenKeyForApi(regions);
    this.alarms = new ConvoyAlarms(this, 'Alarms');
    this.integrations = this.integrationsWithSecretOutput(props, regions);
    this.schedules = new ConvoySchedules(this, 'Schedules', {
      table: this.table,
      plans: props.plans,
      secret: this.integrations.secret,
      alarms: this.alarms,
      enabled: this.region === regions.active,
      jiraRequestsPerMinute: props.jiraRequestsPerMinute,
    });
    this.workflows = new ConvoyWorkflows(this, 'Workflows', { table: this.table });
    this.events = new ConvoyEvents(this, 'Events', { alarms: this.alarms });
    this.gateStarter = this.gateStarterOnPhaseTasksCompleted();
    // The stream of the table this stack owns carries the writes of every region (the replicas
    // replicate through it), so the primary region's publisher delivers every domain event once.
    this.publisher = this.isPrimary
      ? new ConvoyPublisher(this, 'Publisher', {
          table: this.table,
          events: this.events,
          alarms: this.alarms,
        })
      : undefined;
    this.alarms.add(this, 'PhaseGateFailedAlarm', {
      name: `convoy-phase-gate-failed-${this.region}`,
      description: 'A phase-gate execution failed: its gate was escalated, look at the execution',
      metric: this.workflows.phaseGate.metricFailed({ period: Duration.minutes(5) }),
    });
    this.bindGateWorkflows();
    this.grantEventPublishing();
    this.addWebhookUrlOutputs(props);
    this.dashboard = this.dashboardWithOutput();

    for (const [key, value] of Object.entries(CONVOY_TAGS)) {
      Tags.of(this).add(key, value);
    }
  }

  /** The state table, owned by the primary region's stack and a replica elsewhere, and its name as an output. */
  private stateTable(regions: Regions): ITableV2 {
    const table = this.isPrimary
      ? new StateTable(this, 'StateTable', { replicaRegions: regions.replicas }).table
      : StateTable.fromReplica(this, 'StateTable');
    new CfnOutput(this, 'StateTableName', {
      description: 'Name of the coordination state table (the same in every region)',
      value: table.tableName,
    });
    return table;
  }

  /** The HTTP API, with its URL (and its custom domain's target) as outputs. */
  private httpApiWithOutputs(props: ConvoyStackProps): ConvoyHttpApi {
    const httpApi = new ConvoyHttpApi(this, 'HttpApi', {
      table: this.table,
      domainName: props.apiDomainName,
      certificateArn: props.apiCertificateArn,
    });
    new CfnOutput(this, 'ApiUrl', {
      description: "URL of the HTTP API's execute-api endpoint in this region",
      value: httpApi.url,
    });
    if (httpApi.domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `Regional endpoint to point the DNS record of ${props.apiDomainName} at`,
        value: httpApi.domainName.regionalDomainName,
      });
    }
    return httpApi;
  }

  /** The dashboard in front of this region's API, with its URL as an output. */
  private dashboardWithOutput(): ConvoyDashboard {
    const dashboard = new ConvoyDashboard(this, 'Dashboard', { httpApi: this.httpApi.api });
    new CfnOutput(this, 'DashboardUrl', {
      description: `URL of the web dashboard, served by CloudFront with this region's API under /v1 and /mcp`,
      value: dashboard.url,
    });
    return dashboard;
  }

  /**
   * The token key, readable by the API functions: the /v1 routes and /mcp authenticate tokens (all five)
   * and api-write mints and revokes them.
   */
  private tokenKeyForApi(regions: Regions): ConvoyTokenKey {
    const tokenKey = new ConvoyTokenKey(this, 'TokenKey', {
      source: this.isPrimary ? 'create' : 'replica',
      replicaRegions: regions.replicas,
    });
    for (const name of ['api-read', 'api-write', 'api-charts', 'api-plans', 'mcp'] as const)
      tokenKey.grantRead(this.httpApi.functions[name]);
    return tokenKey;
  }

  /** The integrations, with the credentials secret's ARN as an output. */
  private integrationsWithSecretOutput(props: ConvoyStackProps, regions: Regions): ConvoyIntegrations {
    const integrations = new ConvoyIntegrations(this, 'Integrations', {
      table: this.table,
      alarms: this.alarms,
      httpFunctions: this.httpApi.functions,
      secretSource: this.isPrimary ? 'create' : 'replica',
      secretReplicaRegions: regions.replicas,
      jiraDrainEnabled: this.region === regions.active,
      jiraRequestsPerMinute: props.jiraRequestsPerMinute,
    });
    new CfnOutput(this, 'IntegrationsSecretArn', {
      description: this.isPrimary
        ? 'Secret holding the GitHub, JIRA and Slack credentials: fill it with aws secretsmanager put-secret-value'
        : "This region's read-only replica of the credentials secret: fill the primary region's",
      value: integrations.secret.secretArn,
    });
    return integrations;
  }

  /** The function the Phase Tasks Completed rule invokes to start a phase's gate. */
  private gateStarterOnPhaseTasksCompleted(): AppFunction {
    const gateStarter = new AppFunction(this, 'GateStarterFunction', {
      entryName: 'gate-starter',
      description: WORKERS['gate-starter'].description,
    });
    gateStarter.bindTable(this.table, 'readwrite');
    this.events.onPhaseTasksCompleted(gateStarter);
    return gateStarter;
  }

  /**
   * Who starts gate workflows (the evaluate route, the rule's target, the gate review) and who hands
   * them a decision (the decision route, the Slack buttons).
   */
  private bindGateWorkflows(): void {
    const http = this.httpApi.functions;
    this.workflows.bindGateWorkflow(http['api-write'], 'start-and-decide');
    this.workflows.bindGateWorkflow(http['slack-interactions'], 'decide');
    this.workflows.bindGateWorkflow(http.mcp, 'decide');
    this.workflows.bindGateWorkflow(this.gateStarter, 'start');
    this.workflows.bindGateWorkflow(this.schedules.jobFunction, 'start');
  }

  /** Who publishes domain events: whatever moves tasks, phases, gates, agents or escalations. */
  private grantEventPublishing(): void {
    const http = this.httpApi.functions;
    for (const fn of [
      http['api-write'],
      http.mcp,
      http['webhook-jira'],
      http['slack-interactions'],
      this.integrations.githubWorker,
      this.integrations.jiraWorker,
      this.schedules.jobFunction,
      this.schedules.monitorFunction,
      this.workflows.gateStep,
      this.gateStarter,
    ]) {
      this.events.grantPublish(fn);
    }
  }

  /** Webhooks registered with a custom domain keep working when DNS sends them to another region. */
  private addWebhookUrlOutputs(props: ConvoyStackProps): void {
    const baseUrl = props.apiDomainName ? `https://${props.apiDomainName}/` : this.httpApi.url;
    for (const [outputId, handler, description] of [
      ['GithubWebhookUrl', 'webhook-github', 'Payload URL of the GitHub webhook'],
      ['JiraWebhookUrl', 'webhook-jira', 'URL of the JIRA webhook'],
      ['SlackInteractionsUrl', 'slack-interactions', "Request URL of the Slack app's interactivity"],
    ] as const) {
      new CfnOutput(this, outputId, { description, value: `${baseUrl}${routePath(handler).slice(1)}` });
    }
  }
}

/** The regions a stack is deployed with: the table's owner, its replicas, and the one whose schedules run. */
interface Regions {
  readonly primary: string;
  readonly replicas: readonly string[];
  readonly active: string;
}

/** The stack's regions, once checked: an explicit region that is the primary or a replica, an active region among them. */
function checkRegions(id: string, region: string, props: ConvoyStackProps): Regions {
  if (Token.isUnresolved(region)) {
    throw new Error(
      `ConvoyStack ${id} needs an explicit env.region: the state table's replicas are per region`,
    );
  }
  const primary = props.primaryRegion ?? region;
  const replicas = props.replicaRegions ?? [];
  if (replicas.includes(primary)) {
    throw new Error(`ConvoyStack ${id}: replicaRegions must not contain the primary region ${primary}`);
  }
  const active = props.activeRegion ?? primary;
  if (active !== primary && !replicas.includes(active)) {
    throw new Error(
      `ConvoyStack ${id}: activeRegion ${active} is neither the primary region (${primary}) ` +
        `nor a replica region (${replicas.join(', ') || 'none'})`,
    );
  }
  if (region !== primary && !replicas.includes(region)) {
    throw new Error(
      `ConvoyStack ${id} is in ${region}, which is neither the primary region (${primary}) ` +
        `nor a replica region (${replicas.join(', ') || 'none'})`,
    );
  }
  return { primary, replicas, active };
}

function routePath(handler: (typeof ROUTES)[number]['handler']): string {
  const route = ROUTES.find((candidate) => candidate.handler === handler);
  if (!route) throw new Error(`no route is served by the ${handler} handler`);
  return route.path;
}
