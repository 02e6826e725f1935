import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { SundownConfig } from '../config.ts';
import { targetQueue } from './event-to-queue.ts';
import { QueueWithDlq } from './queue-with-dlq.ts';
import { SUNDOWN_POLICY_PATH } from './revocation-permissions.ts';
import { type FixedRoleName, SundownFunction } from './sundown-function.ts';

/** The sweeper's timeout; the sweep stops starting new work 20 s before it. */
export const SWEEPER_TIMEOUT = Duration.minutes(5);

/** Read-only calls that tell whether a workload still exists (see lambdas/sweep/workload-liveness.ts). */
export const LIVENESS_LOOKUPS = [
  'ec2:DescribeInstances',
  'ecs:DescribeTasks',
  'batch:DescribeJobs',
  'codebuild:BatchGetBuilds',
] as const;

export interface ReconciliationProps {
  readonly config: Pick<
    SundownConfig,
    'sweepSchedule' | 'sweepBatchSize' | 'idleKeyDays' | 'stoppedEndsWorkload'
  >;
  readonly encryptionKey: kms.IKey;
  /** Registry, revocation store (also holds the sweep's state item) and audit trail. */
  readonly tables: readonly dynamodb.ITable[];
  /** Sundown's bus: audit records are published on it. */
  readonly bus: events.IEventBus;
  readonly deliveryDlq: sqs.IQueue;
  /** The revocation FIFO queue the sweep sends render and revocation requests to. */
  readonly revocationQueue: sqs.IQueue;
  /** The environment every Sundown function shares. */
  readonly environment: Record<string, string>;
  /** The sweeper role's fixed name (a hub). @default a generated name */
  readonly sweeperRoleName?: FixedRoleName;
}

/**
 * The reconciliation sweep: a schedule rule (every 5 minutes by default) -> the SweepTicks queue
 * (with its DLQ, like every EventBridge target in Sundown) -> the Sweeper function, which
 * `sundown sweep` can also invoke directly.
 *
 * Least privilege: read-only workload lookups (liveness), read-only IAM (opt-in tags, access key
 * last use, Sundown's own policies to verify them), the three tables, the revocation queue. Every
 * change the sweep asks for goes through the revocation queue, so IAM writes stay with the revoker.
 */
export class Reconciliation extends Construct {
  readonly ticks: QueueWithDlq;
  readonly sweeper: SundownFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    const { account, partition, region } = Stack.of(this);

    this.ticks = new QueueWithDlq(this, 'Ticks', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: Duration.seconds(SWEEPER_TIMEOUT.toSeconds() * 6),
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Sundown: reconciliation sweep',
      schedule: events.Schedule.expression(props.config.sweepSchedule),
    });
    targetQueue(this.schedule, this.ticks.queue, props.deliveryDlq);

    this.sweeper = new SundownFunction(this, 'Sweeper', {
      handlerDir: 'sweeper',
      description: 'Sundown: reconciliation sweep (missed ends, expiry, idle keys, pruning, drift)',
      timeout: SWEEPER_TIMEOUT,
      memorySize: 512,
      environment: {
        ...props.environment,
        SUNDOWN_REVOCATION_QUEUE_URL: props.revocationQueue.queueUrl,
        SUNDOWN_STOPPED_ENDS_WORKLOAD: String(props.config.stoppedEndsWorkload),
        SUNDOWN_SWEEP_BATCH_SIZE: String(props.config.sweepBatchSize),
        SUNDOWN_IDLE_KEY_DAYS: String(props.config.idleKeyDays),
      },
      ...(props.sweeperRoleName ? { roleName: props.sweeperRoleName } : {}),
    });
    // Ticks are interchangeable: one sweep per batch.
    this.sweeper.consume(this.ticks.queue, { batchSize: 1 });

    const role = this.sweeper.role;
    for (const table of props.tables) table.grantReadWriteData(role);
    props.bus.grantPutEventsTo(role);
    props.revocationQueue.grantSendMessages(role);
    for (const statement of livenessStatements({ partition, account, region })) {
      role.addToPrincipalPolicy(statement);
    }
  }
}

/**
 * The sweep's read-only checks in one account: do workloads still exist, principals' opt-in tags and
 * key use, and Sundown's own policies (to verify them). The hub's Sweeper gets these for its own account
 * and region; a spoke's reader role for the spoke's account, in every region (`region: '*'`).
 */
export function livenessStatements(where: {
  partition: string;
  account: string;
  region: string;
}): iam.PolicyStatement[] {
  const { account, partition, region } = where;
  const iamArn = (resource: string) => `arn:${partition}:iam::${account}:${resource}`;
  return [
    new iam.PolicyStatement({
      sid: 'CheckWorkloadsExist',
      actions: [...LIVENESS_LOOKUPS],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CheckFunctionsExist',
      actions: ['lambda:GetFunctionConcurrency'],
      resources: [`arn:${partition}:lambda:${region}:${account}:function:*`],
    }),
    new iam.PolicyStatement({
      sid: 'ReadPrincipalsAndKeyUse',
      actions: [
        'iam:GetRole',
        'iam:GetUser',
        'iam:GetAccessKeyLastUsed',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
      ],
      resources: [iamArn('role/*'), iamArn('user/*')],
    }),
    new iam.PolicyStatement({
      sid: 'ReadSundownPolicies',
      actions: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
      resources: [iamArn(`policy${SUNDOWN_POLICY_PATH}*`)],
    }),
  ];
}
