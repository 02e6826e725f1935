import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqNotEmptyAlarm } from './dlq-alarm.ts';
import type { SundownFunction } from './sundown-function.ts';

/**
 * What the functions emit (CloudWatch embedded metric format through Powertools Metrics, see
 * lambdas/shared/powertools.ts): namespace `Sundown`, and Powertools adds the dimension
 * `service=sundown` to every metric. Alarms must name exactly these dimensions: a CloudWatch
 * metric is identified by namespace, name and its full dimension set.
 */
export const METRICS_NAMESPACE = 'Sundown';
export const METRICS_SERVICE = 'sundown';
export const METRIC_NAMES = {
  revocationsSucceeded: 'RevocationsSucceeded',
  revocationsFailed: 'RevocationsFailed',
  /** Also published with dimensions kind (role-session, access-key, certificate) and outcome (revoked, failed). */
  revocations: 'Revocations',
  timeToRevoke: 'TimeToRevoke',
  eventsRejected: 'EventsRejected',
  /** Also published with the dimension role. */
  policyCapacityUsed: 'PolicyCapacityUsed',
  iamWrites: 'IamWrites',
  /** Published with the dimension finding (missed-end, expired, idle-key, prune-due, missing-deny, orphan-deny, unknown-liveness). */
  reconciliationFindings: 'ReconciliationFindings',
  sweepFailures: 'SweepFailures',
} as const;

/** The alarm on a role's policy capacity, in percent used. */
export const POLICY_CAPACITY_ALARM_PERCENT = 80;

const PERIOD = Duration.minutes(5);

export interface MonitoringProps {
  readonly encryptionKey: kms.IKey;
  readonly alarmEmails: readonly string[];
  readonly timeToRevokeP99AlarmSeconds: number;
  readonly dashboardName: string;
  /** Work queues by name (their depth and oldest message age are graphed). */
  readonly queues: Record<string, sqs.IQueue>;
  /** Every dead-letter queue by name: one alarm each, on any message. */
  readonly deadLetterQueues: Record<string, sqs.IQueue>;
  /** Functions by name (errors and throttles are graphed). */
  readonly functions: Record<string, SundownFunction>;
}

export function sundownMetric(
  metricName: string,
  statistic: string,
  dimensions: Record<string, string> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
    statistic,
    period: PERIOD,
  });
}

/** A dashboard breakdown over one extra dimension set (SEARCH works in graphs, not in alarms). */
function breakdown(
  metricName: string,
  dimensions: string[],
  statistic: string,
  label: string,
): cloudwatch.IMetric {
  const keys = [METRICS_NAMESPACE, 'service', ...dimensions].join(',');
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${keys}} MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    label,
    period: PERIOD,
  });
}

/**
 * Alarms on what must never go unnoticed, to one SNS topic (encrypted with Sundown's key, email
 * subscribers from the `alarmEmails` setting), and one dashboard with the same signals:
 *
 * - a message in any DLQ (work that failed for good, or an event EventBridge could not deliver);
 * - any failed revocation;
 * - time-to-revoke p99 above `timeToRevokeP99AlarmSeconds`;
 * - a role over 80% of its policy capacity (the maximum over roles of `PolicyCapacityUsed`);
 * - the reconciliation sweep finding a workload that ended without its end event being processed.
 *
 * Every alarm treats missing data as not breaching: no metric means nothing happened.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly deadLetterAlarms: Record<string, cloudwatch.Alarm> = {};
  readonly revocationsFailedAlarm: cloudwatch.Alarm;
  readonly timeToRevokeAlarm: cloudwatch.Alarm;
  readonly policyCapacityAlarm: cloudwatch.Alarm;
  readonly missedEndAlarm: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { account, partition, region } = Stack.of(this);

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Sundown alarms',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of props.alarmEmails)
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    // An explicit topic policy replaces SNS's default one: let CloudWatch alarms of this account publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    // CloudWatch must encrypt the notification it publishes to the topic.
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsEncryptToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, options: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        ...options,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      return created;
    };

    for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
      const created = dlqNotEmptyAlarm(
        this,
        `${name}DlqNotEmpty`,
        dlq,
        `Sundown: the ${name} dead-letter queue holds a message (inspect it, fix the cause, then "sundown dlq replay --queue ${name}")`,
      );
      created.addAlarmAction(action);
      this.deadLetterAlarms[name] = created;
    }
    this.revocationsFailedAlarm = alarm('RevocationsFailed', {
      alarmDescription:
        'Sundown: a revocation failed ("sundown audit query --type failed" says which and why)',
      metric: sundownMetric(METRIC_NAMES.revocationsFailed, 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.timeToRevokeAlarm = alarm('TimeToRevokeP99', {
      alarmDescription: `Sundown: the p99 time from workload end to revocation is over ${props.timeToRevokeP99AlarmSeconds} s`,
      metric: sundownMetric(METRIC_NAMES.timeToRevoke, 'p99'),
      threshold: props.timeToRevokeP99AlarmSeconds * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.policyCapacityAlarm = alarm('PolicyCapacity', {
      alarmDescription: `Sundown: a role's deny policies use over ${POLICY_CAPACITY_ALARM_PERCENT}% of its policy capacity ("sundown status" lists the fullest roles)`,
      metric: sundownMetric(METRIC_NAMES.policyCapacityUsed, 'Maximum'),
      threshold: POLICY_CAPACITY_ALARM_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.missedEndAlarm = alarm('MissedWorkloadEnd', {
      alarmDescription:
        'Sundown: the reconciliation sweep found a workload that ended without its end event being processed (its credentials were revoked by the sweep; check the event rules)',
      metric: sundownMetric(METRIC_NAMES.reconciliationFindings, 'Sum', { finding: 'missed-end' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(24),
    });
    const wide = { width: 8, height: 6 } as const;
    const queueMetrics = (metric: (q: sqs.IQueue) => cloudwatch.Metric, queues: Record<string, sqs.IQueue>) =>
      Object.entries(queues).map(([name, q]) => metric(q).with({ label: name }));
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        height: 3,
        alarms: [
          ...Object.values(this.deadLetterAlarms),
          this.revocationsFailedAlarm,
          this.timeToRevokeAlarm,
          this.policyCapacityAlarm,
          this.missedEndAlarm,
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Revocations',
        ...wide,
        left: [
          sundownMetric(METRIC_NAMES.revocationsSucceeded, 'Sum').with({ label: 'succeeded' }),
          sundownMetric(METRIC_NAMES.revocationsFailed, 'Sum').with({ label: 'failed' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Revocations by kind and outcome',
        ...wide,
        left: [breakdown(METRIC_NAMES.revocations, ['kind', 'outcome'], 'Sum', '')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Time to revoke (ms)',
        ...wide,
        left: [
          sundownMetric(METRIC_NAMES.timeToRevoke, 'p50').with({ label: 'p50' }),
          sundownMetric(METRIC_NAMES.timeToRevoke, 'p99').with({ label: 'p99' }),
        ],
        leftAnnotations: [{ value: props.timeToRevokeP99AlarmSeconds * 1000, label: 'p99 alarm' }],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Policy capacity used (%)',
        ...wide,
        left: [
          sundownMetric(METRIC_NAMES.policyCapacityUsed, 'Maximum').with({ label: 'fullest role' }),
          breakdown(METRIC_NAMES.policyCapacityUsed, ['role'], 'Maximum', ''),
        ],
        leftYAxis: { min: 0, max: 100 },
        leftAnnotations: [{ value: POLICY_CAPACITY_ALARM_PERCENT, label: 'alarm' }],
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciliation findings',
        ...wide,
        left: [breakdown(METRIC_NAMES.reconciliationFindings, ['finding'], 'Sum', '')],
        right: [sundownMetric(METRIC_NAMES.sweepFailures, 'Sum').with({ label: 'sweep failures' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Rejected events and IAM writes',
        ...wide,
        left: [sundownMetric(METRIC_NAMES.eventsRejected, 'Sum').with({ label: 'rejected events' })],
        right: [sundownMetric(METRIC_NAMES.iamWrites, 'Sum').with({ label: 'IAM writes' })],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        ...wide,
        left: queueMetrics(
          (q) =>
            q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
          props.queues,
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        ...wide,
        left: queueMetrics(
          (q) => q.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
          props.queues,
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        ...wide,
        left: queueMetrics(
          (q) =>
            q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
          props.deadLetterQueues,
        ),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        width: 24,
        height: 6,
        left: Object.entries(props.functions).map(([name, f]) =>
          f.fn.metricErrors({ period: PERIOD, statistic: 'Sum' }).with({ label: `${name} errors` }),
        ),
        right: Object.entries(props.functions).map(([name, f]) =>
          f.fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }).with({ label: `${name} throttles` }),
        ),
      }),
    );
  }
}
