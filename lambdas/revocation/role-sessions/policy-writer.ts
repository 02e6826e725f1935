/**
 * Writes rendered deny policies onto a role: one inline policy, then Sundown-owned managed policies
 * under `/sundown/` for overflow. The documents come from the registry (DynamoDB); Sundown's own
 * policy is never read back to modify it. Other inline policies are read only for the budget left.
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
import { clientIn, type PerAccount } from '../../shared/adapters/accounts.ts';
import { DENY_POLICY_NAME, SUNDOWN_POLICY_PATH } from '../../shared/contract.ts';
import {
  DEFAULT_MANAGED_POLICIES_PER_ROLE,
  type PolicyDocument,
  policyTextSize,
  type RenderedPolicies,
  type RenderOptions,
} from '../deny-policy.ts';
import { documentHash, INLINE_RENDER_LIMIT, MANAGED_RENDER_LIMIT } from './policy-limits.ts';

export {
  documentHash,
  INLINE_RENDER_LIMIT,
  isPolicySizeError,
  MANAGED_RENDER_LIMIT,
  POLICY_HEADROOM,
} from './policy-limits.ts';

/** What a role holds besides Sundown's inline policy: the budgets left, and what is attached. */
export interface RoleInspection {
  budgets: RenderOptions;
  attached: ReadonlySet<string>;
}

export const INLINE_POLICY_NAME = DENY_POLICY_NAME;
export { SUNDOWN_POLICY_PATH };

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
  /** Policy name -> hash of what the role now holds (see {@link documentHash}). */
  hashes: Record<string, string>;
}

export interface RolePolicyWriterOptions {
  /**
   * How long later renders in this process reuse a role's inspection (0: never). A stale view is
   * safe: IAM refuses a document that does not fit (retried with a fresh inspection), attaching
   * is idempotent, and a stale overflow policy denies only sessions ended before its bounds.
   * @default 0
   */
  inspectionTtlMs?: number;
  now?: () => number;
}

export class RolePolicyWriter {
  private readonly inspections = new Map<string, { at: number; inspection: RoleInspection }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    /** One client, or one per account (a hub writes in a spoke through the spoke's revoker role). */
    private readonly iam: IAMClient | PerAccount<IAMClient>,
    options: RolePolicyWriterOptions = {},
  ) {
    this.ttlMs = options.inspectionTtlMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  /** Budgets left (with {@link POLICY_HEADROOM}) and attachments: reused within the TTL unless `fresh`. */
  async inspect(roleArn: string, { fresh = false }: { fresh?: boolean } = {}): Promise<RoleInspection> {
    const cached = this.inspections.get(roleArn);
    if (!fresh && cached && this.now() - cached.at < this.ttlMs) return cached.inspection;
    const inspection = await this.readInspection(roleArn);
    if (this.ttlMs > 0) {
      if (this.inspections.size >= 1_000) this.inspections.clear(); // bounded; a miss only costs reads
      this.inspections.set(roleArn, { at: this.now(), inspection });
    }
    return inspection;
  }

  /** Drops a role's reused inspection (after a failed write). */
  forget(roleArn: string): void {
    this.inspections.delete(roleArn);
  }

  /** The client for the role's own account. */
  private iamOf(roleArn: string): IAMClient {
    const { partition, account } = arnParts(roleArn);
    return clientIn(this.iam, account, partition);
  }

  private async readInspection(roleArn: string): Promise<RoleInspection> {
    const { roleName } = arnParts(roleArn);
    const iam = this.iamOf(roleArn);
    // The role's inline policies and its attached ones are read side by side.
    const [othersInline, attached] = await Promise.all([
      this.othersInlineSize(iam, roleName),
      this.attached(iam, roleName),
    ]);
    const foreign = attached.filter((p) => !p.path.startsWith(SUNDOWN_POLICY_PATH)).length;
    return {
      budgets: {
        inlineBudget: Math.max(0, INLINE_RENDER_LIMIT - othersInline),
        managedBudget: MANAGED_RENDER_LIMIT,
        maxManagedPolicies: Math.max(0, DEFAULT_MANAGED_POLICIES_PER_ROLE - foreign),
      },
      attached: new Set(attached.map((p) => p.arn)),
    };
  }

  /** Characters of the role's inline policies other than Sundown's. */
  private async othersInlineSize(iam: IAMClient, roleName: string): Promise<number> {
    let size = 0;
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
      for (const name of page.PolicyNames ?? []) {
        if (name === INLINE_POLICY_NAME) continue;
        const doc = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
        size += policyTextSize(decodeURIComponent(doc.PolicyDocument ?? ''));
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return size;
  }

  private async attached(iam: IAMClient, roleName: string): Promise<{ arn: string; path: string }[]> {
    const out: { arn: string; path: string }[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(
        new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }),
      );
      for (const p of page.AttachedPolicies ?? []) {
        if (p.PolicyArn) out.push({ arn: p.PolicyArn, path: p.PolicyArn.split(':policy')[1] ?? '' });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }

  /**
   * Writes what changed since the last render: a policy whose document hash equals `previous`
   * (what the last render wrote) is not written again. With `previous` empty every policy is
   * written. Overflow policies no longer needed are detached and deleted.
   */
  async apply(
    roleArn: string,
    rendered: RenderedPolicies,
    inspection: RoleInspection,
    previous: Readonly<Record<string, string>> = {},
  ): Promise<ApplyResult> {
    try {
      const result = await this.write(roleArn, rendered, inspection, previous);
      // What is attached now, for a reused inspection.
      const cached = this.inspections.get(roleArn);
      if (cached) cached.inspection = { ...cached.inspection, attached: result.attached };
      return { writes: result.writes, hashes: result.hashes };
    } catch (err) {
      this.forget(roleArn);
      throw err;
    }
  }

  private async write(
    roleArn: string,
    rendered: RenderedPolicies,
    inspection: RoleInspection,
    previous: Readonly<Record<string, string>>,
  ): Promise<ApplyResult & { attached: ReadonlySet<string> }> {
    const nowAttached = new Set(inspection.attached);
    const { partition, account, roleName } = arnParts(roleArn);
    const iam = this.iamOf(roleArn);
    const hashes: Record<string, string> = {};
    let writes = 0;
    const inlineHash = documentHash(rendered.inline);
    hashes[INLINE_POLICY_NAME] = inlineHash;
    if (previous[INLINE_POLICY_NAME] !== inlineHash) {
      if (rendered.inline) {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: INLINE_POLICY_NAME,
            PolicyDocument: JSON.stringify(rendered.inline),
          }),
        );
        writes++;
      } else {
        try {
          await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }));
          writes++;
        } catch (err) {
          if (!(err instanceof NoSuchEntityException)) throw err;
        }
      }
    }

    const policyArn = (i: number) =>
      `arn:${partition}:iam::${account}:policy${SUNDOWN_POLICY_PATH}${managedPolicyName(roleName, i)}`;
    for (const [i, doc] of rendered.managed.entries()) {
      const name = managedPolicyName(roleName, i);
      const hash = documentHash(doc);
      const attached = inspection.attached.has(policyArn(i));
      if (previous[name] !== hash || !attached) {
        writes += await this.upsertManaged(iam, roleName, policyArn(i), name, doc);
      }
      hashes[name] = hash;
      if (!attached) {
        await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn(i) }));
        nowAttached.add(policyArn(i));
        writes++;
      }
    }
    // Overflow policies no longer needed: detach and delete.
    for (let i = rendered.managed.length; i < DEFAULT_MANAGED_POLICIES_PER_ROLE * 2; i++) {
      if (!inspection.attached.has(policyArn(i))) continue;
      await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn(i) }));
      nowAttached.delete(policyArn(i));
      writes++;
      writes += await this.deleteManaged(iam, policyArn(i));
    }
    return { writes, hashes, attached: nowAttached };
  }

  private async upsertManaged(
    iam: IAMClient,
    roleName: string,
    arn: string,
    name: string,
    doc: PolicyDocument,
  ): Promise<number> {
    const text = JSON.stringify(doc);
    try {
      const versions = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
      const old = (versions.Versions ?? []).filter((v) => !v.IsDefaultVersion);
      let writes = 0;
      // IAM keeps at most 5 versions: make room first.
      if ((versions.Versions ?? []).length >= 5) {
        const oldest = old.sort((a, b) => Number(a.CreateDate) - Number(b.CreateDate))[0];
        if (oldest?.VersionId) {
          await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: oldest.VersionId }));
          writes++;
        }
      }
      await iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: text, SetAsDefault: true }),
      );
      return writes + 1;
    } catch (err) {
      if (!(err instanceof NoSuchEntityException)) throw err;
      await iam.send(
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

  private async deleteManaged(iam: IAMClient, arn: string): Promise<number> {
    let writes = 0;
    const versions = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    for (const v of versions.Versions ?? []) {
      if (v.IsDefaultVersion || !v.VersionId) continue;
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v.VersionId }));
      writes++;
    }
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    return writes + 1;
  }
}
