/** Policy statements as cdk-nag sees them (resolved), and the helpers the acknowledgement rules share. */
import { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from '../constructs/revocation-permissions.ts';

/** A policy statement as CloudFormation sees it (resolved). */
export interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** What the stack holds that a justification may check a statement against (logical IDs). */
export interface StackFacts {
  keyIds: Set<string>;
  tableIds: Set<string>;
}

/** What a wildcard finding's statement may be, and why that is acceptable. */
export interface WildcardJustification {
  readonly reason: string;
  /** `finding` is the IAM5 finding ID suffix, e.g. `Resource::*` or `Action::kms:ReEncrypt*`. */
  applies(statement: Statement, finding: string, stack: StackFacts): boolean;
}

/** The account's IAM ARN prefix as cdk-nag prints it (partition and account may be tokens). */
export const IAM_ARN = String.raw`arn:(?:<AWS::Partition>|aws[a-z-]*):iam::(?:<AWS::AccountId>|\d{12}):`;
export const IAM_PRINCIPAL_WILDCARD = new RegExp(
  String.raw`^Resource::${IAM_ARN}(role|user|instance-profile)/\*$`,
);

export const REVOKER_IAM_WRITES = new Set([
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:UpdateAccessKey',
  'iam:PutUserPolicy',
  'iam:DeleteUserPolicy',
]);
export const POLICY_ATTACHMENT = new Set(['iam:AttachRolePolicy', 'iam:DetachRolePolicy']);
export const BROKER_ASSUME = new Set(['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']);

export function actions(s: Statement): string[] {
  return asArray(s.Action) as string[];
}

export function resources(s: Statement): unknown[] {
  return asArray(s.Resource);
}

/** The statement has actions, and every one is in `allowed`. */
export function only(s: Statement, allowed: ReadonlySet<string>): boolean {
  return actions(s).length > 0 && actions(s).every((a) => allowed.has(a));
}

export function hasOptInCondition(s: Statement): boolean {
  return s.Condition?.StringEquals?.[`aws:ResourceTag/${OPT_IN_TAG.key}`] === OPT_IN_TAG.value;
}

/** Attach/DetachRolePolicy limited (iam:PolicyARN) to Sundown's own managed policies. */
export function limitsToSundownPolicies(s: Statement): boolean {
  const arns = asArray(s.Condition?.ArnLike?.['iam:PolicyARN']).map(flattenReference);
  return arns.length > 0 && arns.every((arn) => arn.endsWith(`:policy${SUNDOWN_POLICY_PATH}*`));
}

/** Attach/DetachRolePolicy are absent, or limited to Sundown's own managed policies. */
export function attachesOnlySundownPolicies(s: Statement): boolean {
  return !actions(s).some((a) => POLICY_ATTACHMENT.has(a)) || limitsToSundownPolicies(s);
}

export function getAttArnOf(value: unknown): string | undefined {
  const att = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return att?.[1] === 'Arn' ? att[0] : undefined;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The IAM5 finding IDs of one Allow statement, as cdk-nag names them. */
export function wildcardFindings(statement: Statement): string[] {
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

/** A resolved CloudFormation value as cdk-nag prints it in finding IDs (`<Logical.Arn>`, `<AWS::Partition>`). */
export function flattenReference(value: unknown): string {
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
