/**
 * The revocation drill's probe against an emulator. moto does not enforce IAM, so the request the
 * AWS probe makes (iam:GetRole on the session's own role, lambdas/canary/probe.ts) is
 * evaluated with an independent IAM policy evaluator (@cloud-copilot/iam-simulate) over the policies
 * actually on the role, read back from the emulator, with the session's aws:userid and
 * aws:TokenIssueTime.
 *
 * The evaluator is an AGPL-licensed development dependency: it is loaded only here, at run time,
 * and never bundled into a function. `sundown drill --local` uses it, and the local runtime hands it
 * to the canary function in place of the AWS probe (local/runtime.ts).
 */
import {
  type AttachedPolicy,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { type DrillSession, PROBE_ACTION, type ProbeResult } from '../lambdas/canary/index.ts';

export const SIMULATOR_NOTE = 'evaluated locally with an IAM policy simulator; moto does not enforce IAM';
export const SIMULATOR_MISSING =
  'the local IAM evaluator (@cloud-copilot/iam-simulate, a development dependency) is not installed: run the drill against an emulator from a clone of Sundown after npm install';

const decode = (doc: string | undefined) =>
  JSON.parse(decodeURIComponent(doc ?? '{}')) as Record<string, unknown>;

/** Every policy on the role (inline and attached managed), as IAM holds them now. */
export async function rolePolicies(iam: IAMClient, roleName: string): Promise<Record<string, unknown>[]> {
  const docs: Record<string, unknown>[] = [];
  const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  for (const name of inline.PolicyNames ?? []) {
    const p = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    docs.push(decode(p.PolicyDocument));
  }
  for (const attached of await attachedPolicies(iam, roleName)) {
    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: attached.PolicyArn }));
    const version = await iam.send(
      new GetPolicyVersionCommand({
        PolicyArn: attached.PolicyArn,
        VersionId: policy.Policy?.DefaultVersionId,
      }),
    );
    docs.push(decode(version.PolicyVersion?.Document));
  }
  return docs;
}

export async function attachedPolicies(iam: IAMClient, roleName: string): Promise<AttachedPolicy[]> {
  const res = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  return res.AttachedPolicies ?? [];
}

/**
 * iam:GetRole by the session, evaluated over the role's current policies. `missing` makes the error
 * thrown when the evaluator is not installed (the CLI's own error type).
 */
export function simulatorProbe(
  iam: IAMClient,
  roleName: string,
  missing: (message: string) => Error = (m) => new Error(m),
): (s: DrillSession) => Promise<ProbeResult> {
  return async (session) => {
    // A development dependency (AGPL-licensed, so not shipped with the Apache-2.0 package): an
    // emulator, and so this probe, only runs from a clone after npm install.
    const { runSimulation } = await import('@cloud-copilot/iam-simulate').catch(() => {
      throw missing(SIMULATOR_MISSING);
    });
    const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    const account = role?.Arn?.split(':')[4] ?? '';
    const policies = await rolePolicies(iam, roleName);
    const res = await runSimulation(
      {
        identityPolicies: policies.map((policy, i) => ({ name: `policy-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:sts::${account}:assumed-role/${roleName}/${session.sessionName}`,
          action: PROBE_ACTION,
          resource: { resource: role?.Arn ?? '', accountId: account },
          contextVariables: {
            'aws:userid': `${role?.RoleId}:${session.sessionName}`,
            'aws:TokenIssueTime': new Date(session.issuedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          },
        },
      },
      {},
    );
    if (res.resultType === 'error')
      throw new Error(`the IAM simulator rejected its input: ${res.errors.message}`);
    return res.overallResult === 'Allowed' ? 'allowed' : 'denied';
  };
}
