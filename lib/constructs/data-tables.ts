import { Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Index names are part of the contract between the stack and the code that queries it. */
export const CREDENTIAL_INDEXES = { byWorkload: 'byWorkload', byStatus: 'byStatus' } as const;
/**
 * Sparse index over the revocations table's per-principal `#meta` items (partition `metaIndex`,
 * sort `nextExpiry`): principals due for pruning, and policy capacity per principal, without a scan.
 */
export const REVOCATION_INDEXES = { principalsByNextExpiry: 'principalsByNextExpiry' } as const;
export const AUDIT_INDEXES = {
  byWorkload: 'byWorkload',
  byCredential: 'byCredential',
  byType: 'byType',
  byTime: 'byTime',
  /** Partition `dayShard` (`YYYY-MM-DD#k`): the time index of the sharded chains, no hot partition. */
  byDay: 'byDay',
} as const;

/** Item writes nobody may make to the audit table: records are only ever appended, never removed. */
export const AUDIT_NEVER_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:PartiQLDelete',
  // TTL on a numeric attribute (`seq`!) would let DynamoDB itself delete every record.
  'dynamodb:UpdateTimeToLive',
] as const;

/** Item writes only the stack's own roles may make (appends are PutItem + UpdateItem in one transaction). */
export const AUDIT_WRITER_ONLY_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
] as const;

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
 *
 * The audit table also carries a resource policy (see `auditTablePolicy`) so that tampering
 * needs a visible policy change first, whatever IAM permissions the tamperer holds.
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
      // Only use-after-revoke counters carry `ttl`; deny entries are pruned by the sweep.
      timeToLiveAttribute: 'ttl',
    });
    this.revocations.addGlobalSecondaryIndex({
      indexName: REVOCATION_INDEXES.principalsByNextExpiry,
      partitionKey: { name: 'metaIndex', type: S },
      sortKey: { name: 'nextExpiry', type: S },
    });

    this.audit = new dynamodb.Table(this, 'Audit', {
      ...common,
      partitionKey: { name: 'chainId', type: S },
      sortKey: { name: 'seq', type: dynamodb.AttributeType.NUMBER },
      resourcePolicy: auditTablePolicy(this),
    });
    for (const [indexName, partitionKey] of [
      [AUDIT_INDEXES.byWorkload, 'workloadId'],
      [AUDIT_INDEXES.byCredential, 'credentialId'],
      [AUDIT_INDEXES.byType, 'type'],
      [AUDIT_INDEXES.byTime, 'chainId'],
      [AUDIT_INDEXES.byDay, 'dayShard'],
    ] as const) {
      this.audit.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partitionKey, type: S },
        sortKey: { name: 'at', type: S },
      });
    }
  }
}

/**
 * The audit table's resource policy. Deny statements win over every Allow (identity policies of
 * administrators included), so:
 *
 * 1. `AuditRecordsAreNeverDeleted`: nobody deletes items or turns on TTL (which would let DynamoDB
 *    expire records: `seq` is a number). Sundown's writers never delete either.
 * 2. `OnlySundownRolesWriteAuditRecords`: PutItem/UpdateItem/BatchWriteItem (and PartiQL
 *    equivalents) are denied to every principal whose `aws:PrincipalArn` is not one of the IAM
 *    roles defined in this stack. The writers append with TransactWriteItems, which IAM authorizes
 *    as PutItem (the record) + UpdateItem (the head item), so they keep exactly what they need.
 *
 * The role ARNs are `Fn::GetAtt` references collected lazily at synthesis, so roles added after
 * this construct are covered and no role name pattern is assumed (CloudFormation's generated role
 * names truncate long stack names). No cycle: the table depends on the roles, while the roles'
 * grants live in separate `AWS::IAM::Policy` resources that depend on the table. A role whose own
 * properties referenced the audit table would close a cycle; test/infra/audit-table.test.ts guards it.
 * Changing or removing the policy (dynamodb:PutResourcePolicy / DeleteResourcePolicy) stays
 * possible for administrators and CloudFormation, and is recorded by CloudTrail.
 */
function auditTablePolicy(scope: Construct): iam.PolicyDocument {
  const stack = Stack.of(scope);
  const writerRoleArns = Lazy.list({
    produce: () => {
      const arns = stack.node
        .findAll()
        .filter((construct): construct is iam.CfnRole => construct instanceof iam.CfnRole)
        .map((role) => role.attrArn);
      if (arns.length === 0) {
        throw new Error(
          `stack ${stack.stackName} defines no IAM role: the audit table's resource policy needs the writer roles`,
        );
      }
      return arns;
    },
  });
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AuditRecordsAreNeverDeleted',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...AUDIT_NEVER_ACTIONS],
        // A resource policy cannot name its own table (it does not exist yet): `*` means this table.
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'OnlySundownRolesWriteAuditRecords',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...AUDIT_WRITER_ONLY_ACTIONS],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writerRoleArns } },
      }),
    ],
  });
}
