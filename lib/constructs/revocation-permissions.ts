import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The tag that opts a role or user in to revocation by Sundown. */
export { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from '../../lambdas/shared/contract.ts';

import { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from '../../lambdas/shared/contract.ts';

export interface RevocationStatementsProps {
  /** The partition and account whose roles and users the statements cover (a spoke's, or the stack's own). */
  readonly partition: string;
  readonly account: string;
  /** ARNs or path prefixes (`/team/`) of principals opted in by configuration. */
  readonly allowlist: readonly string[];
  /** Private CAs revocation may use; a spoke has none (CAs stay in the hub). */
  readonly certificateAuthorityArns: readonly string[];
}

export interface RevocationPermissionsProps extends Omit<RevocationStatementsProps, 'partition' | 'account'> {
  readonly role: iam.IRole;
}

/**
 * What a revoker may change in one account, enforced by IAM itself and not only by code:
 * every IAM write is limited to principals carrying the opt-in tag or named in
 * the allowlist, managed policies only under Sundown's own path, never a
 * service-linked role, Private CA revocation only on the configured CAs.
 * The hub's Revoker gets these for its own account; a spoke's SundownSpokeRevoker role for the spoke's.
 */
export function revocationStatements(props: RevocationStatementsProps): iam.PolicyStatement[] {
  const iamArn = (resource: string) => `arn:${props.partition}:iam::${props.account}:${resource}`;
  const sundownPolicies = iamArn(`policy${SUNDOWN_POLICY_PATH}*`);
  const taggedOptIn = { StringEquals: { [`aws:ResourceTag/${OPT_IN_TAG.key}`]: OPT_IN_TAG.value } };
  const allowlisted = (kind: 'role' | 'user') =>
    props.allowlist
      .map((entry) => (entry.startsWith('arn:') ? entry : iamArn(`${kind}${entry}*`)))
      .filter((arn) => arn.includes(`:${kind}/`));

  const roleWrites = ['iam:PutRolePolicy', 'iam:DeleteRolePolicy'];
  const roleAttach = ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'];
  // Keys are deactivated (reversible), never deleted: no iam:DeleteAccessKey.
  const userWrites = ['iam:UpdateAccessKey', 'iam:PutUserPolicy', 'iam:DeleteUserPolicy'];
  const statements: iam.PolicyStatement[] = [];
  const add = (statement: iam.PolicyStatement) => statements.push(statement);

  add(
    new iam.PolicyStatement({
      sid: 'WriteOptedInRoles',
      actions: roleWrites,
      resources: [iamArn('role/*')],
      conditions: taggedOptIn,
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'AttachSundownPoliciesToOptedInRoles',
      actions: roleAttach,
      resources: [iamArn('role/*')],
      conditions: { ...taggedOptIn, ArnLike: { 'iam:PolicyARN': sundownPolicies } },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'WriteOptedInUsers',
      actions: userWrites,
      resources: [iamArn('user/*')],
      conditions: taggedOptIn,
    }),
  );
  const roles = allowlisted('role');
  if (roles.length > 0) {
    add(new iam.PolicyStatement({ sid: 'WriteAllowlistedRoles', actions: roleWrites, resources: roles }));
    add(
      new iam.PolicyStatement({
        sid: 'AttachSundownPoliciesToAllowlistedRoles',
        actions: roleAttach,
        resources: roles,
        conditions: { ArnLike: { 'iam:PolicyARN': sundownPolicies } },
      }),
    );
  }
  const users = allowlisted('user');
  if (users.length > 0) {
    add(new iam.PolicyStatement({ sid: 'WriteAllowlistedUsers', actions: userWrites, resources: users }));
  }
  add(
    new iam.PolicyStatement({
      sid: 'ManageSundownPolicies',
      actions: [
        'iam:CreatePolicy',
        'iam:CreatePolicyVersion',
        'iam:DeletePolicy',
        'iam:DeletePolicyVersion',
        'iam:ListPolicyVersions',
      ],
      resources: [sundownPolicies],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'ReadPrincipals',
      actions: [
        'iam:GetRole',
        'iam:ListRolePolicies',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:GetUser',
      ],
      resources: [iamArn('role/*'), iamArn('user/*')],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'NeverServiceLinkedRoles',
      effect: iam.Effect.DENY,
      actions: [...roleWrites, ...roleAttach],
      resources: [iamArn('role/aws-service-role/*')],
    }),
  );
  if (props.certificateAuthorityArns.length > 0) {
    add(
      new iam.PolicyStatement({
        sid: 'RevokeOnConfiguredCas',
        actions: ['acm-pca:RevokeCertificate'],
        resources: [...props.certificateAuthorityArns],
      }),
    );
  }
  return statements;
}

/** The revoker's permissions in the stack's own account (revocationStatements), on its role. */
export class RevocationPermissions extends Construct {
  constructor(scope: Construct, id: string, props: RevocationPermissionsProps) {
    super(scope, id);
    const { account, partition } = Stack.of(this);
    for (const statement of revocationStatements({ ...props, partition, account })) {
      props.role.addToPrincipalPolicy(statement);
    }
  }
}
