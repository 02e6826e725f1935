/**
 * How a revocation drill (./drill.ts) tells whether a session is denied, on
 * AWS: a real call with the session's credentials, iam:GetRole on the session's own role. It is
 * harmless and covered by Sundown's deny (`Action: *`), unlike sts:GetCallerIdentity, which succeeds
 * even under an explicit deny. AccessDenied means denied.
 *
 * moto does not enforce IAM: against an emulator the same request is evaluated by an IAM policy
 * simulator instead (local/simulator-probe.ts, a development dependency that no function bundles).
 */
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { PROBE_ACTION } from '../shared/contract.ts';
import type { DrillSession, ProbeResult } from './drill.ts';

export { PROBE_ACTION };

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
