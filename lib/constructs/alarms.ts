import { Aws } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type CfnTopic, type CfnTopicPolicy, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Name of the SNS topic every Convoy alarm notifies, in every region. */
export const ALARM_TOPIC_NAME = 'convoy-alarms';

/**
 * The logical ids of the topic and its policy from when the integrations construct created them. The
 * topic has a fixed name, so a new logical id would make CloudFormation create a second
 * `convoy-alarms` (which fails) and drop the subscriptions operators added to it; a replaced topic
 * policy would be reset to SNS's default when CloudFormation deletes the old one.
 */
const TOPIC_LOGICAL_ID = 'IntegrationsAlarmTopic79C268EB';
const TOPIC_POLICY_LOGICAL_ID = 'IntegrationsAlarmTopicPolicy8F166382';

/** What one alarm watches. */
export interface ConvoyAlarmOptions {
  /** A count: of failed invocations or executions, or of messages waiting in a dead-letter queue. */
  readonly metric: IMetric;
  /** What went wrong and where to look, as the notification shows it. */
  readonly description: string;
  /** @default - a name CloudFormation makes up */
  readonly name?: string;
}

/**
 * Convoy's alarms in one region and the SNS topic they notify (`convoy-alarms`), which operators
 * subscribe to (docs/operations.md). Every alarm fires when its count is above zero in a 5-minute
 * period, treats no data as nothing wrong, and notifies the topic when it goes into alarm and when it
 * returns to OK. Constructs add their alarms with {@link add}.
 */
export class ConvoyAlarms extends Construct {
  /** The topic every alarm notifies. */
  readonly topic: Topic;

  private readonly action: SnsAction;
  private readonly added: Alarm[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Not encrypted at rest: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and alarm
    // notifications carry alarm names and states only.
    this.topic = new Topic(this, 'Topic', {
      topicName: ALARM_TOPIC_NAME,
      displayName: 'Convoy alarms',
      enforceSSL: true,
    });
    // The topic policy that enforceSSL attaches replaces SNS's default one, which let this account's alarms
    // publish; this statement restores that, and no more.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    (this.topic.node.defaultChild as CfnTopic).overrideLogicalId(TOPIC_LOGICAL_ID);
    const policy = this.topic.node.findChild('Policy').node.defaultChild as CfnTopicPolicy;
    policy.overrideLogicalId(TOPIC_POLICY_LOGICAL_ID);
    this.action = new SnsAction(this.topic);
  }

  /** Every alarm added so far, in the order added. */
  get alarms(): readonly Alarm[] {
    return this.added;
  }

  /**
   * An alarm on `options.metric` that notifies the topic. It is created in `scope` under `id`, next to
   * the resource it watches, so its place in the template does not depend on this construct.
   */
  add(scope: Construct, id: string, options: ConvoyAlarmOptions): Alarm {
    const alarm = new Alarm(scope, id, {
      ...(options.name ? { alarmName: options.name } : {}),
      metric: options.metric,
      alarmDescription: options.description,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means no messages or no invocations: nothing is wrong.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.added.push(alarm);
    return alarm;
  }
}
