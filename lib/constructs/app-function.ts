import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { SERVICE_NAME_ENV, TABLE_NAME_ENV } from '../../functions/handlers/env-names.js';
import { entryOf, LAMBDA_BUNDLE, REPO_ROOT } from '../bundling/lambda-bundle.js';

/** How much of the state table a function may touch. */
export type TableAccess = 'read' | 'readwrite';

/** Properties of {@link AppFunction}. */
export interface AppFunctionProps {
  /**
   * The entry point: `functions/handlers/<entryName>.ts`, which must export `handler`.
   */
  readonly entryName: string;

  /**
   * Description of the function.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * Memory, in MB; Lambda allocates CPU in proportion to it.
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * The longest one invocation may run.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * Extra environment variables, set over the house ones.
   *
   * @default - only `POWERTOOLS_SERVICE_NAME` and `NODE_OPTIONS` (and `CONVOY_TABLE_NAME` once bound)
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * How long the function's logs are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;

  /**
   * Concurrent executions set aside for this function, which are also the most it may run at once.
   *
   * @default - no reservation: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Whether the function draws report charts: the chart renderer needs its font beside the bundle
   * (`locateFont` in functions/adapters/chart/burndown-png.ts looks there first).
   *
   * @default false
   */
  readonly drawsCharts?: boolean;
}

/** The font report charts are drawn with, copied beside the bundle of a function that draws them. */
export const CHART_FONT = join('node_modules', 'dejavu-fonts-ttf', 'ttf', 'DejaVuSans.ttf');

/**
 * A Convoy Lambda function with the house defaults: Node.js 22 on ARM64, an ESM bundle built by the
 * locally installed esbuild (minified, with source maps, the AWS SDK left to the runtime), X-Ray
 * tracing, its own log group with a retention period, and an execution role that may write to that log
 * group only.
 *
 * The log group and the role are created next to the function, in `scope`, as `<id>LogGroup` and
 * `<id>ServiceRole`: a function constructor cannot create children before calling `super`. Passing the group
 * in avoids the log group Lambda would otherwise create with no retention; passing the role in replaces the
 * AWS managed `AWSLambdaBasicExecutionRole`, which may create and write to every log group of the account.
 * Like any CDK log group, the log group is retained when it leaves the stack.
 *
 * Grant table access with {@link AppFunction.bindTable}, which also tells the function the table's name.
 */
export class AppFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    const role = new Role(scope, `${id}ServiceRole`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: entryOf(props.entryName),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        [SERVICE_NAME_ENV]: 'convoy',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        // Synth must work offline with no Docker: CDK bundles with the project's own esbuild (installed
        // with tsx) and would only fall back to a Docker image if it could not find one.
        forceDockerBundling: false,
        // The settings of lib/bundling/lambda-bundle.ts, which bench/bundles.bench.ts builds with too.
        format: OutputFormat.ESM,
        target: LAMBDA_BUNDLE.target,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        banner: LAMBDA_BUNDLE.banner,
        minify: LAMBDA_BUNDLE.minify,
        sourceMap: LAMBDA_BUNDLE.sourcemap,
        sourcesContent: LAMBDA_BUNDLE.sourcesContent,
        externalModules: [...LAMBDA_BUNDLE.external],
        esbuildArgs: {
          '--alias': Object.entries(LAMBDA_BUNDLE.alias).map(([from, to]) => `${from}=${to}`),
        },
        ...(props.drawsCharts
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [
                  `cp "${join(inputDir, CHART_FONT)}" "${outputDir}/"`,
                ],
              },
            }
          : {}),
      },
    });

    NagSuppressions.addResourceSuppressions(this, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Convoy runs on Node.js 22, the runtime its design fixes and its bundles target (node22); it is a ' +
          'supported Lambda runtime, and moving to a newer one is a deliberate, tested upgrade',
      },
    ]);
    // Tracing.ACTIVE put the X-Ray statement in the role's default policy, which exists from here on.
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'xray:PutTraceSegments and xray:PutTelemetryRecords, which active tracing needs, support no ' +
            'resource-level permissions: X-Ray requires Resource "*"',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  /**
   * Lets the function use `table` with the least privilege `access` needs (data-plane actions on the table
   * and its indexes only) and passes the table's name in `CONVOY_TABLE_NAME`.
   */
  bindTable(table: ITableV2, access: TableAccess): void {
    if (access === 'readwrite') {
      table.grantReadWriteData(this);
    } else {
      table.grantReadData(this);
    }
    this.addEnvironment(TABLE_NAME_ENV, table.tableName);
    if (this.role) {
      NagSuppressions.addResourceSuppressions(
        this.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              "CDK's table grants cover the table's global secondary indexes as <table ARN>/index/*: the " +
              "wildcard reaches this one table's indexes only (the state table has one, gsi1), with the same " +
              `${access === 'read' ? 'read' : 'read and write'} data actions as the table itself`,
            appliesTo: [
              {
                regex: String.raw`/^Resource::(<[A-Za-z0-9]+\.Arn>|arn:[^:]+:dynamodb:[^:]+:(\d{12}|<AWS::AccountId>):table\/[^/]+)\/index\/\*$/`,
              },
            ],
          },
        ],
        true,
      );
    }
  }
}
