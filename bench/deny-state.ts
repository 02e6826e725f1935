/**
 * What a role's Sundown policies deny, read back from IAM after a run: the measure of a lost
 * revocation.
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { policyTextSize } from '../lambdas/revocation/deny-policy.ts';
import { INLINE_POLICY_NAME } from '../lambdas/revocation/role-sessions/policy-writer.ts';
import type { BenchClients } from './env.ts';
import { deniedSessions } from './metrics.ts';

export interface RoleDenyState {
  sessions: Map<string, string>;
  inlineChars: number;
  managed: number;
  managedChars: number[];
}

/** What the role's Sundown policies (inline + /sundown/ managed overflow) deny, read back from IAM. */
export async function roleDenyState(
  env: { clients: Pick<BenchClients, 'iam'> },
  roleName: string,
): Promise<RoleDenyState> {
  const { iam } = env.clients;
  const sessions = new Map<string, string>();
  const merge = (m: Map<string, string>) => {
    for (const [k, v] of m) if ((sessions.get(k) ?? '') < v) sessions.set(k, v);
  };
  let inlineChars = 0;
  try {
    const res = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }),
    );
    const text = decodeURIComponent(res.PolicyDocument ?? '');
    inlineChars = policyTextSize(text);
    merge(deniedSessions(text));
  } catch (err) {
    if (!(err instanceof NoSuchEntityException)) throw err;
  }
  const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  const managedChars: number[] = [];
  for (const p of attached.AttachedPolicies ?? []) {
    if (!p.PolicyArn?.includes(':policy/sundown/')) continue;
    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: p.PolicyArn }));
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: p.PolicyArn, VersionId: policy.Policy?.DefaultVersionId }),
    );
    const text = decodeURIComponent(version.PolicyVersion?.Document ?? '');
    managedChars.push(policyTextSize(text));
    merge(deniedSessions(text));
  }
  return { sessions, inlineChars, managed: managedChars.length, managedChars };
}
