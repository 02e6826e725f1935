import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Index names are part of the contract between the stack and the code that queries it. */
export const CREDENTIAL_INDEXES = { byWorkload: 'byWorkload', byStatus: 'byStatus' } as const;
export const AUDIT_INDEXES = {
  byWorkload: 'byWorkload',
  byCredential: 'byCredential',
  byType: 'byType',
  byTime: 'byTime',
} as const;

export interface DataTablesProps {
  readonly encryptionKey: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Sundown's state, all in DynamoDB (the source of truth):
 * - credentials: the registry, one item per credential issued to a workload;
 * - revocations: per IAM principal, the deny entries its Sundown policies are
 *   rendered from, plus a version item that serializes and coalesces writes;
 * - audit: the hash-chained audit trail.
 * Point-in-time recovery, deletion protection, customer managed key, retained.
 * (`dynamodb.Table`, not `TableV2`: the emulator's CloudFormation skips GlobalTable.)
 */
export class DataTables extends Construct {
  readonly credentials: dynamodb.Table;
  readonly revocations: dynamodb.Table;
  readonly audit: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    const S = dynamodb.AttributeType.STRING;

    this.credentials = new dynamodb.Table(this, 'Credentials', {
      ...common,
      partitionKey: { name: 'credentialId', type: S },
      timeToLiveAttribute: 'ttl',
    });
    this.credentials.addGlobalSecondaryIndex({
      indexName: CREDENTIAL_INDEXES.byWorkload,
      partitionKey: { name: 'workloadId', type: S },
      sortKey: { name: 'issuedAt', type: S },
    });
    this.credentials.addGlobalSecondaryIndex({
      indexName: CREDENTIAL_INDEXES.byStatus,
      partitionKey: { name: 'status', type: S },
      sortKey: { name: 'expiresAt', type: S },
    });

    this.revocations = new dynamodb.Table(this, 'Revocations', {
      ...common,
      partitionKey: { name: 'principalArn', type: S },
      sortKey: { name: 'entryKey', type: S },
    });

    this.audit = new dynamodb.Table(this, 'Audit', {
      ...common,
      partitionKey: { name: 'chainId', type: S },
      sortKey: { name: 'seq', type: dynamodb.AttributeType.NUMBER },
    });
    for (const [indexName, partitionKey] of [
      [AUDIT_INDEXES.byWorkload, 'workloadId'],
      [AUDIT_INDEXES.byCredential, 'credentialId'],
      [AUDIT_INDEXES.byType, 'type'],
      [AUDIT_INDEXES.byTime, 'chainId'],
    ] as const) {
      this.audit.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partitionKey, type: S },
        sortKey: { name: 'at', type: S },
      });
    }
  }
}
