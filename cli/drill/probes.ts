/**
 * How `sundown drill` tells whether a session is denied, and its throwaway role.
 *
 * The probes are shared with the canary function: on AWS a real iam:GetRole with the session's
 * credentials (lambdas/canary/probe.ts); against an emulator, which does not enforce
 * IAM, the same request evaluated by an IAM policy simulator (local/simulator-probe.ts).
 */

import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { type DrillSession, PROBE_ACTION, type ProbeResult } from '../../lambdas/canary/index.ts';
import { OPT_IN_TAG } from '../../lambdas/shared/contract.ts';
import { attachedPolicies, simulatorProbe as localSimulatorProbe } from '../../local/simulator-probe.ts';
import { CliError } from '../errors.ts';

export { awsProbe, PROBE_ACTION } from '../../lambdas/canary/index.ts';
export { SIMULATOR_NOTE } from '../../local/simulator-probe.ts';

/** iam:GetRole by the session, evaluated over the role's current policies (emulators only). */
export function simulatorProbe(iam: IAMClient, roleName: string): (s: DrillSession) => Promise<ProbeResult> {
  return localSimulatorProbe(iam, roleName, (message) => new CliError(message));
}

export const PROBE_POLICY_NAME = 'SundownDrillProbe';

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
