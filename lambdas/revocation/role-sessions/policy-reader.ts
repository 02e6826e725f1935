/**
 * Reads back what Sundown's policies on a role deny, only to verify them (the reconciliation sweep's
 * drift check): the inline policy `SundownRevokedSessions` and the managed policies under
 * `/sundown/` attached to the role. Nothing is ever written from what is read here: a deny found
 * missing is restored by rendering the role's whole deny set from DynamoDB again.
 */

import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { arnAccount, clientIn, type PerAccount } from '../../shared/adapters/accounts.ts';
import { INLINE_POLICY_NAME, SUNDOWN_POLICY_PATH } from './policy-writer.ts';

export interface DenyPolicyReader {
  /**
   * Session name -> the latest `aws:TokenIssueTime` bound (epoch ms) a Sundown policy on the role
   * denies it before (Infinity for a never-reused name denied with no date condition); undefined when
   * the policies could not be read (the caller then assumes nothing).
   */
  deniedSessions(roleArn: string): Promise<Map<string, number> | undefined>;
}

interface Statement {
  Effect?: string;
  Condition?: { StringLike?: Record<string, string | string[]>; DateLessThan?: Record<string, string> };
}

/** Session name -> latest bound, from policy documents rendered by Sundown. Pure. */
export function deniedSessionsIn(documents: readonly string[]): Map<string, number> {
  const denied = new Map<string, number>();
  for (const text of documents) {
    let doc: { Statement?: Statement | Statement[] };
    try {
      doc = JSON.parse(text) as { Statement?: Statement | Statement[] };
    } catch {
      continue;
    }
    for (const s of [doc.Statement ?? []].flat()) {
      if (s.Effect !== 'Deny') continue;
      const bound = boundOf(s);
      if (Number.isNaN(bound)) continue;
      for (const value of [s.Condition?.StringLike?.['aws:userid'] ?? []].flat()) {
        if (!value.startsWith('*:')) continue;
        const name = value.slice(2);
        denied.set(name, Math.max(denied.get(name) ?? 0, bound));
      }
    }
  }
  return denied;
}

/** A statement's bound in epoch ms: Infinity when it has no date condition, NaN when unreadable. */
function boundOf(s: Statement): number {
  const date = s.Condition?.DateLessThan;
  if (date === undefined) return Number.POSITIVE_INFINITY;
  return Date.parse(date['aws:TokenIssueTime'] ?? '');
}

function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

function isNoSuchEntity(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'NoSuchEntity' || name === 'NoSuchEntityException';
}

export class IamDenyPolicyReader implements DenyPolicyReader {
  /** One client, or one per account (a hub reads a spoke's roles through the spoke's reader role). */
  constructor(private readonly iam: IAMClient | PerAccount<IAMClient>) {}

  async deniedSessions(roleArn: string): Promise<Map<string, number> | undefined> {
    const roleName = roleNameOf(roleArn);
    const where = arnAccount(roleArn);
    const iam = where ? clientIn(this.iam, where.account, where.partition) : clientIn(this.iam, '', 'aws');
    const documents: string[] = [];
    try {
      try {
        const inline = await iam.send(
          new GetRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }),
        );
        documents.push(decodeURIComponent(inline.PolicyDocument ?? ''));
      } catch (err) {
        if (!isNoSuchEntity(err)) throw err;
      }
      let marker: string | undefined;
      do {
        const page = await iam.send(
          new ListAttachedRolePoliciesCommand({
            RoleName: roleName,
            PathPrefix: SUNDOWN_POLICY_PATH,
            Marker: marker,
          }),
        );
        for (const attached of page.AttachedPolicies ?? []) {
          if (!attached.PolicyArn?.includes(`:policy${SUNDOWN_POLICY_PATH}`)) continue;
          const policy = await iam.send(new GetPolicyCommand({ PolicyArn: attached.PolicyArn }));
          const version = await iam.send(
            new GetPolicyVersionCommand({
              PolicyArn: attached.PolicyArn,
              VersionId: policy.Policy?.DefaultVersionId ?? 'v1',
            }),
          );
          documents.push(decodeURIComponent(version.PolicyVersion?.Document ?? ''));
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    } catch {
      return undefined;
    }
    return deniedSessionsIn(documents);
  }
}
