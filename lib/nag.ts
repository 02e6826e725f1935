import {
  AspectPriority,
  Aspects,
  type CfnElement,
  type IAspect,
  Stack,
  type Stage,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AuditSealing } from './constructs/audit-sealing.ts';
import { ManagementEventsTrail } from './constructs/management-trail.ts';
import { LIVENESS_LOOKUPS } from './constructs/reconciliation.ts';
import { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from './constructs/revocation-permissions.ts';
import { SundownFunction } from './constructs/sundown-function.ts';

/**
 * Policy as code: the cdk-nag AwsSolutions pack runs on every synth, and every
 * finding Sundown accepts is acknowledged here with its reason.
 *
 * Error findings fail `cdk synth` (CDK's validation report); the infra tests
 * also fail on warnings. Acknowledgements are written into the template's
 * resource metadata (`cdk_nag.rules_to_suppress`) as an audit trail.
 *
 * IAM wildcard findings (AwsSolutions-IAM5) are acknowledged by what the
 * statements say, not by where they are: a finding is acknowledged only when
 * every Allow statement that produces it matches one of `WILDCARD_JUSTIFICATIONS`
 * (which check actions, resources and conditions). An IAM write on `role/*`
 * without the opt-in condition therefore stays a finding and fails synth.
 */
export function applySundownNag(scope: Stage, options: { verbose?: boolean } = {}): void {
  // Before the pack: its metadata-writing aspect must see these acknowledgements.
  Aspects.of(scope).add(new SundownAcknowledgements(), { priority: AspectPriority.MUTATING });
  Validations.of(scope).addPlugins(
    new AwsSolutionsChecks(scope, {
      verbose: options.verbose ?? false,
      writeSuppressionsToCloudFormation: true,
    }),
  );
}

/** A policy statement as CloudFormation sees it (resolved). */
interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** What a wildcard finding's statement may be, and why that is acceptable. */
interface WildcardJustification {
  readonly reason: string;
  /** `finding` is the IAM5 finding ID suffix, e.g. `Resource::*` or `Action::kms:ReEncrypt*`. */
  applies(statement: Statement, finding: string, stack: StackFacts): boolean;
}

interface StackFacts {
  keyIds: Set<string>;
  tableIds: Set<string>;
}

const REVOKER_IAM_WRITES = new Set([
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:UpdateAccessKey',
  'iam:PutUserPolicy',
  'iam:DeleteUserPolicy',
]);
const POLICY_ATTACHMENT = new Set(['iam:AttachRolePolicy', 'iam:DetachRolePolicy']);
const BROKER_ASSUME = new Set(['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']);
const SUNDOWN_POLICY_MANAGEMENT = new Set([
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:DeletePolicy',
  'iam:DeletePolicyVersion',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'iam:ListPolicyVersions',
]);
const XRAY_WRITES = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
const WORKLOAD_LOOKUPS = new Set([
  'ec2:DescribeInstances',
  'ecs:DescribeTasks',
  'ecs:DescribeTaskDefinition',
  'codebuild:BatchGetBuilds',
]);
/** The reconciliation sweep's existence checks (lib/constructs/reconciliation.ts). */
const LIVENESS_CHECKS = new Set([...LIVENESS_LOOKUPS]);
const FUNCTION_EXISTS = new Set(['lambda:GetFunctionConcurrency']);
const ANY_FUNCTION =
  /^Resource::arn:(?:<AWS::Partition>|aws[a-z-]*):lambda:(?:<AWS::Region>|[a-z0-9-]+):(?:<AWS::AccountId>|\d{12}):function:\*$/;
const KEY_USE = new Set([
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
]);

/** The account's IAM ARN prefix as cdk-nag prints it (partition and account may be tokens). */
const IAM_ARN = String.raw`arn:(?:<AWS::Partition>|aws[a-z-]*):iam::(?:<AWS::AccountId>|\d{12}):`;
const IAM_PRINCIPAL_WILDCARD = new RegExp(String.raw`^Resource::${IAM_ARN}(role|user|instance-profile)/\*$`);
/** `role/<path>/*`: a path prefix from the `allowlist` setting (never the bare `role/*`). */
const ALLOWLISTED_PATH = new RegExp(String.raw`^Resource::${IAM_ARN}(role|user)(/[\w+=,.@-]+)+/\*$`);
const SUNDOWN_POLICIES = new RegExp(String.raw`^Resource::${IAM_ARN}policy${SUNDOWN_POLICY_PATH}\*$`);

const SEAL_ARCHIVE_OBJECTS =
  /^Resource::arn:<AWS::Partition>:s3:::<AuditSealingSealArchive[A-F0-9]{8}>\/seals\/[\w-]+\/\*$/;

const WILDCARD_JUSTIFICATIONS: readonly WildcardJustification[] = [
  {
    reason:
      "The audit sealer writes each seal as a new object under seals/<chain>/ of the stack's Object Lock archive " +
      '(one key per epoch, so the key is not known in advance); PutObject only, and COMPLIANCE retention keeps every version.',
    applies: (s, f) => SEAL_ARCHIVE_OBJECTS.test(f) && only(s, new Set(['s3:PutObject'])),
  },
  {
    reason:
      'X-Ray PutTraceSegments/PutTelemetryRecords (added by tracing: ACTIVE) support no resource-level permissions.',
    applies: (s, f) => f === 'Resource::*' && only(s, XRAY_WRITES),
  },
  {
    reason:
      'Read-only lookups of the workload that started or ended (EC2 instance, ECS task and task definition, ' +
      'CodeBuild build), to find its role: the workload can be any in the account, and ec2:DescribeInstances and ' +
      'ecs:DescribeTaskDefinition support no resource-level permissions.',
    applies: (s, f) => f === 'Resource::*' && only(s, WORKLOAD_LOOKUPS),
  },
  {
    reason:
      'Read-only existence checks of the workloads that hold active credentials (EC2 DescribeInstances, ECS ' +
      'DescribeTasks, Batch DescribeJobs, CodeBuild BatchGetBuilds) by the reconciliation sweep: the workload can be ' +
      'any in the account, and DescribeInstances and DescribeJobs support no resource-level permissions.',
    applies: (s, f) => f === 'Resource::*' && only(s, LIVENESS_CHECKS),
  },
  {
    reason:
      "The reconciliation sweep checks that a Lambda workload still exists with GetFunctionConcurrency on the account's " +
      'functions (any function can be a workload); it returns only the reserved concurrency, not code or environment.',
    applies: (s, f) => ANY_FUNCTION.test(f) && only(s, FUNCTION_EXISTS),
  },
  {
    reason:
      "CDK's grant on Sundown's customer managed key: DynamoDB and SQS encryption need the ReEncrypt*/GenerateDataKey* " +
      'variants, and the statement names only that key.',
    applies: (s, f, st) =>
      f.startsWith('Action::kms:') &&
      only(s, KEY_USE) &&
      resources(s).every((r) => st.keyIds.has(getAttArnOf(r) ?? '')),
  },
  {
    reason:
      "Queries on the global secondary indexes of Sundown's own table (<table>/index/*), granted with the table " +
      'itself; the code queries byWorkload/byStatus and byWorkload/byCredential/byType/byTime.',
    applies: (s, f, st) =>
      actions(s).every((a) => a.startsWith('dynamodb:')) &&
      [...st.tableIds].some((id) => f === `Resource::<${id}.Arn>/index/*`),
  },
  {
    reason:
      'Read-only (iam:Get*/iam:List*) on roles, users and instance profiles: Sundown reads opt-in tags, resolves a ' +
      "workload's role and renders a principal's deny policies from what is attached.",
    applies: (s, f) =>
      IAM_PRINCIPAL_WILDCARD.test(f) && actions(s).every((a) => /^iam:(Get|List)\w+$/.test(a)),
  },
  {
    reason:
      `Revocation writes on role/* and user/* are allowed only with aws:ResourceTag/${OPT_IN_TAG.key}=${OPT_IN_TAG.value}: ` +
      'IAM itself limits them to principals that opted in (Sundown cannot tag), service-linked roles are denied, ' +
      `and Attach/DetachRolePolicy only for policies under ${SUNDOWN_POLICY_PATH} (iam:PolicyARN).`,
    applies: (s, f) =>
      IAM_PRINCIPAL_WILDCARD.test(f) &&
      only(s, REVOKER_IAM_WRITES) &&
      hasOptInCondition(s) &&
      (!actions(s).some((a) => POLICY_ATTACHMENT.has(a)) || limitsToSundownPolicies(s)),
  },
  {
    reason:
      `The broker may assume (and tag/set the source identity of sessions of) only roles tagged ${OPT_IN_TAG.key}=` +
      `${OPT_IN_TAG.value}, enforced by IAM through aws:ResourceTag: the same opt-in as revocation.`,
    applies: (s, f) => IAM_PRINCIPAL_WILDCARD.test(f) && only(s, BROKER_ASSUME) && hasOptInCondition(s),
  },
  {
    reason:
      `Managed policies only under Sundown's own path ${SUNDOWN_POLICY_PATH} (its overflow deny policies); ` +
      'no other managed policy can be created, changed or deleted.',
    applies: (s, f) => SUNDOWN_POLICIES.test(f) && only(s, SUNDOWN_POLICY_MANAGEMENT),
  },
  {
    reason:
      'A path prefix the operator listed in the `allowlist` setting: principals under it are opted in by ' +
      `configuration instead of the tag (Attach/DetachRolePolicy still only for policies under ${SUNDOWN_POLICY_PATH}).`,
    applies: (s, f) =>
      ALLOWLISTED_PATH.test(f) &&
      actions(s).every((a) => REVOKER_IAM_WRITES.has(a) || BROKER_ASSUME.has(a)) &&
      (!actions(s).some((a) => POLICY_ATTACHMENT.has(a)) || limitsToSundownPolicies(s)),
  },
];

const REASONS = {
  lambdaRuntime:
    'nodejs22.x is pinned on purpose (an LTS runtime in standard support; bundles target node22 and the infra ' +
    'tests assert it): moving to a newer runtime is a deliberate, tested change, not an automatic one.',
  basicExecutionRole:
    'AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes (CreateLogGroup/CreateLogStream/PutLogEvents, ' +
    'not scoped to a log group); each function logs to its own explicit log group with retention.',
  deliveryDlq:
    'This queue is itself a dead-letter queue: the DeadLetterConfig of EventBridge rule targets (events ' +
    'EventBridge could not deliver after its retries). A DLQ of a DLQ would only move them one hop further.',
  trailBucketAccessLogs:
    "The management-events trail's log bucket receives only CloudTrail's log files (bucket policy: " +
    'CloudTrail may write, nobody else may read outside the account, TLS only); log file validation ' +
    '(signed digest files) detects any change or deletion. Access logs would need another bucket for ' +
    'reads by operators; send them to an organization logging bucket where policy requires it.',
  sealArchiveAccessLogs:
    "The audit seal archive receives only the sealer's seal objects (TLS only, public access blocked, " +
    'Object Lock in COMPLIANCE mode: no version can be overwritten or deleted before its retention ends); ' +
    'each seal is signed, so a changed copy is detected. Access logs would need another bucket; send them to an ' +
    'organization logging bucket where policy requires it.',
} as const;

/** Records the acknowledgements during synthesis, when every grant has been made. */
class SundownAcknowledgements implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof SundownFunction) {
      // On the L1 resources themselves, so the acknowledgement covers nothing else.
      acknowledge(defaultChild(node.fn), 'AwsSolutions-L1', REASONS.lambdaRuntime);
      acknowledge(
        defaultChild(node.role),
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        REASONS.basicExecutionRole,
      );
    } else if (node instanceof AuditSealing && node.bucket) {
      acknowledge(defaultChild(node.bucket), 'AwsSolutions-S1', REASONS.sealArchiveAccessLogs);
    } else if (node instanceof ManagementEventsTrail) {
      acknowledge(defaultChild(node.bucket), 'AwsSolutions-S1', REASONS.trailBucketAccessLogs);
    } else if (node instanceof sqs.CfnQueue && isEventBridgeDeliveryDlq(node)) {
      acknowledge(node, 'AwsSolutions-SQS3', REASONS.deliveryDlq);
    } else if (node instanceof iam.CfnPolicy) {
      acknowledgeJustifiedWildcards(node);
    }
  }
}

function defaultChild(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function acknowledgeJustifiedWildcards(policy: iam.CfnPolicy): void {
  const stack = Stack.of(policy);
  const facts = stackFacts(stack);
  const document = stack.resolve(policy.policyDocument) as { Statement?: Statement[] };
  const reasons = new Map<string, Set<string>>();
  const unjustified = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue; // cdk-nag does not report Deny statements
    for (const finding of wildcardFindings(statement)) {
      const justification = WILDCARD_JUSTIFICATIONS.find((j) => j.applies(statement, finding, facts));
      if (!justification) {
        unjustified.add(finding);
        continue;
      }
      reasons.set(finding, (reasons.get(finding) ?? new Set()).add(justification.reason));
    }
  }
  for (const [finding, why] of reasons) {
    if (unjustified.has(finding)) continue; // one unexplained statement keeps the finding
    acknowledge(policy, `AwsSolutions-IAM5[${finding}]`, [...why].join(' '));
  }
}

/** The IAM5 finding IDs of one Allow statement, as cdk-nag names them. */
function wildcardFindings(statement: Statement): string[] {
  return [
    ...actions(statement)
      .filter((a) => a.includes('*'))
      .map((a) => `Action::${a}`),
    ...resources(statement)
      .map(flattenReference)
      .filter((r) => r.includes('*'))
      .map((r) => `Resource::${r}`),
  ];
}

function isEventBridgeDeliveryDlq(queue: sqs.CfnQueue): boolean {
  const stack = Stack.of(queue);
  const queueId = stack.resolve(queue.logicalId) as string;
  return stack.node
    .findAll()
    .filter((c): c is events.CfnRule => c instanceof events.CfnRule)
    .some((rule) => {
      // L1 property values resolve with their TypeScript (camelCase) names.
      const targets = (stack.resolve(rule.targets) ?? []) as { deadLetterConfig?: { arn?: unknown } }[];
      return targets.some((t) => getAttArnOf(t.deadLetterConfig?.arn) === queueId);
    });
}

function stackFacts(stack: Stack): StackFacts {
  const logicalIds = (type: abstract new (...args: never[]) => CfnElement) =>
    new Set(
      stack.node
        .findAll()
        .filter((c): c is CfnElement => c instanceof type)
        .map((c) => stack.resolve(c.logicalId) as string),
    );
  return { keyIds: logicalIds(kms.CfnKey), tableIds: logicalIds(dynamodb.CfnTable) };
}

function actions(s: Statement): string[] {
  return asArray(s.Action) as string[];
}

function resources(s: Statement): unknown[] {
  return asArray(s.Resource);
}

function only(s: Statement, allowed: ReadonlySet<string>): boolean {
  return actions(s).length > 0 && actions(s).every((a) => allowed.has(a));
}

function hasOptInCondition(s: Statement): boolean {
  return s.Condition?.StringEquals?.[`aws:ResourceTag/${OPT_IN_TAG.key}`] === OPT_IN_TAG.value;
}

function limitsToSundownPolicies(s: Statement): boolean {
  const arns = asArray(s.Condition?.ArnLike?.['iam:PolicyARN']).map(flattenReference);
  return arns.length > 0 && arns.every((arn) => arn.endsWith(`:policy${SUNDOWN_POLICY_PATH}*`));
}

function getAttArnOf(value: unknown): string | undefined {
  const att = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return att?.[1] === 'Arn' ? att[0] : undefined;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A resolved CloudFormation value as cdk-nag prints it in finding IDs (`<Logical.Arn>`, `<AWS::Partition>`). */
function flattenReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const v = value as Record<string, unknown>;
  if (Array.isArray(v?.['Fn::Join'])) {
    const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if (v?.['Fn::Sub'] !== undefined) return flattenReference(v['Fn::Sub']);
  if (Array.isArray(v?.['Fn::GetAtt'])) {
    const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (v?.['Fn::ImportValue'] !== undefined) return flattenReference(v['Fn::ImportValue']);
  if (v?.Ref !== undefined) return `<${flattenReference(v.Ref)}>`;
  return JSON.stringify(value);
}
