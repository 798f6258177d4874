import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConvoyStack } from '../../lib/convoy-stack.js';
import { buildTestApp, SYNTH_TIMEOUT_MS } from './convoy-test-app.js';

interface GlobalTableReplica {
  readonly Region: string;
  readonly DeletionProtectionEnabled?: boolean;
  readonly PointInTimeRecoverySpecification?: { readonly PointInTimeRecoveryEnabled?: boolean };
}

function onlyGlobalTable(template: Template): { Properties: { Replicas: GlobalTableReplica[] } } {
  const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
  expect(tables).toHaveLength(1);
  return tables[0] as { Properties: { Replicas: GlobalTableReplica[] } };
}

describe('StateTable', () => {
  describe('in a two-region app', () => {
    let primaryStack: ConvoyStack;
    let secondaryStack: ConvoyStack;
    let primary: Template;
    let secondary: Template;

    // Synthesis is the slow part, so the app is built once and every test reads the same templates.
    beforeAll(() => {
      const { stacks } = buildTestApp(['us-east-1', 'eu-west-1'], { bundling: false });
      [primaryStack, secondaryStack] = stacks as [ConvoyStack, ConvoyStack];
      primary = Template.fromStack(primaryStack);
      secondary = Template.fromStack(secondaryStack);
    }, SYNTH_TIMEOUT_MS);

    it('creates one on-demand global table with the fixed name and keys when the stack is primary', () => {
      // Assess
      expect(primaryStack.isPrimary).toBe(true);
      primary.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      primary.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: 'convoy-state',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
          }),
        ],
      });
    });

    it('expires items through expiresAt when TTL is read by DynamoDB', () => {
      // Assess
      primary.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    it("streams every write, so the primary region's publisher delivers the domain events written in any region", () => {
      // Assess
      primary.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      });
      const fromStream = (template: Template) =>
        Object.keys(
          template.findResources('AWS::Lambda::EventSourceMapping', {
            Properties: { StartingPosition: 'TRIM_HORIZON' },
          }),
        );
      expect(fromStream(primary)).toHaveLength(1);
      expect(fromStream(secondary)).toHaveLength(0);
      expect(primaryStack.publisher).toBeDefined();
      expect(secondaryStack.publisher).toBeUndefined();
    });

    it('keeps the table when it is removed from the stack or replaced', () => {
      // Assess
      primary.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('places a replica in both regions when two regions are configured', () => {
      // Act
      const { Properties } = onlyGlobalTable(primary);

      // Assess
      expect(Properties.Replicas.map((replica) => replica.Region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('enables point-in-time recovery and deletion protection on every replica when they are created', () => {
      // Act
      const { Properties } = onlyGlobalTable(primary);

      // Assess
      for (const replica of Properties.Replicas) {
        expect(replica, replica.Region).toMatchObject({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        });
      }
    });

    it('outputs the table name when the stack is primary', () => {
      // Assess
      primary.hasOutput('StateTableName', { Value: { Ref: Match.anyValue() } });
    });

    it('creates no table of its own when the stack is secondary', () => {
      // Assess
      expect(secondaryStack.isPrimary).toBe(false);
      secondary.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
      secondary.resourceCountIs('AWS::DynamoDB::Table', 0);
    });

    it('exposes the local replica by name when the stack is secondary', () => {
      // Assess
      expect(secondaryStack.table.tableName).toBe('convoy-state');
      expect(secondaryStack.table.env.region).toBe('eu-west-1');
      secondary.hasOutput('StateTableName', { Value: 'convoy-state' });
    });

    it('deploys after the primary stack when the stack is secondary', () => {
      // Assess
      expect(secondaryStack.dependencies).toContain(primaryStack);
      expect(primaryStack.dependencies).not.toContain(secondaryStack);
    });

    it('pins each stack to its region when the regions are configured', () => {
      // Assess
      expect([primaryStack.stackName, primaryStack.region]).toEqual(['Convoy-us-east-1', 'us-east-1']);
      expect([secondaryStack.stackName, secondaryStack.region]).toEqual(['Convoy-eu-west-1', 'eu-west-1']);
    });

    it('tags the table with project=convoy when the stacks are tagged', () => {
      // Act
      const { Properties } = onlyGlobalTable(primary);

      // Assess
      for (const replica of Properties.Replicas) {
        expect(replica, replica.Region).toMatchObject({ Tags: [{ Key: 'project', Value: 'convoy' }] });
      }
      expect(secondaryStack.tags.tagValues()).toEqual({ project: 'convoy' });
    });
  });

  describe('in the default single-region app', () => {
    let stacks: readonly ConvoyStack[];
    let appStacks: Stack[];
    let template: Template;

    beforeAll(() => {
      const built = buildTestApp(undefined, { bundling: false });
      stacks = built.stacks;
      appStacks = built.app.node.children.filter((child) => Stack.isStack(child));
      template = Template.fromStack(built.primary);
    }, SYNTH_TIMEOUT_MS);

    it('builds one stack in us-east-1 when convoy:regions is absent', () => {
      // Assess
      expect(appStacks).toHaveLength(1);
      expect(stacks.map((stack) => stack.stackName)).toEqual(['Convoy-us-east-1']);
    });

    it('keeps only the primary replica when no other region is configured', () => {
      // Act
      const { Properties } = onlyGlobalTable(template);

      // Assess
      expect(Properties.Replicas.map((replica) => replica.Region)).toEqual(['us-east-1']);
    });
  });
});

describe('buildConvoyApp', () => {
  it.each([
    ['a non-JSON string', 'us-east-1', /"convoy:regions".*JSON array/],
    ['an object', { primary: 'us-east-1' }, /"convoy:regions".*must be an array/],
    ['a number', 42, /"convoy:regions".*must be an array/],
    ['an empty array', [], /"convoy:regions".*at least one region/],
    ['an empty JSON array string', '[]', /"convoy:regions".*at least one region/],
    [
      'duplicate regions',
      ['us-east-1', 'eu-west-1', 'us-east-1'],
      /"convoy:regions".*us-east-1 more than once/,
    ],
    ['a non-string entry', ['us-east-1', 7], /"convoy:regions".*entry 1 is not a region name/],
    ['a malformed region name', ['us-east-1', 'Europe'], /"convoy:regions".*entry 1 is not a region name/],
  ])('throws a clear error when convoy:regions is %s', (_case, regions, message) => {
    // Act
    const build = () => buildTestApp(regions);

    // Assess
    expect(build).toThrow(message);
  });

  it('parses the value when convoy:regions arrives as a JSON string from the command line', () => {
    // Act
    const { stacks } = buildTestApp('["us-east-1","eu-west-1"]', { bundling: false });

    // Assess
    expect(stacks.map((stack) => stack.region)).toEqual(['us-east-1', 'eu-west-1']);
  });
});
