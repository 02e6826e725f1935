/**
 * How the drill tells whether a session is denied, and its throwaway role.
 *
 * On AWS the probe is a real call with the session's credentials: iam:GetRole on the session's own
 * role (harmless, covered by Sundown's deny, which is `Action: *`; unlike sts:GetCallerIdentity,
 * which succeeds even under an explicit deny). AccessDenied means denied.
 *
 * moto does not enforce IAM, so locally the same call is evaluated with an independent IAM policy
 * evaluator (@cloud-copilot/iam-simulate) over the policies actually on the role, read back from
 * the emulator, with the session's aws:userid and aws:TokenIssueTime.
 */

import {
  type AttachedPolicy,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { OPT_IN_TAG } from '../../lambdas/shared/contract.ts';
import { CliError } from '../errors.ts';
import type { DrillSession, ProbeResult } from './run.ts';

export const PROBE_ACTION = 'iam:GetRole';
export const PROBE_POLICY_NAME = 'SundownDrillProbe';
export const SIMULATOR_NOTE = 'evaluated locally with an IAM policy simulator; moto does not enforce IAM';

const DENIED = new Set(['AccessDenied', 'AccessDeniedException']);

/** A real iam:GetRole on `roleName` signed with the session's credentials. */
export function awsProbe(roleName: string, region: string): (s: DrillSession) => Promise<ProbeResult> {
  return async (session) => {
    const iam = new IAMClient({ region, credentials: session.credentials, maxAttempts: 2 });
    try {
      await iam.send(new GetRoleCommand({ RoleName: roleName }));
      return 'allowed';
    } catch (err) {
      if (DENIED.has((err as Error).name)) return 'denied';
      throw new Error(`the probe call failed otherwise than with access denied: ${(err as Error).name}`);
    } finally {
      iam.destroy();
    }
  };
}

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

async function attachedPolicies(iam: IAMClient, roleName: string): Promise<AttachedPolicy[]> {
  const res = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  return res.AttachedPolicies ?? [];
}

/** iam:GetRole by the session, evaluated over the role's current policies. */
export function simulatorProbe(iam: IAMClient, roleName: string): (s: DrillSession) => Promise<ProbeResult> {
  return async (session) => {
    // A development dependency (AGPL-licensed, so not shipped with the Apache-2.0 package): an
    // emulator, and so this probe, only runs from a clone after npm install.
    const { runSimulation } = await import('@cloud-copilot/iam-simulate').catch(() => {
      throw new CliError(
        'the local IAM evaluator (@cloud-copilot/iam-simulate, a development dependency) is not installed: run the drill against an emulator from a clone of Sundown after npm install',
      );
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

/** The drill's own opted-in role: trusts the broker, may call iam:GetRole on itself (the probe). */
export async function createDrillRole(
  iam: IAMClient,
  opts: { roleName: string; brokerRoleArn: string },
): Promise<string> {
  const created = await iam.send(
    new CreateRoleCommand({
      RoleName: opts.roleName,
      Description: 'Sundown revocation drill (throwaway; deleted by the drill)',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: opts.brokerRoleArn },
            Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
          },
        ],
      }),
      Tags: [
        { Key: OPT_IN_TAG.key, Value: OPT_IN_TAG.value },
        { Key: 'sundown:drill', Value: 'true' },
      ],
    }),
  );
  const arn = created.Role?.Arn as string;
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: opts.roleName,
      PolicyName: PROBE_POLICY_NAME,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: PROBE_ACTION, Resource: arn }],
      }),
    }),
  );
  return arn;
}

/** Deletes the throwaway role with every policy on it (Sundown's deny included). */
export async function deleteDrillRole(iam: IAMClient, roleName: string): Promise<void> {
  const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  for (const name of inline.PolicyNames ?? [])
    await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
  for (const attached of await attachedPolicies(iam, roleName))
    await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: attached.PolicyArn }));
  await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
}
