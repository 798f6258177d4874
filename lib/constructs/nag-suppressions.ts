import { type CfnElement, Stack } from 'aws-cdk-lib';
import { type IRole, Role } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnSchedule, Schedule } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';

/**
 * Accepts cdk-nag's SQS3 finding on `queue`, which is itself a dead-letter queue (or a Lambda on-failure
 * destination): cdk-nag only recognizes a dead-letter queue when another queue's redrive policy names it.
 * `owner` says whose failures it keeps.
 */
export function acceptDeadLetterQueue(queue: IQueue, owner: string): void {
  NagSuppressions.addResourceSuppressions(queue, [
    {
      id: 'AwsSolutions-SQS3',
      reason:
        `This queue is the dead-letter queue of ${owner}, not a work queue, so a dead-letter queue of its own ` +
        'would have nothing to catch: no function consumes it, its messages wait for an operator, and an alarm ' +
        'on its depth calls one',
    },
  ]);
}

/**
 * Accepts cdk-nag's IAM5 finding on `<function ARN>:*` in the policies of `role`, from CDK's `grantInvoke`,
 * which lets the holder of `role` (`invoker`, the subject of the reason) invoke `fn` and its versions and
 * aliases. Call it after the grant: the suppression goes on the role's policies as they are then.
 */
export function acceptInvokeGrant(role: IRole, fn: IFunction, invoker: string): void {
  const logicalId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          `${invoker} may call lambda:InvokeFunction on one function only: CDK's grantInvoke names its ARN ` +
          'and <function ARN>:*, which covers the versions and aliases of that same function',
        appliesTo: [`Resource::<${logicalId}.Arn>:*`],
      },
    ],
    true,
  );
}

/**
 * The role EventBridge Scheduler assumes to invoke the target of `schedule`. The `aws-scheduler-targets`
 * library creates one per target at the stack's root, so the role is found by the ARN the schedule uses.
 */
export function schedulerRoleOf(schedule: Schedule): Role {
  const target = (schedule.node.defaultChild as CfnSchedule).target as CfnSchedule.TargetProperty;
  const role = Stack.of(schedule)
    .node.children.filter((child): child is Role => child instanceof Role)
    .find((candidate) => candidate.roleArn === target.roleArn);
  if (!role) throw new Error(`no role found for the target of the schedule ${schedule.node.path}`);
  return role;
}
