import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEAL_SIGNING_ALGORITHM, sealChainId } from '../../lambdas/audit/audit-seal.ts';
import type { SundownConfig } from '../config.ts';
import { targetQueue } from './event-to-queue.ts';
import { QueueWithDlq } from './queue-with-dlq.ts';
import { SundownFunction } from './sundown-function.ts';

export const SEALER_TIMEOUT = Duration.minutes(2);

export interface AuditSealingProps {
  readonly config: Pick<
    SundownConfig,
    'auditShards' | 'auditSealSchedule' | 'auditSealArchive' | 'auditSealArchiveRetentionDays'
  >;
  /** Sundown's key: encrypts the queues and the audit table. */
  readonly encryptionKey: kms.IKey;
  readonly auditTable: dynamodb.ITable;
  /** The chain base every function appends to (`SUNDOWN_AUDIT_CHAIN`). */
  readonly chain: string;
  readonly deliveryDlq: sqs.IQueue;
}

/**
 * Sealing of the audit trail: a schedule rule (every 5 minutes by default) -> the SealTicks queue
 * (with its DLQ) -> the Sealer function, which `sundown audit seal` can also invoke directly. The
 * sealer signs a checkpoint of every chain with an asymmetric KMS key (P-256, SIGN_VERIFY) that
 * only it may sign with:
 *
 * - key policy: `kms:Sign` is denied to every principal but the sealer's role (a Deny beats any
 *   Allow, an administrator's identity policy included);
 * - IAM: the sealer may sign only with that key, only ECDSA_SHA_256 over RAW messages, and may
 *   write only items of the seal partition (`dynamodb:LeadingKeys`), never audit records.
 *
 * With `auditSealArchive`, each seal is also written to a versioned bucket with Object Lock in
 * COMPLIANCE mode (default retention `auditSealArchiveRetentionDays`).
 */
export class AuditSealing extends Construct {
  readonly key: kms.Key;
  readonly ticks: QueueWithDlq;
  readonly sealer: SundownFunction;
  readonly schedule: events.Rule;
  readonly bucket?: s3.Bucket;

  constructor(scope: Construct, id: string, props: AuditSealingProps) {
    super(scope, id);
    const { config } = props;

    this.key = new kms.Key(this, 'SealKey', {
      description: 'Sundown: signs the audit trail seals (only the audit sealer may sign)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (config.auditSealArchive) {
      this.bucket = new s3.Bucket(this, 'SealArchive', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: true,
        objectLockEnabled: true,
        objectLockDefaultRetention: s3.ObjectLockRetention.compliance(
          Duration.days(config.auditSealArchiveRetentionDays),
        ),
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.ticks = new QueueWithDlq(this, 'Ticks', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: Duration.seconds(SEALER_TIMEOUT.toSeconds() * 6),
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Sundown: audit trail sealing',
      schedule: events.Schedule.expression(config.auditSealSchedule),
    });
    targetQueue(this.schedule, this.ticks.queue, props.deliveryDlq);

    this.sealer = new SundownFunction(this, 'Sealer', {
      handlerDir: 'audit-sealer',
      description: 'Sundown: signs a checkpoint of every audit chain (seal)',
      timeout: SEALER_TIMEOUT,
      environment: {
        SUNDOWN_AUDIT_TABLE: props.auditTable.tableName,
        SUNDOWN_AUDIT_CHAIN: props.chain,
        SUNDOWN_AUDIT_SHARDS: String(config.auditShards),
        SUNDOWN_SEAL_KEY_ID: this.key.keyArn,
        SUNDOWN_SEAL_SCHEDULE: config.auditSealSchedule,
        ...(this.bucket ? { SUNDOWN_SEAL_BUCKET: this.bucket.bucketName } : {}),
      },
    });
    this.sealer.consume(this.ticks.queue, { batchSize: 1 });
    this.grantSealer(props);
  }

  private grantSealer(props: AuditSealingProps): void {
    const role = this.sealer.role;
    const sealerArn = role.roleArn;
    // Reads heads (GetItem), records and seals (Query); the table is encrypted with Sundown's key.
    props.auditTable.grant(role, 'dynamodb:GetItem', 'dynamodb:Query');
    props.encryptionKey.grantEncryptDecrypt(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteSealItemsOnly',
        actions: ['dynamodb:PutItem'],
        resources: [props.auditTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [sealChainId(props.chain)] } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SignSeals',
        actions: ['kms:Sign'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: { 'kms:SigningAlgorithm': SEAL_SIGNING_ALGORITHM, 'kms:MessageType': 'RAW' },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheAuditSealerSigns',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': sealerArn } },
      }),
    );
    if (this.bucket) {
      const { partition } = Stack.of(this);
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ArchiveSeals',
          actions: ['s3:PutObject'],
          resources: [`arn:${partition}:s3:::${this.bucket.bucketName}/seals/${props.chain}/*`],
        }),
      );
    }
  }
}
