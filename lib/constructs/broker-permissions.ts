import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { OPT_IN_TAG } from './revocation-permissions.ts';

export interface BrokerPermissionsProps {
  readonly role: iam.IRole;
  readonly allowlist: readonly string[];
  readonly certificateAuthorityArns: readonly string[];
}

/**
 * The broker may assume only opted-in roles (tag or allowlist), tagging the
 * session and setting its source identity, and issue certificates only from
 * the configured Private CAs.
 */
export function grantBrokerPermissions(props: BrokerPermissionsProps): void {
  const { account, partition } = Stack.of(props.role);
  const actions = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'];
  props.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AssumeOptedInRoles',
      actions,
      resources: [`arn:${partition}:iam::${account}:role/*`],
      conditions: { StringEquals: { [`aws:ResourceTag/${OPT_IN_TAG.key}`]: OPT_IN_TAG.value } },
    }),
  );
  const allowlisted = props.allowlist
    .map((e) => (e.startsWith('arn:') ? e : `arn:${partition}:iam::${account}:role${e}*`))
    .filter((arn) => arn.includes(':role/'));
  if (allowlisted.length > 0) {
    props.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AssumeAllowlistedRoles', actions, resources: allowlisted }),
    );
  }
  if (props.certificateAuthorityArns.length > 0) {
    props.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IssueFromConfiguredCas',
        // Describe: the CA's key algorithm decides the signing algorithm; Get: the issued certificate (its serial).
        actions: [
          'acm-pca:IssueCertificate',
          'acm-pca:GetCertificate',
          'acm-pca:DescribeCertificateAuthority',
        ],
        resources: [...props.certificateAuthorityArns],
      }),
    );
  }
}
