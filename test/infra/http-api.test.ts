import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATE_STATE_MACHINE_ARN_ENV, TABLE_NAME_ENV } from '../../functions/handlers/env-names.js';
import { HTTP_HANDLERS, type HttpHandlerName, ROUTES, routeKey } from '../../functions/handlers/routes.js';
import { ConvoyHttpApi } from '../../lib/constructs/http-api.js';
import type { ConvoyStack } from '../../lib/convoy-stack.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

const HANDLER_NAMES = Object.keys(HTTP_HANDLERS) as HttpHandlerName[];
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
];
const CERT_US = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const CERT_EU = 'arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000';

interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: unknown;
}

/** A synthesized stack with the lookups the tests share. */
class StackUnderTest {
  readonly template: Template;

  constructor(readonly stack: ConvoyStack) {
    this.template = Template.fromStack(stack);
  }

  logicalId(element: CfnElement | undefined): string {
    if (!element) throw new Error('no CloudFormation element');
    return this.stack.getLogicalId(element);
  }

  functionId(name: HttpHandlerName): string {
    return this.logicalId(this.stack.httpApi.functions[name].node.defaultChild as CfnElement);
  }

  functionProperties(name: HttpHandlerName): Record<string, unknown> {
    const resource = this.template.toJSON().Resources[this.functionId(name)];
    return resource.Properties;
  }

  /** Every IAM statement attached to the role of function `name`. */
  statements(name: HttpHandlerName): Statement[] {
    const role = this.stack.httpApi.functions[name].role;
    const roleId = this.logicalId(role?.node.defaultChild as CfnElement);
    return Object.values(this.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  }

  dynamoDbStatements(name: HttpHandlerName): Statement[] {
    return this.statements(name).filter((statement) =>
      actions(statement).some((action) => action.startsWith('dynamodb:')),
    );
  }

  /** The ARNs a grant on the stack's table covers: the table and its indexes. */
  tableResources(): unknown[] {
    const { tableArn } = this.stack.table;
    return [this.stack.resolve(tableArn), this.stack.resolve(`${tableArn}/index/*`)];
  }
}

function actions(statement: Statement): string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

describe('ConvoyHttpApi', () => {
  describe('in a two-region app', () => {
    let stacks: StackUnderTest[];

    // Synthesis bundles every function with esbuild, so the app is built once and every test reads it.
    beforeAll(() => {
      const app = buildTestApp(['us-east-1', 'eu-west-1']);
      stacks = app.stacks.map((stack) => new StackUnderTest(stack));
    }, SYNTH_TIMEOUT_MS);

    it('creates one route and one Lambda permission per ROUTES entry when the stack is synthesized', () => {
      // Assess
      for (const { template } of stacks) {
        template.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
        const apiPermissions = template.findResources('AWS::Lambda::Permission', {
          Properties: { Principal: 'apigateway.amazonaws.com' },
        });
        expect(Object.keys(apiPermissions)).toHaveLength(ROUTES.length);
      }
    });

    it.each(ROUTES.map((route) => [routeKey(route), route.handler] as const))(
      'sends %s to the %s function through its integration',
      (key, handler) => {
        for (const stack of stacks) {
          // Act
          const integrations = stack.template.findResources('AWS::ApiGatewayV2::Integration', {
            Properties: { IntegrationUri: { 'Fn::GetAtt': [stack.functionId(handler), 'Arn'] } },
          });
          const [integrationId] = Object.keys(integrations);

          // Assess
          expect(Object.keys(integrations), stack.stack.stackName).toHaveLength(1);
          stack.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
            RouteKey: key,
            Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
          });
        }
      },
    );

    it('serves the MCP server at /mcp from its own function, which writes the table and may decide gates', () => {
      for (const stack of stacks) {
        // Act
        const mcpIntegrations = stack.template.findResources('AWS::ApiGatewayV2::Integration', {
          Properties: { IntegrationUri: { 'Fn::GetAtt': [stack.functionId('mcp'), 'Arn'] } },
        });
        const mcpRoutes = Object.values(stack.template.findResources('AWS::ApiGatewayV2::Route'))
          .map((route) => route.Properties.RouteKey as string)
          .filter((key) => key.endsWith(' /mcp'));
        const writes = stack.dynamoDbStatements('mcp').flatMap(actions);

        // Assess
        expect(Object.keys(mcpIntegrations)).toHaveLength(1);
        // POST carries every MCP message; GET and DELETE answer 405, as a stateless server must.
        expect(mcpRoutes.sort()).toEqual(['DELETE /mcp', 'GET /mcp', 'POST /mcp']);
        expect(writes).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
        expect(stack.functionProperties('mcp')).toMatchObject({
          Environment: { Variables: { [GATE_STATE_MACHINE_ARN_ENV]: expect.anything() } },
        });
      }
    });

    it('uses one payload format 2.0 proxy integration per handler when several routes share it', () => {
      // Assess
      for (const { template } of stacks) {
        template.resourceCountIs('AWS::ApiGatewayV2::Integration', HANDLER_NAMES.length);
        template.allResourcesProperties('AWS::ApiGatewayV2::Integration', {
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: '2.0',
        });
      }
    });

    it.each(HANDLER_NAMES)(
      'runs the %s function on Node.js 22, ARM64, with tracing and house defaults',
      (name) => {
        for (const stack of stacks) {
          // Act
          const properties = stack.functionProperties(name);

          // Assess
          expect(properties, stack.stack.stackName).toMatchObject({
            Runtime: 'nodejs22.x',
            Architectures: ['arm64'],
            TracingConfig: { Mode: 'Active' },
            Handler: 'index.handler',
            MemorySize: 512,
            Timeout: 10,
            Environment: {
              Variables: { POWERTOOLS_SERVICE_NAME: 'convoy', NODE_OPTIONS: '--enable-source-maps' },
            },
          });
        }
      },
    );

    it('ships the chart font beside the bundle of the function that draws charts, and only there', () => {
      const [stack] = stacks;
      if (!stack) throw new Error('no stack');
      const outdir = (stack.stack.node.root as App).outdir;
      // The stack's asset manifest says which staged directory is published under the code's S3 key.
      const manifest = JSON.parse(
        readFileSync(join(outdir, `${stack.stack.artifactId}.assets.json`), 'utf8'),
      ) as {
        files: Record<
          string,
          { source: { path: string }; destinations: Record<string, { objectKey: string }> }
        >;
      };
      const bundleOf = (name: HttpHandlerName) => {
        const { Code } = stack.functionProperties(name) as { Code: { S3Key: string } };
        const staged = Object.values(manifest.files).find((file) =>
          Object.values(file.destinations).some((destination) => destination.objectKey === Code.S3Key),
        );
        return join(outdir, staged?.source.path ?? 'missing');
      };

      // Assess
      expect(existsSync(join(bundleOf('api-charts'), 'DejaVuSans.ttf'))).toBe(true);
      expect(existsSync(join(bundleOf('api-read'), 'DejaVuSans.ttf'))).toBe(false);
      expect(existsSync(join(bundleOf('api-write'), 'DejaVuSans.ttf'))).toBe(false);
    });

    it("serves the dashboard's reads (change counter, plan, forecast, metrics, projects) from the read-only function", () => {
      const dashboardRoutes = [
        'GET /v1/plans/{project}/changes',
        'GET /v1/plans/{project}/plan',
        'GET /v1/plans/{project}/forecast',
        'GET /v1/plans/{project}/metrics/{name}',
        'GET /v1/projects',
      ];
      for (const stack of stacks) {
        // Act
        const [integrationId] = Object.keys(
          stack.template.findResources('AWS::ApiGatewayV2::Integration', {
            Properties: { IntegrationUri: { 'Fn::GetAtt': [stack.functionId('api-read'), 'Arn'] } },
          }),
        );

        // Assess
        for (const key of dashboardRoutes)
          stack.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
            RouteKey: key,
            Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
          });
      }
    });

    it('gives the read function read actions only, on the table and its indexes', () => {
      for (const stack of stacks) {
        // Act
        const statements = stack.dynamoDbStatements('api-read');
        const granted = statements.flatMap(actions);

        // Assess
        expect(granted, stack.stack.stackName).toEqual(
          expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem']),
        );
        for (const action of WRITE_ACTIONS) {
          expect(granted, `${stack.stack.stackName} ${action}`).not.toContain(action);
        }
        for (const statement of statements) {
          expect(statement.Resource, stack.stack.stackName).toEqual(stack.tableResources());
        }
      }
    });

    it('gives the write function write actions, on the table and its indexes only', () => {
      for (const stack of stacks) {
        // Act
        const statements = stack.dynamoDbStatements('api-write');

        // Assess
        expect(statements.flatMap(actions), stack.stack.stackName).toEqual(
          expect.arrayContaining([
            'dynamodb:GetItem',
            'dynamodb:Query',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchWriteItem',
          ]),
        );
        for (const statement of statements) {
          expect(statement.Resource, stack.stack.stackName).toEqual(stack.tableResources());
        }
      }
    });

    it('gives the health function read actions only, for the one read that tells whether the table answers', () => {
      for (const stack of stacks) {
        // Act
        const statements = stack.dynamoDbStatements('health');
        const granted = statements.flatMap(actions);
        const properties = stack.functionProperties('health');

        // Assess
        expect(granted, stack.stack.stackName).toContain('dynamodb:Query');
        for (const action of WRITE_ACTIONS) {
          expect(granted, `${stack.stack.stackName} ${action}`).not.toContain(action);
        }
        for (const statement of statements) {
          expect(statement.Resource, stack.stack.stackName).toEqual(stack.tableResources());
        }
        expect(properties, stack.stack.stackName).toHaveProperty([
          'Environment',
          'Variables',
          TABLE_NAME_ENV,
        ]);
      }
    });

    it('tells the table functions the name of the table in their region', () => {
      for (const stack of stacks) {
        for (const name of ['api-read', 'api-write'] as const) {
          // Act
          const properties = stack.functionProperties(name);

          // Assess
          expect(properties, `${stack.stack.stackName} ${name}`).toHaveProperty(
            ['Environment', 'Variables', TABLE_NAME_ENV],
            stack.stack.resolve(stack.stack.table.tableName),
          );
        }
      }
    });

    it('keeps every log group for one month and sends each function to its own', () => {
      for (const stack of stacks) {
        // Act
        // Other constructs add functions, and log groups, of their own: count the API's only.
        const logGroupIds = stack.stack.httpApi.node
          .findAll()
          .filter((child) => child instanceof LogGroup)
          .map((group) => stack.logicalId(group.node.defaultChild as CfnElement));
        const used = HANDLER_NAMES.map(
          (name) =>
            (stack.functionProperties(name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref,
        );

        // Assess
        expect(logGroupIds, stack.stack.stackName).toHaveLength(HANDLER_NAMES.length + 1);
        stack.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
        expect(new Set(used).size).toBe(HANDLER_NAMES.length);
        expect(logGroupIds).toEqual(expect.arrayContaining(used));
      }
    });

    it('throttles the $default stage and writes JSON access logs to a log group', () => {
      for (const stack of stacks) {
        // Act
        const [stage] = Object.values(stack.template.findResources('AWS::ApiGatewayV2::Stage'));
        const accessLogs = stack.logicalId(
          stack.stack.httpApi.accessLogGroup.node.defaultChild as CfnElement,
        );

        // Assess
        stack.template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
        expect(stage?.Properties, stack.stack.stackName).toMatchObject({
          StageName: '$default',
          AutoDeploy: true,
          DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
          AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [accessLogs, 'Arn'] } },
        });
        expect(JSON.parse(stage?.Properties.AccessLogSettings.Format)).toMatchObject({
          requestId: '$context.requestId',
          ip: '$context.identity.sourceIp',
          routeKey: '$context.routeKey',
          status: '$context.status',
          latency: '$context.responseLatency',
        });
      }
    });

    it('leaves CORS off and creates no custom domain when none is configured', () => {
      for (const { template } of stacks) {
        // Assess
        template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
          ProtocolType: 'HTTP',
          CorsConfiguration: Match.absent(),
        });
        template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
        template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
      }
    });

    it('outputs the execute-api URL of each region', () => {
      for (const { template, stack } of stacks) {
        // Assess
        template.hasOutput('ApiUrl', {
          Value: {
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`execute-api\\.${stack.region}\\.`)])],
          },
        });
      }
    });
  });

  describe('with a custom domain in two regions', () => {
    let stacks: StackUnderTest[];

    beforeAll(() => {
      const app = buildTestApp(['us-east-1', 'eu-west-1'], {
        context: {
          'convoy:domainName': 'convoy.example.com',
          'convoy:certificateArn': JSON.stringify({ 'us-east-1': CERT_US, 'eu-west-1': CERT_EU }),
        },
      });
      stacks = app.stacks.map((stack) => new StackUnderTest(stack));
    }, SYNTH_TIMEOUT_MS);

    it("creates the domain with each region's own certificate and maps it to the $default stage", () => {
      for (const [stack, certificateArn] of [
        [stacks[0], CERT_US],
        [stacks[1], CERT_EU],
      ] as const) {
        // Act
        const api = stack?.logicalId(stack.stack.httpApi.api.node.defaultChild as CfnElement);
        const domain = stack?.logicalId(stack.stack.httpApi.domainName?.node.defaultChild as CfnElement);

        // Assess
        stack?.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
          DomainName: 'convoy.example.com',
          DomainNameConfigurations: [
            Match.objectLike({ CertificateArn: certificateArn, EndpointType: 'REGIONAL' }),
          ],
        });
        stack?.template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
          ApiId: { Ref: api },
          DomainName: { Ref: domain },
          Stage: '$default',
        });
        stack?.template.hasOutput('ApiDomainTarget', {
          Value: { 'Fn::GetAtt': [domain, 'RegionalDomainName'] },
        });
      }
    });
  });

  describe('custom domain settings', () => {
    it.each([
      [
        'only convoy:domainName is set',
        { 'convoy:domainName': 'convoy.example.com' },
        /"convoy:domainName" is set but "convoy:certificateArn" is not/,
      ],
      [
        'only convoy:certificateArn is set',
        { 'convoy:certificateArn': CERT_US },
        /"convoy:certificateArn" is set but "convoy:domainName" is not/,
      ],
      [
        'a region has no certificate',
        { 'convoy:domainName': 'convoy.example.com', 'convoy:certificateArn': { 'us-east-1': CERT_US } },
        /"convoy:certificateArn".*no certificate ARN for region eu-west-1/,
      ],
      [
        'one certificate is used outside its region',
        { 'convoy:domainName': 'convoy.example.com', 'convoy:certificateArn': CERT_EU },
        /certificate for convoy\.example\.com is in eu-west-1.*own region, us-east-1/,
      ],
      [
        'the certificate is not an ACM ARN',
        { 'convoy:domainName': 'convoy.example.com', 'convoy:certificateArn': 'my-cert' },
        /certificateArn is not an ACM certificate ARN/,
      ],
    ])('throws a clear error when %s', (_case, context, message) => {
      // Act
      const build = () => buildTestApp(['us-east-1', 'eu-west-1'], { context });

      // Assess
      expect(build).toThrow(message);
    });

    it.each([
      ['domainName', { domainName: 'convoy.example.com' }],
      ['certificateArn', { certificateArn: CERT_US }],
    ])('throws a clear error when the construct gets only %s', (given, domainProps) => {
      // Prepare
      const stack = new Stack(undefined, 'Test', { env: { region: 'us-east-1' } });
      const table = TableV2.fromTableName(stack, 'Table', 'convoy-state');

      // Act
      const create = () => new ConvoyHttpApi(stack, 'HttpApi', { table, ...domainProps });

      // Assess
      expect(create).toThrow(
        new RegExp(`needs both domainName and certificateArn, but only ${given} is set`),
      );
    });
  });
});
