/**
 * Writes rendered deny policies onto a role: one inline policy, then
 * Sundown-owned managed policies under `/sundown/` for overflow. The documents
 * come from the registry (DynamoDB); nothing here reads Sundown's own policy
 * back to modify it. Other inline policies are read only to know how much of
 * the role's shared 10,240-character inline budget is left.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DEFAULT_MANAGED_POLICIES_PER_ROLE,
  MANAGED_POLICY_LIMIT,
  type PolicyDocument,
  policyTextSize,
  type RenderedPolicies,
  type RenderOptions,
  ROLE_INLINE_POLICY_LIMIT,
} from '../domain/deny-policy.ts';

export const INLINE_POLICY_NAME = 'SundownRevokedSessions';
export const SUNDOWN_POLICY_PATH = '/sundown/';

export function managedPolicyName(roleName: string, index: number): string {
  return `sundown-${roleName}-${index + 1}`;
}

function arnParts(roleArn: string): { partition: string; account: string; roleName: string } {
  const m = /^arn:([\w-]+):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(roleArn);
  if (!m) throw new Error(`not a role ARN: "${roleArn.slice(0, 100)}"`);
  return { partition: m[1] as string, account: m[2] as string, roleName: m[3] as string };
}

export interface ApplyResult {
  /** Mutating IAM calls made (the cost the benchmarks count). */
  writes: number;
}

export class RolePolicyWriter {
  constructor(private readonly iam: IAMClient) {}

  /** Budgets left on the role for Sundown's policies. */
  async budgets(roleArn: string): Promise<RenderOptions> {
    const { roleName } = arnParts(roleArn);
    let othersInline = 0;
    let marker: string | undefined;
    do {
      const page = await this.iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
      for (const name of page.PolicyNames ?? []) {
        if (name === INLINE_POLICY_NAME) continue;
        const doc = await this.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
        othersInline += policyTextSize(decodeURIComponent(doc.PolicyDocument ?? ''));
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    const attached = await this.attached(roleName);
    const foreign = attached.filter((p) => !p.path.startsWith(SUNDOWN_POLICY_PATH)).length;
    return {
      inlineBudget: Math.max(0, ROLE_INLINE_POLICY_LIMIT - othersInline),
      managedBudget: MANAGED_POLICY_LIMIT,
      maxManagedPolicies: Math.max(0, DEFAULT_MANAGED_POLICIES_PER_ROLE - foreign),
    };
  }

  private async attached(roleName: string): Promise<{ arn: string; path: string }[]> {
    const out: { arn: string; path: string }[] = [];
    let marker: string | undefined;
    do {
      const page = await this.iam.send(
        new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }),
      );
      for (const p of page.AttachedPolicies ?? []) {
        if (p.PolicyArn) out.push({ arn: p.PolicyArn, path: p.PolicyArn.split(':policy')[1] ?? '' });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }

  async apply(roleArn: string, rendered: RenderedPolicies): Promise<ApplyResult> {
    const { partition, account, roleName } = arnParts(roleArn);
    let writes = 0;
    if (rendered.inline) {
      await this.iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: INLINE_POLICY_NAME,
          PolicyDocument: JSON.stringify(rendered.inline),
        }),
      );
      writes++;
    } else {
      try {
        await this.iam.send(
          new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }),
        );
        writes++;
      } catch (err) {
        if (!(err instanceof NoSuchEntityException)) throw err;
      }
    }

    const attached = new Set((await this.attached(roleName)).map((p) => p.arn));
    const policyArn = (i: number) =>
      `arn:${partition}:iam::${account}:policy${SUNDOWN_POLICY_PATH}${managedPolicyName(roleName, i)}`;
    for (const [i, doc] of rendered.managed.entries()) {
      writes += await this.upsertManaged(roleName, policyArn(i), managedPolicyName(roleName, i), doc);
      if (!attached.has(policyArn(i))) {
        await this.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn(i) }));
        writes++;
      }
    }
    // Overflow policies no longer needed: detach and delete.
    for (let i = rendered.managed.length; i < DEFAULT_MANAGED_POLICIES_PER_ROLE * 2; i++) {
      if (!attached.has(policyArn(i))) continue;
      await this.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn(i) }));
      writes++;
      writes += await this.deleteManaged(policyArn(i));
    }
    return { writes };
  }

  private async upsertManaged(
    roleName: string,
    arn: string,
    name: string,
    doc: PolicyDocument,
  ): Promise<number> {
    const text = JSON.stringify(doc);
    try {
      const versions = await this.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
      const old = (versions.Versions ?? []).filter((v) => !v.IsDefaultVersion);
      let writes = 0;
      // IAM keeps at most 5 versions: make room first.
      if ((versions.Versions ?? []).length >= 5) {
        const oldest = old.sort((a, b) => Number(a.CreateDate) - Number(b.CreateDate))[0];
        if (oldest?.VersionId) {
          await this.iam.send(
            new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: oldest.VersionId }),
          );
          writes++;
        }
      }
      await this.iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: text, SetAsDefault: true }),
      );
      return writes + 1;
    } catch (err) {
      if (!(err instanceof NoSuchEntityException)) throw err;
      await this.iam.send(
        new CreatePolicyCommand({
          PolicyName: name,
          Path: SUNDOWN_POLICY_PATH,
          PolicyDocument: text,
          Description: `Sundown: revoked sessions of role ${roleName} (rendered from Sundown's registry; do not edit)`,
        }),
      );
      return 1;
    }
  }

  private async deleteManaged(arn: string): Promise<number> {
    let writes = 0;
    const versions = await this.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    for (const v of versions.Versions ?? []) {
      if (v.IsDefaultVersion || !v.VersionId) continue;
      await this.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v.VersionId }));
      writes++;
    }
    await this.iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    return writes + 1;
  }
}
