import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, type CfnElement, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { DASHBOARD_CSP } from '../../functions/local/static-files.js';
import { REPO_ROOT } from '../bundling/lambda-bundle.js';

/** Where `npm run build` writes the dashboard (index.html and content-hashed files under assets/). */
export const DASHBOARD_BUILD_DIR = join(REPO_ROOT, 'dist', 'dashboard');

/** The page deployed instead of the dashboard when it was not built: it says to run `npm run build`. */
export const DASHBOARD_PLACEHOLDER_DIR = join(REPO_ROOT, 'lib', 'dashboard-placeholder');

/** The paths CloudFront sends to the HTTP API rather than to the bucket. */
export const DASHBOARD_API_PATHS = ['/v1/*', '/mcp'] as const;

/**
 * Viewer-request function of the bucket's behaviour: a client route of the single-page app (any path that is
 * neither under /assets/ nor a file at the root such as /favicon.svg) gets index.html, which routes it. A
 * function rather than the distribution's custom error responses, which would apply to the API's paths too
 * and turn its 403 and 404 answers into the app's page with a 200.
 */
const SPA_ROUTING_CODE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.indexOf('/assets/') === 0) return request;
  if (uri.lastIndexOf('/') === 0 && uri.indexOf('.') > 0) return request;
  request.uri = '/index.html';
  return request;
}`;

/** Properties of {@link ConvoyDashboard}. */
export interface ConvoyDashboardProps {
  /** The HTTP API the distribution forwards `/v1/*` and `/mcp` to, at its execute-api endpoint. */
  readonly httpApi: IHttpApi;

  /**
   * The built dashboard to deploy: a directory with index.html.
   *
   * @default DASHBOARD_BUILD_DIR (dist/dashboard), or the placeholder page when it has no index.html
   */
  readonly buildDirectory?: string;

  /**
   * How long the deployment function's logs are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The deployed dashboard: a private bucket holding the built single-page app, behind a CloudFront distribution
 * that reads it through origin access control and forwards the API's paths (`/v1/*`, `/mcp`) to the HTTP API,
 * uncached and with every viewer header but Host (so `Authorization` too). The app and the API thus share one
 * origin, which needs no CORS. Every response carries HSTS, nosniff, frame DENY, no referrer and the
 * Content-Security-Policy `convoy dev` sends too (`DASHBOARD_CSP`, functions/local/static-files.ts): no inline
 * script, inline styles only because uPlot sets them.
 *
 * Two bucket deployments copy the build: the content-hashed files under assets/ first, cached for a year as
 * immutable, then the rest (index.html) with `no-cache`, after which the distribution is invalidated. Old
 * assets are kept (no pruning), so a dashboard opened before a deployment keeps loading until it reloads.
 */
export class ConvoyDashboard extends Construct {
  /** The bucket holding the built app; only CloudFront reads it and only the deployment writes it. */
  readonly bucket: Bucket;

  /** The distribution serving the app at `/` and the API at `/v1/*` and `/mcp`. */
  readonly distribution: Distribution;

  /** The security headers of every response, the Content-Security-Policy among them. */
  readonly responseHeadersPolicy: ResponseHeadersPolicy;

  /** Whether the placeholder page is deployed because the dashboard was not built. */
  readonly placeholder: boolean;

  /** The directory deployed to the bucket: the build, or {@link DASHBOARD_PLACEHOLDER_DIR}. */
  readonly directory: string;

  /** The dashboard's URL: `https://<distribution domain>/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConvoyDashboardProps) {
    super(scope, id);
    // A build output, rebuilt from the repository at any time: no versions to keep, and nothing to retain
    // once the stack is gone (the deployments empty it on deletion, before CloudFormation deletes it).
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    NagSuppressions.addResourceSuppressions(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'The bucket holds only the built dashboard, which is public code with no data: it is written only by ' +
          "the stack's deployment and read only by CloudFront through origin access control; every API call " +
          "the dashboard makes is logged by the API stage's access log",
      },
    ]);

    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Convoy dashboard: HSTS, nosniff, frame DENY, no referrer, strict CSP',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: DASHBOARD_CSP, override: true },
      },
    });

    const apiBehavior: BehaviorOptions = {
      origin: new HttpOrigin(Fn.parseDomainName(props.httpApi.apiEndpoint), {
        protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [OriginSslPolicy.TLS_V1_2],
      }),
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      // Host would name the distribution, which API Gateway does not serve; Authorization is forwarded.
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.responseHeadersPolicy,
    };
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Convoy dashboard (${Stack.of(this).region})`,
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        responseHeadersPolicy: this.responseHeadersPolicy,
        functionAssociations: [
          {
            eventType: FunctionEventType.VIEWER_REQUEST,
            function: new EdgeFunction(this, 'SpaRouting', {
              comment: 'Client routes of the Convoy dashboard get index.html',
              runtime: FunctionRuntime.JS_2_0,
              code: FunctionCode.fromInline(SPA_ROUTING_CODE),
            }),
          },
        ],
      },
      additionalBehaviors: Object.fromEntries(DASHBOARD_API_PATHS.map((path) => [path, apiBehavior])),
    });
    this.suppressDistributionFindings();
    this.url = `https://${this.distribution.distributionDomainName}/`;

    const build = props.buildDirectory ?? DASHBOARD_BUILD_DIR;
    this.placeholder = !existsSync(join(build, 'index.html'));
    if (this.placeholder) {
      Annotations.of(this).addWarningV2(
        'convoy:dashboardNotBuilt',
        `${build} has no index.html: deploying a page that says to build the dashboard. ` +
          'Run npm run build before cdk deploy.',
      );
    }
    this.directory = this.placeholder ? DASHBOARD_PLACEHOLDER_DIR : build;
    this.deploy(this.directory, props.logRetention);
  }

  /**
   * Copies `directory` to the bucket with two deployments sharing one function, whose role may do exactly what
   * they need (CDK's own grants would add an AWS managed policy and cloudfront:CreateInvalidation on "*").
   */
  private deploy(directory: string, logRetention = RetentionDays.ONE_MONTH): void {
    const source = new Asset(this, 'Build', { path: directory });
    const logGroup = new LogGroup(this, 'DeploymentLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'DeploymentRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies the built Convoy dashboard to its bucket and invalidates the distribution',
    });
    const policy = new Policy(this, 'DeploymentPolicy', {
      roles: [role],
      statements: [
        new PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [source.bucket.arnForObjects(source.s3ObjectKey)],
        }),
        new PolicyStatement({
          actions: ['s3:ListBucket', 's3:GetBucketTagging'],
          resources: [this.bucket.bucketArn],
        }),
        new PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [this.bucket.arnForObjects('*')],
        }),
        new PolicyStatement({
          actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
          resources: [this.distribution.distributionArn],
        }),
      ],
    });
    NagSuppressions.addResourceSuppressions(policy, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'The deployment function syncs the build into the dashboard bucket, whose only content it is: it ' +
          'writes and deletes objects of that bucket whatever their names',
        appliesTo: [
          `Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/*`,
        ],
      },
    ]);

    const common = {
      sources: [Source.bucket(source.bucket, source.s3ObjectKey)],
      destinationBucket: this.bucket,
      // The grants above stand for the ones BucketDeployment would add to a role it may change.
      role: role.withoutPolicyUpdates(),
      logGroup,
      prune: false,
      retainOnDelete: false,
    };
    const assets = new BucketDeployment(this, 'DeployAssets', {
      ...common,
      exclude: ['*'],
      include: ['assets/*'],
      cacheControl: [
        CacheControl.setPublic(),
        CacheControl.maxAge(Duration.days(365)),
        CacheControl.immutable(),
      ],
    });
    const shell = new BucketDeployment(this, 'DeployShell', {
      ...common,
      exclude: ['assets/*'],
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
    // The new index.html goes out only once the files it names are there.
    shell.node.addDependency(assets);
    for (const deployment of [assets, shell]) deployment.node.addDependency(policy);
    this.suppressDeploymentFunctionFindings(shell);
  }

  private suppressDistributionFindings(): void {
    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'No geo restriction: the people steering a convoy work from anywhere, and every API call needs a ' +
          'Convoy token; the static files are public code',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          "No WAF web ACL: the API behind /v1 and /mcp authenticates every call with a token and the stage's " +
          'throttling caps the request rate; the static files are public code. A web ACL can be attached ' +
          'to the distribution (in us-east-1) without changing the stack',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          "No CloudFront access logs: the requests that matter, /v1 and /mcp, are logged by the API stage's " +
          'access log (the same requests, forwarded); the rest fetch the public static files of the app',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'No custom domain, so the distribution uses the default *.cloudfront.net certificate, whose security ' +
          'policy CloudFront fixes at TLSv1 (a minimum protocol version needs a custom certificate); browsers ' +
          'negotiate TLS 1.2 or 1.3, HSTS keeps them on HTTPS, and the origins are reached over TLS 1.2',
      },
    ]);
  }

  /** The deployment function is CDK's singleton at the stack's root. */
  private suppressDeploymentFunctionFindings(deployment: BucketDeployment): void {
    const stack = Stack.of(this);
    const fn = stack.node.children.find(
      (child) => child.node.id.startsWith('Custom::CDKBucketDeployment') && child !== deployment,
    );
    if (!fn) throw new Error(`no bucket deployment function found in ${stack.stackName}`);
    NagSuppressions.addResourceSuppressions(
      fn,
      [
        {
          id: 'AwsSolutions-L1',
          reason:
            "CDK's bucket deployment function runs the Python version its handler and AWS CLI layer are built " +
            'for; it runs only during a deployment, never on a request',
        },
      ],
      true,
    );
  }
}
