import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, type ITableV2, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  DEFAULT_TABLE_NAME,
  GSI1_NAME,
  GSI1_PARTITION_KEY,
  GSI1_SORT_KEY,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/adapters/dynamodb/table-definition.js';

/** Physical name of the coordination state table; see {@link DEFAULT_TABLE_NAME}. */
export const STATE_TABLE_NAME = DEFAULT_TABLE_NAME;

/** Name of the general-purpose global secondary index (`gsi1pk` / `gsi1sk`). */
export const STATE_TABLE_GSI1 = GSI1_NAME;

/** Attribute DynamoDB reads to expire items (epoch seconds). */
export const STATE_TABLE_TTL_ATTRIBUTE = TTL_ATTRIBUTE;

/** Properties of {@link StateTable}. */
export interface StateTableProps {
  /**
   * Regions, other than the stack's own, that get a replica of the table.
   *
   * @default - no replicas: a single-region table
   */
  readonly replicaRegions?: readonly string[];

  /**
   * What happens to the table (and every replica) when it leaves the stack.
   * Coordination state is the only record of a plan's progress, so it is kept by default.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether deletion protection is on for the table and every replica.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The coordination state table: one single-table-design DynamoDB global table
 * (`pk` / `sk` plus index `gsi1`), on-demand, with point-in-time recovery, TTL on
 * `expiresAt`, a stream (new and old images) the publisher reads, and one replica per extra region.
 *
 * Create it once, in the primary region's stack; stacks in replica regions use
 * {@link StateTable.fromReplica} to reach their local replica.
 */
export class StateTable extends Construct {
  /**
   * References the replica of the state table in the region of the stack that `scope` belongs to.
   * Grants on the result cover the table's indexes too.
   */
  static fromReplica(scope: Construct, id: string): ITableV2 {
    return TableV2.fromTableAttributes(scope, id, {
      tableName: STATE_TABLE_NAME,
      globalIndexes: [STATE_TABLE_GSI1],
    });
  }

  /** The global table; its replicas share its name. */
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);

    const deletionProtection = props.deletionProtection ?? true;
    this.table = new TableV2(this, 'Table', {
      tableName: STATE_TABLE_NAME,
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: STATE_TABLE_TTL_ATTRIBUTE,
      // The publisher reads the domain events from the stream (a global table replicates through it too).
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: STATE_TABLE_GSI1,
          partitionKey: { name: GSI1_PARTITION_KEY, type: AttributeType.STRING },
          sortKey: { name: GSI1_SORT_KEY, type: AttributeType.STRING },
        },
      ],
      replicas: (props.replicaRegions ?? []).map((region) => ({ region })),
    });
  }
}
