import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * What a role's trust policy must allow Sundown's broker: it assumes the role (AssumeRole), tags
 * the session with the workload ID (Tags needs sts:TagSession) and names the workload as the
 * session's SourceIdentity (sts:SetSourceIdentity). Without the last two, STS refuses the call.
 */
export const BROKER_TRUST_ACTIONS = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] as const;
/** The Sid of the statement {@link trustSundownBroker} adds (preflight recognizes the broker's statement by it). */
export const BROKER_TRUST_SID = 'SundownBrokerIssuesSessions';

/**
 * Lets Sundown's broker issue sessions of `role`: adds one statement to the role's trust policy
 * allowing exactly {@link BROKER_TRUST_ACTIONS} to the broker's execution role, and nothing else.
 * The role must also carry the opt-in tag `sundown:revoke=enabled` (or be allowlisted), which the
 * broker's own permissions require.
 *
 * `broker` is the broker's role: `sundownStack.brokerRole` in the same CDK app, or the stack
 * output `BrokerRoleArn` (an ARN string) from another app.
 */
export function trustSundownBroker(role: iam.Role, broker: iam.IRole | string): void {
  const brokerArn = typeof broker === 'string' ? broker : broker.roleArn;
  if (!role.assumeRolePolicy) {
    throw new Error(`role ${role.node.path} has no trust policy to add the Sundown broker to`);
  }
  role.assumeRolePolicy.addStatements(
    new iam.PolicyStatement({
      sid: BROKER_TRUST_SID,
      actions: [...BROKER_TRUST_ACTIONS],
      principals: [new iam.ArnPrincipal(brokerArn)],
    }),
  );
}
