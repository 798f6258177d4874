import { Stack, Token } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CorsPreflightOptions,
  DomainName,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { HTTP_HANDLERS, type HttpHandlerName, ROUTES } from '../../functions/handlers/routes.js';
import { AppFunction } from './app-function.js';

/** Stage throttling used when {@link ConvoyHttpApiProps.throttle} is not set. */
export const DEFAULT_THROTTLE: Required<ThrottleSettings> = { burstLimit: 200, rateLimit: 100 };

// HTTP API $context variables, one JSON object per request. Values are quoted because API Gateway writes
// "-" for a missing one, which would make an unquoted number invalid JSON.
const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  domainName: '$context.domainName',
};

const TOKEN_ROUTES =
  'Every /v1 route checks a Convoy bearer token in the handler (functions/handlers/http/auth.ts): the ' +
  'token must match an unrevoked record sealed with the token key (Secrets Manager), its agent or person ' +
  "must be in the plan, and it must belong to the path's project, or be an admin token";

// Why no route has an API Gateway authorizer: each handler authenticates its caller itself, with the
// credential that caller can send.
const ROUTE_AUTHORIZATION: Readonly<Record<HttpHandlerName, string>> = {
  health:
    'GET /health is a public liveness check for load balancers and people: it queries the project list in ' +
    'the state table (read-only grant) and answers ok or 503, nothing else',
  'api-read': TOKEN_ROUTES,
  'api-charts': TOKEN_ROUTES,
  'api-plans': `${TOKEN_ROUTES}; applying a plan needs an admin token`,
  'api-write': `${TOKEN_ROUTES} where the route needs one`,
  mcp:
    'Every POST /mcp checks a Convoy bearer token in the handler exactly as the /v1 routes do ' +
    '(functions/handlers/http/auth.ts) and answers 401 with a WWW-Authenticate challenge without one; the ' +
    "project is the token's own. GET and DELETE /mcp only answer 405 (a stateless MCP server has no stream or session)",
  'webhook-github':
    'GitHub sends no API Gateway credential: the handler verifies the X-Hub-Signature-256 HMAC of the raw ' +
    'body with the webhook secret before it reads anything',
  'webhook-jira':
    'JIRA sends no API Gateway credential: the handler verifies the X-Hub-Signature HMAC-SHA256 of the raw ' +
    'body with the webhook secret before it reads anything',
  'slack-interactions':
    "Slack sends no API Gateway credential: the handler verifies Slack's v0 request signature with the " +
    'signing secret and refuses requests older than five minutes',
};

// Regional custom domains need a certificate from the API's own region.
const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/;

/** Properties of {@link ConvoyHttpApi}. */
export interface ConvoyHttpApiProps {
  /** The coordination state table; each handler gets the access its `tableAccess` in routes.ts names. */
  readonly table: ITableV2;

  /**
   * Steady-state and burst request limits of the stage, shared by every route.
   *
   * @default DEFAULT_THROTTLE - burst 200, rate 100 requests per second
   */
  readonly throttle?: ThrottleSettings;

  /**
   * CORS configuration. Agents and webhooks call the API from servers, not browsers.
   *
   * @default - CORS disabled
   */
  readonly corsPreflight?: CorsPreflightOptions;

  /**
   * How long access logs are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: RetentionDays;

  /**
   * Custom domain name for the API, such as `convoy.example.com`. Requires `certificateArn`.
   * DNS is not managed here: point a record at the domain's regional endpoint.
   *
   * @default - no custom domain: the API is reached at its execute-api URL only
   */
  readonly domainName?: string;

  /**
   * ARN of an ACM certificate for `domainName`, in the stack's region. Requires `domainName`.
   *
   * @default - no custom domain
   */
  readonly certificateArn?: string;
}

/**
 * Convoy's HTTP API: an API Gateway HTTP API with one {@link AppFunction} per entry point in
 * `HTTP_HANDLERS` and one route per entry in `ROUTES` (functions/handlers/routes.ts), Lambda proxy
 * integrations with payload format 2.0, a throttled `$default` stage with JSON access logs, and an
 * optional custom domain.
 */
export class ConvoyHttpApi extends Construct {
  /** The HTTP API. */
  readonly api: HttpApi;

  /** The `$default` stage, which serves every route. */
  readonly stage: HttpStage;

  /** The function behind each entry point, by handler name. */
  readonly functions: Readonly<Record<HttpHandlerName, AppFunction>>;

  /** The access log group of the stage. */
  readonly accessLogGroup: LogGroup;

  /** The custom domain, when one is configured. */
  readonly domainName?: DomainName;

  constructor(scope: Construct, id: string, props: ConvoyHttpApiProps) {
    super(scope, id);
    checkCustomDomain(this, props);

    this.functions = createFunctions(this, props.table);

    // The stage is created here rather than by HttpApi, whose default stage takes neither throttling
    // nor access log settings.
    this.api = new HttpApi(this, 'Api', {
      description: 'Convoy agent API',
      createDefaultStage: false,
      corsPreflight: props.corsPreflight,
    });

    if (props.domainName !== undefined && props.certificateArn !== undefined) {
      this.domainName = new DomainName(this, 'DomainName', {
        domainName: props.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      });
    }

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_MONTH,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: this.domainName && { domainName: this.domainName },
    });

    const integrations = new Map<HttpHandlerName, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new HttpLambdaIntegration(
          `${pascalCase(route.handler)}Integration`,
          this.functions[route.handler],
          {
            payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
          },
        );
        integrations.set(route.handler, integration);
      }
      const routes = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
      });
      NagSuppressions.addResourceSuppressions(routes, [
        { id: 'AwsSolutions-APIG4', reason: ROUTE_AUTHORIZATION[route.handler] },
      ]);
    }
  }

  /** The URL of the API's execute-api endpoint, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}

function createFunctions(scope: Construct, table: ITableV2): Record<HttpHandlerName, AppFunction> {
  const entries = Object.entries(HTTP_HANDLERS) as [
    HttpHandlerName,
    // Every access routes.ts allows, 'none' included, even while no handler uses it.
    { readonly description: string; readonly tableAccess: 'none' | 'read' | 'readwrite' },
  ][];
  return Object.fromEntries(
    entries.map(([name, { description, tableAccess }]) => {
      const fn = new AppFunction(scope, `${pascalCase(name)}Function`, {
        entryName: name,
        description,
        drawsCharts: name === 'api-charts',
      });
      if (tableAccess !== 'none') {
        fn.bindTable(table, tableAccess);
      }
      return [name, fn];
    }),
  ) as Record<HttpHandlerName, AppFunction>;
}

function checkCustomDomain(scope: Construct, { domainName, certificateArn }: ConvoyHttpApiProps): void {
  const path = scope.node.path;
  if ((domainName === undefined) !== (certificateArn === undefined)) {
    const [given, missing] =
      domainName === undefined ? ['certificateArn', 'domainName'] : ['domainName', 'certificateArn'];
    throw new Error(
      `ConvoyHttpApi ${path}: a custom domain needs both domainName and certificateArn, but only ${given} is set; ` +
        `set ${missing} too, or neither`,
    );
  }
  if (certificateArn === undefined || Token.isUnresolved(certificateArn)) {
    return;
  }
  const region = ACM_CERTIFICATE_ARN.exec(certificateArn)?.[1];
  if (region === undefined) {
    throw new Error(
      `ConvoyHttpApi ${path}: certificateArn is not an ACM certificate ARN ` +
        `(arn:aws:acm:<region>:<account>:certificate/<id>): ${JSON.stringify(certificateArn)}`,
    );
  }
  const stackRegion = Stack.of(scope).region;
  if (!Token.isUnresolved(stackRegion) && region !== stackRegion) {
    throw new Error(
      `ConvoyHttpApi ${path}: the certificate for ${domainName} is in ${region}, but a regional custom domain ` +
        `needs a certificate in the API's own region, ${stackRegion}`,
    );
  }
}

function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
}
