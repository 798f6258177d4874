import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConvoyDashboard, DASHBOARD_PLACEHOLDER_DIR } from '../../lib/constructs/dashboard.js';
import type { ConvoyStack } from '../../lib/convoy-stack.js';
import { tempDir } from '../support/temp.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

// CloudFront's managed policies, by the ids AWS gives them.
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

// Spelled out rather than imported: the policy the design asks for, word for word.
const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

interface Resource {
  readonly Type: string;
  readonly Properties: { readonly [name: string]: unknown };
  readonly DependsOn?: string[];
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

interface Origin {
  readonly Id: string;
  readonly DomainName: unknown;
  readonly CustomOriginConfig?: unknown;
  readonly S3OriginConfig?: unknown;
  readonly OriginAccessControlId?: unknown;
}

interface CacheBehavior {
  readonly PathPattern?: string;
  readonly TargetOriginId: string;
  readonly ViewerProtocolPolicy: string;
  readonly AllowedMethods?: string[];
  readonly CachePolicyId: string;
  readonly OriginRequestPolicyId?: string;
  readonly ResponseHeadersPolicyId: unknown;
  readonly FunctionAssociations?: { EventType: string; FunctionARN: unknown }[];
}

interface DistributionConfig {
  readonly Origins: Origin[];
  readonly DefaultCacheBehavior: CacheBehavior;
  readonly CacheBehaviors: CacheBehavior[];
  readonly DefaultRootObject?: string;
  readonly CustomErrorResponses?: unknown;
}

function statementsOf(policy: Resource): Statement[] {
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

/** The dashboard's resources in one synthesized stack. */
class DashboardUnderTest {
  readonly template: Template;
  readonly resources: Record<string, Resource>;

  constructor(
    readonly stack: Stack,
    readonly dashboard: ConvoyDashboard,
  ) {
    this.template = Template.fromStack(stack);
    this.resources = this.template.toJSON().Resources;
  }

  id(element: unknown): string {
    return this.stack.getLogicalId(element as CfnElement);
  }

  resource(id: string): Resource {
    const resource = this.resources[id];
    if (!resource) throw new Error(`no resource ${id} in ${this.stack.stackName}`);
    return resource;
  }

  get bucketId(): string {
    return this.id(this.dashboard.bucket.node.defaultChild);
  }

  get distributionId(): string {
    return this.id(this.dashboard.distribution.node.defaultChild);
  }

  get distributionConfig(): DistributionConfig {
    return this.resource(this.distributionId).Properties.DistributionConfig as DistributionConfig;
  }

  behavior(pathPattern: string): CacheBehavior {
    const behavior = this.distributionConfig.CacheBehaviors.find(
      (candidate) => candidate.PathPattern === pathPattern,
    );
    if (!behavior) throw new Error(`no cache behaviour for ${pathPattern}`);
    return behavior;
  }

  origin(id: string): Origin {
    const origin = this.distributionConfig.Origins.find((candidate) => candidate.Id === id);
    if (!origin) throw new Error(`no origin ${id}`);
    return origin;
  }

  ofType(type: string): [string, Resource][] {
    return Object.entries(this.resources).filter(([, resource]) => resource.Type === type);
  }

  /** The one resource of `type`. */
  only(type: string): [string, Resource] {
    const found = this.ofType(type);
    if (found.length !== 1 || !found[0]) throw new Error(`${found.length} resources of type ${type}`);
    return found[0];
  }

  /** The policy of the dashboard bucket. */
  bucketPolicy(): Statement[] {
    const policy = this.ofType('AWS::S3::BucketPolicy').find(
      ([, candidate]) =>
        JSON.stringify(candidate.Properties.Bucket) === JSON.stringify({ Ref: this.bucketId }),
    );
    if (!policy) throw new Error('no policy on the dashboard bucket');
    return statementsOf(policy[1]);
  }
}

/**
 * Evaluates the Fn::Select / Fn::Split expression CloudFormation makes of `value`, with `GetAtt` answering
 * the attributes named in `attributes` (`<logical id>.<attribute>`).
 */
function evaluate(value: unknown, attributes: Record<string, string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const [[fn, args]] = Object.entries(value) as [[string, unknown[]]];
  if (fn === 'Fn::GetAtt') return attributes[(args as string[]).join('.')];
  if (fn === 'Fn::Split') return String(evaluate(args[1], attributes)).split(String(args[0]));
  if (fn === 'Fn::Select') return (evaluate(args[1], attributes) as unknown[])[Number(args[0])];
  throw new Error(`cannot evaluate ${fn}`);
}

/** Runs the SPA routing function of the distribution on a viewer request for `uri`; the URI it passes on. */
function routedUri(under: DashboardUnderTest, uri: string): string {
  const [, fn] = under.only('AWS::CloudFront::Function');
  const handler = new Function(`${fn.Properties.FunctionCode}\nreturn handler;`)() as (event: unknown) => {
    uri: string;
  };
  return handler({ request: { uri, method: 'GET', headers: {} } }).uri;
}

describe('ConvoyDashboard in the stack of each region', () => {
  let stacks: DashboardUnderTest[];

  beforeAll(() => {
    const { stacks: built } = buildTestApp(['us-east-1', 'eu-west-1'], { bundling: false });
    stacks = built.map((stack: ConvoyStack) => new DashboardUnderTest(stack, stack.dashboard));
  }, SYNTH_TIMEOUT_MS);

  it('is in every region, each distribution in front of its own region’s HTTP API', () => {
    expect(stacks.map(({ stack }) => stack.region)).toEqual(['us-east-1', 'eu-west-1']);
    for (const under of stacks) {
      // Act
      const apiId = under.id((under.stack as ConvoyStack).httpApi.api.node.defaultChild);
      const apiOrigin = under.origin(under.behavior('/v1/*').TargetOriginId);
      const endpoint = `https://a1b2c3.execute-api.${under.stack.region}.amazonaws.com`;

      // Assess
      under.template.resourceCountIs('AWS::CloudFront::Distribution', 1);
      expect(evaluate(apiOrigin.DomainName, { [`${apiId}.ApiEndpoint`]: endpoint })).toBe(
        `a1b2c3.execute-api.${under.stack.region}.amazonaws.com`,
      );
      expect(apiOrigin.CustomOriginConfig).toMatchObject({
        OriginProtocolPolicy: 'https-only',
        OriginSSLProtocols: ['TLSv1.2'],
      });
    }
  });

  it('keeps the bucket private, encrypted and reachable over TLS only', () => {
    for (const under of stacks) {
      // Act
      const bucket = under.resource(under.bucketId);
      const statements = under.bucketPolicy();

      // Assess
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
      expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      );
      // Nobody but this distribution may read it: no public principal is allowed anything.
      const allowed = statements.filter((statement) => statement.Effect === 'Allow');
      expect(allowed.map((statement) => statement.Principal)).toEqual([
        { Service: 'cloudfront.amazonaws.com' },
      ]);
    }
  });

  it('reads the bucket through origin access control, for this distribution only', () => {
    for (const under of stacks) {
      // Act
      const [oacId, oac] = under.only('AWS::CloudFront::OriginAccessControl');
      const s3Origin = under.origin(under.distributionConfig.DefaultCacheBehavior.TargetOriginId);
      const cloudFrontRead = under.bucketPolicy().find((statement) => statement.Effect === 'Allow');

      // Assess
      expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      });
      expect(s3Origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
      expect(s3Origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
      expect(cloudFrontRead).toMatchObject({ Action: 's3:GetObject' });
      expect(JSON.stringify(cloudFrontRead?.Condition)).toContain(under.distributionId);
    }
  });

  it.each(['/v1/*', '/mcp'])(
    'sends %s to the API with every method, no caching, and every viewer header but Host (Authorization too)',
    (path) => {
      for (const under of stacks) {
        // Act
        const behavior = under.behavior(path);

        // Assess
        expect(behavior).toMatchObject({
          ViewerProtocolPolicy: 'redirect-to-https',
          CachePolicyId: CACHING_DISABLED,
          OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
        });
        expect(behavior.AllowedMethods?.sort()).toEqual(
          ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'].sort(),
        );
        expect(behavior.TargetOriginId).toBe(under.behavior('/v1/*').TargetOriginId);
        expect(behavior.TargetOriginId).not.toBe(
          under.distributionConfig.DefaultCacheBehavior.TargetOriginId,
        );
      }
    },
  );

  it('serves the app from the bucket over HTTPS, cached, for GET and HEAD', () => {
    for (const under of stacks) {
      // Act
      const behavior = under.distributionConfig.DefaultCacheBehavior as CacheBehavior;

      // Assess
      expect(behavior).toMatchObject({
        ViewerProtocolPolicy: 'redirect-to-https',
        CachePolicyId: CACHING_OPTIMIZED,
      });
      expect(behavior.AllowedMethods ?? ['GET', 'HEAD']).toEqual(['GET', 'HEAD']);
      expect(under.distributionConfig.DefaultRootObject).toBe('index.html');
    }
  });

  it("answers the app's client routes with index.html, and leaves its files and the API's errors alone", () => {
    for (const under of stacks) {
      // Assess
      expect(routedUri(under, '/')).toBe('/index.html');
      expect(routedUri(under, '/board')).toBe('/index.html');
      // A route may name a metric, whose name has dots.
      expect(routedUri(under, '/progress/coverage.unit')).toBe('/index.html');
      expect(routedUri(under, '/assets/index-3f2a1b.js')).toBe('/assets/index-3f2a1b.js');
      expect(routedUri(under, '/favicon.svg')).toBe('/favicon.svg');
      // Error responses are distribution-wide: they would turn the API's 403 and 404 into the app with 200.
      expect(under.distributionConfig.CustomErrorResponses).toBeUndefined();
      expect(under.distributionConfig.DefaultCacheBehavior.FunctionAssociations).toEqual([
        expect.objectContaining({ EventType: 'viewer-request' }),
      ]);
    }
  });

  it('sends HSTS, nosniff, frame DENY, no referrer and the strict CSP with every response', () => {
    for (const under of stacks) {
      // Act
      const [policyId, policy] = under.only('AWS::CloudFront::ResponseHeadersPolicy');
      const behaviors = [
        under.distributionConfig.DefaultCacheBehavior as CacheBehavior,
        under.behavior('/v1/*'),
        under.behavior('/mcp'),
      ];

      // Assess
      expect(policy.Properties.ResponseHeadersPolicyConfig).toHaveProperty('SecurityHeadersConfig', {
        StrictTransportSecurity: {
          AccessControlMaxAgeSec: 63_072_000,
          IncludeSubdomains: true,
          Override: true,
        },
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
        ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
        ContentSecurityPolicy: { ContentSecurityPolicy: CSP, Override: true },
      });
      for (const behavior of behaviors) expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    }
  });

  it('outputs the dashboard URL', () => {
    for (const under of stacks) {
      // Assess
      under.template.hasOutput('DashboardUrl', {
        Value: {
          'Fn::Join': [
            '',
            [
              'https://',
              { 'Fn::GetAtt': [under.id(under.dashboard.distribution.node.defaultChild), 'DomainName'] },
              '/',
            ],
          ],
        },
      });
    }
  });

  it('deploys the hashed assets as immutable before index.html, which is revalidated and invalidated', () => {
    for (const under of stacks) {
      // Act
      const deployments = under.ofType('Custom::CDKBucketDeployment');
      const [assetsId, assets] = deployments.find(([, d]) => d.Properties.Include) ?? [];
      const [, shell] = deployments.find(([, d]) => !d.Properties.Include) ?? [];

      // Assess
      expect(deployments).toHaveLength(2);
      expect(assets?.Properties).toMatchObject({
        Include: ['assets/*'],
        Prune: false,
        RetainOnDelete: false,
        SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
      });
      expect(shell?.Properties).toMatchObject({
        Exclude: ['assets/*'],
        Prune: false,
        RetainOnDelete: false,
        SystemMetadata: { 'cache-control': 'no-cache' },
        DistributionId: { Ref: under.id(under.dashboard.distribution.node.defaultChild) },
      });
      expect(shell?.DependsOn).toEqual(expect.arrayContaining([assetsId]));
    }
  });

  it('lets the deployment invalidate this distribution only and write this bucket only, with no managed policy', () => {
    for (const under of stacks) {
      // Act
      const functions = under
        .ofType('AWS::Lambda::Function')
        .filter(([id]) => id.startsWith('CustomCDKBucketDeployment'));
      expect(functions, 'one function serves both deployments').toHaveLength(1);
      const [fnId, fn] = functions[0] as [string, Resource];
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const statements = under
        .ofType('AWS::IAM::Policy')
        .filter(([, policy]) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap(([, policy]) => statementsOf(policy));
      const distributionArn = under.stack.resolve(under.dashboard.distribution.distributionArn);

      // Assess
      expect(under.resource(roleId).Properties.ManagedPolicyArns, fnId).toBeUndefined();
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
          Resource: distributionArn,
        }),
      );
      expect(statements.filter((statement) => [statement.Resource].flat().includes('*'))).toEqual([]);
      expect(
        statements
          .flatMap((statement) => [statement.Resource].flat())
          .filter((r) => JSON.stringify(r).includes('/*')),
      ).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [under.bucketId, 'Arn'] }, '/*']] }]);
    }
  });
});

describe('ConvoyDashboard before and after npm run build', () => {
  function dashboardOf(buildDirectory: string): DashboardUnderTest {
    const stack = new Stack(new App({ outdir: tempDir('convoy-dashboard-test-') }), 'Dashboard', {
      env: { region: 'us-east-1' },
    });
    const dashboard = new ConvoyDashboard(stack, 'Dashboard', {
      httpApi: new HttpApi(stack, 'Api'),
      buildDirectory,
    });
    return new DashboardUnderTest(stack, dashboard);
  }

  it('deploys a page saying to run npm run build when the dashboard was not built, and warns', () => {
    // Act
    const under = dashboardOf(tempDir('convoy-no-dashboard-'));

    // Assess
    expect(under.dashboard.placeholder).toBe(true);
    expect(under.dashboard.directory).toBe(DASHBOARD_PLACEHOLDER_DIR);
    expect(readFileSync(join(DASHBOARD_PLACEHOLDER_DIR, 'index.html'), 'utf8')).toContain('npm run build');
    expect(
      under.dashboard.node.metadata
        .map(({ data }) => String(data))
        .filter((text) => text.includes('npm run build')),
    ).toHaveLength(1);
    under.template.resourceCountIs('Custom::CDKBucketDeployment', 2);
  });

  it('deploys the build once it has an index.html', () => {
    // Prepare
    const build = tempDir('convoy-dashboard-build-');
    mkdirSync(join(build, 'assets'));
    writeFileSync(
      join(build, 'index.html'),
      '<!doctype html><script type="module" src="/assets/app.js"></script>',
    );
    writeFileSync(join(build, 'assets', 'app.js'), 'export {};');

    // Act
    const under = dashboardOf(build);

    // Assess
    expect(under.dashboard.placeholder).toBe(false);
    expect(under.dashboard.directory).toBe(build);
    expect(under.dashboard.node.metadata.filter(({ type }) => type === 'aws:cdk:warning')).toEqual([]);
    under.template.hasResourceProperties('Custom::CDKBucketDeployment', { Include: ['assets/*'] });
  });
});
