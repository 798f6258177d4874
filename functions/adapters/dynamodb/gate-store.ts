import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DomainEvent } from '../../core/domain-events.js';
import { VersionConflictError } from '../../core/errors.js';
import type { GateDecision } from '../../core/gates/decision.js';
import type { GateState } from '../../core/gates/state.js';
import type { GateStore } from '../../core/ports.js';
import { domainEventPut, strip, transactWrite } from './items.js';
import { keys } from './keys.js';

/** Gate state and decisions in the coordination table: one partition per project (keys.ts). */
export class DynamoDbGateStore implements GateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getGate(project: string, gate: string): Promise<GateState | undefined> {
    const response = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.gateState(project, gate), ConsistentRead: true }),
    );
    return response.Item ? strip<GateState>(response.Item) : undefined;
  }

  async listGates(project: string): Promise<GateState[]> {
    const response = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :state)',
        ExpressionAttributeValues: { ':pk': keys.gates(project), ':state': 'STATE#' },
        ConsistentRead: true,
      }),
    );
    return (response.Items ?? []).map((item) => strip<GateState>(item));
  }

  async saveGate(project: string, next: GateState, expectedVersion: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.gateState(project, next.gate), ...next },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') throw new VersionConflictError();
      throw error;
    }
  }

  async recordGateDecision(
    project: string,
    decision: GateDecision,
    evaluation: number,
    published: readonly DomainEvent[] = [],
  ): Promise<void> {
    const put = {
      TableName: this.tableName,
      Item: { ...keys.gateDecision(project, decision.gate, decision.attempt, evaluation), ...decision },
    };
    if (published.length === 0) {
      await this.client.send(new PutCommand(put));
      return;
    }
    // The decision and its events in one transaction: a process that stops afterwards loses neither.
    await transactWrite(this.client, [
      { Put: put },
      ...published.map((event) => domainEventPut(this.tableName, event)),
    ]);
  }

  async gateDecisions(project: string, gate: string, limit: number): Promise<GateDecision[]> {
    const response = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :decisions)',
        ExpressionAttributeValues: { ':pk': keys.gates(project), ':decisions': `DECISION#${gate}#` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (response.Items ?? []).map((item) => strip<GateDecision>(item));
  }
}
