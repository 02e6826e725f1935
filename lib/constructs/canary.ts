import { Duration, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_INDEX } from '../../lambdas/audit/audit-query.ts';
import { CANARY_DIMENSIONS, CANARY_METRICS, PROBE_ACTION } from '../../lambdas/shared/contract.ts';
import { CANARY_FUNCTION_MARGIN_SECONDS, canaryIntervalSeconds, type SundownConfig } from '../config.ts';
import { suppressPreflight } from '../preflight/aspect.ts';
import { BROKER_TRUST_ACTIONS, BROKER_TRUST_SID } from './broker-trust.ts';
import { dlqNotEmptyAlarm } from './dlq-alarm.ts';
import { targetQueue } from './event-to-queue.ts';
import { sundownMetric } from './monitoring.ts';
import { QueueWithDlq } from './queue-with-dlq.ts';
import { OPT_IN_TAG } from './revocation-permissions.ts';
import { SundownFunction } from './sundown-function.ts';

/** Why preflight's role-chaining finding does not apply to the canary role. */
export const CHAINING_REASON =
  "The canary role trusts the broker's role, Sundown's own long-lived service (not an ephemeral workload): " +
  'every broker-issued session is chained from it, and Sundown itself revokes each canary session it ends.';

export interface RevocationCanaryProps {
  readonly config: SundownConfig['canary'];
  /** Sundown's key: encrypts the queues and the tables the canary reads. */
  readonly encryptionKey: kms.IKey;
  readonly bus: events.IEventBus;
  readonly deliveryDlq: sqs.IQueue;
  readonly credentials: dynamodb.ITable;
  readonly audit: dynamodb.ITable;
  /** The broker function (its URL, AuthType AWS_IAM, is how the canary asks for sessions). */
  readonly broker: lambda.IFunction;
  readonly brokerRole: iam.IRole;
  readonly alarmTopic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
}

/**
 * The scheduled revocation canary (issue 18; `canary.enabled`): a schedule rule -> the CanaryTicks
 * queue (with its DLQ) -> the Canary function, which runs the revocation drill of `sundown drill`
 * against a canary role of its own and publishes `TimeToRevoke` and `DrillFailed`.
 *
 * The canary role carries the opt-in tag (Sundown revokes its sessions), is trusted only by the
 * broker's role (exactly the broker's three trust actions), and may do one thing: the probe call,
 * iam:GetRole on itself.
 *
 * The function's own permissions, each on one resource: call the broker's URL (InvokeFunctionUrl
 * for AuthType AWS_IAM, InvokeFunction only via the URL, GetFunctionUrlConfig to find it), put
 * `Workload Ended` (source `sundown`) on Sundown's bus, GetItem on the registry, Query on the audit
 * table's byWorkload index, and decrypt through DynamoDB with Sundown's key. No IAM, no STS: the
 * probe is signed with the issued session, not with the function's role.
 */
export class RevocationCanary extends Construct {
  readonly role: iam.Role;
  readonly ticks: QueueWithDlq;
  readonly fn: SundownFunction;
  readonly schedule: events.Rule;
  readonly alarm: cloudwatch.Alarm;
  readonly dlqAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RevocationCanaryProps) {
    super(scope, id);
    const { config } = props;
    const { region } = Stack.of(this);
    const intervalSeconds = canaryIntervalSeconds(config.schedule);
    if (intervalSeconds === undefined) throw new Error(`canary.schedule is not a rate: ${config.schedule}`);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ArnPrincipal(props.brokerRole.roleArn),
      description: 'Sundown revocation canary: sessions issued by the broker, ended and revoked on schedule',
      maxSessionDuration: Duration.hours(1),
    });
    // Exactly the broker's trust statement (what trustSundownBroker writes), and nothing else.
    (this.role.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: BROKER_TRUST_SID,
          actions: [...BROKER_TRUST_ACTIONS],
          principals: [new iam.ArnPrincipal(props.brokerRole.roleArn)],
        }),
      ],
    });
    Tags.of(this.role).add(OPT_IN_TAG.key, OPT_IN_TAG.value);
    Tags.of(this.role).add('sundown:canary', 'true');
    suppressPreflight(this.role, [{ id: 'role-chaining-from-workload', reason: CHAINING_REASON }]);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'Probe', actions: [PROBE_ACTION], resources: [this.role.roleArn] }),
    );

    const timeout = Duration.seconds(config.timeoutSeconds + CANARY_FUNCTION_MARGIN_SECONDS);
    this.ticks = new QueueWithDlq(this, 'Ticks', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      // A crashed drill is retried once; the next tick runs a new one anyway.
      maxReceiveCount: 2,
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Sundown: revocation canary',
      schedule: events.Schedule.expression(config.schedule),
    });
    targetQueue(this.schedule, this.ticks.queue, props.deliveryDlq);

    this.fn = new SundownFunction(this, 'Function', {
      handlerDir: 'canary',
      description: 'Sundown: revocation canary (issue, end, probe until denied; TimeToRevoke, DrillFailed)',
      timeout,
      environment: {
        SUNDOWN_CREDENTIALS_TABLE: props.credentials.tableName,
        SUNDOWN_AUDIT_TABLE: props.audit.tableName,
        SUNDOWN_EVENT_BUS: props.bus.eventBusName,
        SUNDOWN_CANARY_BROKER_FUNCTION: props.broker.functionName,
        SUNDOWN_CANARY_ROLE_ARN: this.role.roleArn,
        SUNDOWN_CANARY_TIMEOUT_SECONDS: String(config.timeoutSeconds),
      },
    });
    this.fn.consume(this.ticks.queue, { batchSize: 1 });
    this.grantCanary(props, region);

    // Missing data is breaching: a canary that stopped reporting proves nothing. The period is twice
    // the interval, so every period holds at least one run even when a run starts late.
    const period = Duration.seconds(2 * intervalSeconds);
    const failed = sundownMetric(CANARY_METRICS.drillFailed, 'Maximum', CANARY_DIMENSIONS).with({ period });
    this.alarm = new cloudwatch.Alarm(this, 'DrillFailed', {
      alarmDescription: `Sundown: the revocation canary failed (or did not report) in the last ${period.toMinutes()} minutes: its log says which check failed`,
      metric: failed,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.dlqAlarm = dlqNotEmptyAlarm(
      this,
      'DlqNotEmpty',
      this.ticks.deadLetterQueue,
      'Sundown: the CanaryTicks DLQ holds messages (canary runs that crashed twice)',
    );
    for (const a of [this.alarm, this.dlqAlarm]) a.addAlarmAction(new SnsAction(props.alarmTopic));

    const timeToRevoke = (statistic: string) =>
      sundownMetric(CANARY_METRICS.timeToRevoke, statistic, CANARY_DIMENSIONS).with({ label: statistic });
    props.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Revocation canary',
        alarms: [this.alarm, this.dlqAlarm],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Canary: time to revoke, end to enforced deny (ms)',
        left: [timeToRevoke('p50'), timeToRevoke('Maximum')],
        leftAnnotations: [{ value: config.timeoutSeconds * 1000, label: 'drill timeout' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Canary: failed drills',
        left: [sundownMetric(CANARY_METRICS.drillFailed, 'Sum', CANARY_DIMENSIONS).with({ label: 'failed' })],
        right: [
          sundownMetric(CANARY_METRICS.drillFailed, 'SampleCount', CANARY_DIMENSIONS).with({ label: 'runs' }),
        ],
        width: 8,
      }),
    );
  }

  private grantCanary(props: RevocationCanaryProps, region: string): void {
    const role = this.fn.role;
    const broker = props.broker.functionArn;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CallBrokerUrl',
        actions: ['lambda:InvokeFunctionUrl'],
        resources: [broker],
        conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeBrokerOnlyViaUrl',
        actions: ['lambda:InvokeFunction'],
        resources: [broker],
        conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindBrokerUrl',
        actions: ['lambda:GetFunctionUrlConfig'],
        resources: [broker],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EndCanaryWorkloads',
        actions: ['events:PutEvents'],
        resources: [props.bus.eventBusArn],
        conditions: {
          StringEquals: { 'events:source': 'sundown', 'events:detail-type': 'Workload Ended' },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadIssuedCredential',
        actions: ['dynamodb:GetItem'],
        resources: [props.credentials.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWorkloadAudit',
        actions: ['dynamodb:Query'],
        resources: [`${props.audit.tableArn}/index/${AUDIT_INDEX.byWorkload}`],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptTablesViaDynamoDB',
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    );
  }
}
