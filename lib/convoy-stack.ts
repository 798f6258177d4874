import { CfnOutput, Stack, type StackProps, Tags, Token } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { ConvoyHttpApi } from './constructs/http-api.js';
import { StateTable } from './constructs/state-table.js';

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

  constructor(scope: Construct, id: string, props: ConvoyStackProps) {
    // Stack tags reach resources CloudFormation creates outside the template; Tags.of covers the
    // template itself, including the table's replicas in other regions.
    super(scope, id, { ...props, tags: { ...props.tags, ...CONVOY_TAGS } });

    if (Token.isUnresolved(this.region)) {
      throw new Error(
        `ConvoyStack ${id} needs an explicit env.region: the state table's replicas are per region`,
      );
    }
    const primaryRegion = props.primaryRegion ?? this.region;
    const replicaRegions = props.replicaRegions ?? [];
    if (replicaRegions.includes(primaryRegion)) {
      throw new Error(
        `ConvoyStack ${id}: replicaRegions must not contain the primary region ${primaryRegion}`,
      );
    }
    if (this.region !== primaryRegion && !replicaRegions.includes(this.region)) {
      throw new Error(
        `ConvoyStack ${id} is in ${this.region}, which is neither the primary region (${primaryRegion}) ` +
          `nor a replica region (${replicaRegions.join(', ') || 'none'})`,
      );
    }

    this.isPrimary = this.region === primaryRegion;
    this.table = this.isPrimary
      ? new StateTable(this, 'StateTable', { replicaRegions }).table
      : StateTable.fromReplica(this, 'StateTable');

    new CfnOutput(this, 'StateTableName', {
      description: 'Name of the coordination state table (the same in every region)',
      value: this.table.tableName,
    });

    this.httpApi = new ConvoyHttpApi(this, 'HttpApi', {
      table: this.table,
      domainName: props.apiDomainName,
      certificateArn: props.apiCertificateArn,
    });
    new CfnOutput(this, 'ApiUrl', {
      description: "URL of the HTTP API's execute-api endpoint in this region",
      value: this.httpApi.url,
    });
    if (this.httpApi.domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `Regional endpoint to point the DNS record of ${props.apiDomainName} at`,
        value: this.httpApi.domainName.regionalDomainName,
      });
    }

    for (const [key, value] of Object.entries(CONVOY_TAGS)) {
      Tags.of(this).add(key, value);
    }
  }
}
