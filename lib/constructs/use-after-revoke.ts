import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqNotEmptyAlarm } from './dlq-alarm.ts';
import { EventToQueue } from './event-to-queue.ts';
import { QueueWithDlq } from './queue-with-dlq.ts';
import { SundownFunction } from './sundown-function.ts';

/** CloudTrail errorCode values of a refused call (lambdas/shared/schemas/use-after-revoke.ts). */
export const ACCESS_DENIED_CODES = ['AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation'];
const TIMEOUT = Duration.seconds(60);

export interface UseAfterRevokeProps {
  readonly encryptionKey: kms.IKey;
  readonly bus: events.IEventBus;
  readonly deliveryDlq: sqs.IQueue;
  readonly revocations: dynamodb.ITable;
  readonly audit: dynamodb.ITable;
  readonly environment: Record<string, string>;
  readonly windowMinutes: number;
  /** Rule state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS: read-only calls (Get, List, Describe) too. */
  readonly allManagementEvents: boolean;
  readonly alarmTopic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  /** `existing`: the stack cannot see whether a trail logs the region, so synth warns. */
  readonly cloudTrail: 'create' | 'existing';
}

/**
 * Use-after-revoke detection: CloudTrail access-denied events on the default bus -> the
 * UseAfterRevoke queue (with its DLQ) -> a function that alerts once per revoked session and
 * window: an audit record, a `Use After Revoke` event on Sundown's bus, a message on its own SNS
 * topic (own customer managed key) and the `UseAfterRevoke` metric, alarmed.
 *
 * Least privilege: Query on the revocations table (deny entries), UpdateItem there only on the
 * `use-after-revoke#…` counter partitions (dynamodb:LeadingKeys), the audit table, PutEvents on
 * Sundown's bus, Publish on its topic. No IAM, no STS.
 */
export class UseAfterRevoke extends Construct {
  readonly queue: QueueWithDlq;
  readonly fn: SundownFunction;
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly alarm: cloudwatch.Alarm;
  readonly dlqAlarm: cloudwatch.Alarm;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: UseAfterRevokeProps) {
    super(scope, id);
    const { account } = Stack.of(this);
    if (props.cloudTrail === 'existing') {
      Annotations.of(this).addWarningV2(
        'sundown:use-after-revoke-trail',
        'use-after-revoke alerts need a trail that logs management events in this region; `sundown status` checks it',
      );
    }

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Sundown: encrypts the use-after-revoke alert topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Sundown use-after-revoke alerts',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    // EventBridge rules of this account (e.g. a SIEM forwarding rule on the alert event) may use the key.
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeEncryptsToTopic',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );

    this.queue = new QueueWithDlq(this, 'Events', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: Duration.seconds(TIMEOUT.toSeconds() * 6),
    });
    const trigger = new EventToQueue(this, 'Triggers', {
      patterns: {
        AccessDenied: {
          source: events.Match.prefix('aws.'),
          detailType: ['AWS API Call via CloudTrail'],
          detail: { errorCode: ACCESS_DENIED_CODES },
        },
      },
      queue: this.queue.queue,
      deliveryDlq: props.deliveryDlq,
    });
    this.rule = trigger.rules[0] as events.Rule;
    if (props.allManagementEvents) {
      (this.rule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
    }

    this.fn = new SundownFunction(this, 'Function', {
      handlerDir: 'use-after-revoke',
      description: 'Sundown: alerts when a revoked session is still used (CloudTrail access denied)',
      timeout: TIMEOUT,
      environment: {
        ...props.environment,
        SUNDOWN_UAR_TOPIC_ARN: this.topic.topicArn,
        SUNDOWN_UAR_WINDOW_SECONDS: String(props.windowMinutes * 60),
      },
    });
    this.fn.consume(this.queue.queue, { batchSize: 10 });
    const role = this.fn.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDenyEntries',
        actions: ['dynamodb:Query'],
        resources: [props.revocations.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CountAttempts',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.revocations.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['use-after-revoke#*'] } },
      }),
    );
    props.encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
    props.audit.grantReadWriteData(role);
    props.bus.grantPutEventsTo(role);
    this.topic.grantPublish(role);
    this.topicKey.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey*');

    const metric = new cloudwatch.Metric({
      namespace: 'Sundown',
      metricName: 'UseAfterRevoke',
      dimensionsMap: { service: 'sundown' },
      statistic: 'Sum',
      period: Duration.minutes(1),
    });
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: 'Sundown: a revoked role session was used after its revocation (see the audit trail)',
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new SnsAction(props.alarmTopic));
    // Like every Sundown DLQ: a message here is an access-denied event that could not be handled.
    this.dlqAlarm = dlqNotEmptyAlarm(
      this,
      'DlqNotEmpty',
      this.queue.deadLetterQueue,
      'Sundown: the UseAfterRevoke DLQ holds messages (access-denied events not handled)',
    );
    this.dlqAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
    props.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Use after revoke',
        alarms: [this.alarm, this.dlqAlarm],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Use-after-revoke alerts and attempts',
        left: [
          metric,
          new cloudwatch.Metric({
            namespace: 'Sundown',
            metricName: 'UseAfterRevokeAttempts',
            dimensionsMap: { service: 'sundown' },
            statistic: 'Sum',
            period: Duration.minutes(1),
          }),
        ],
        right: [
          this.queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'UseAfterRevoke DLQ',
            statistic: 'Maximum',
          }),
        ],
        width: 12,
      }),
    );
  }
}
