/**
 * Who Sundown may change: roles and users tagged `sundown:revoke=enabled`, or
 * named (by ARN or path prefix) in the deployment's allowlist. Service-linked
 * roles never. IAM enforces the same rule on the revoker's own permissions;
 * this check lets Sundown record a clear `skipped` instead of an access error.
 */
import {
  GetRoleCommand,
  GetUserCommand,
  type IAMClient,
  NoSuchEntityException,
  type Tag,
} from '@aws-sdk/client-iam';

export const OPT_IN_TAG_KEY = 'sundown:revoke';
export const OPT_IN_TAG_VALUE = 'enabled';

export type OptInDecision =
  | { optedIn: true; via: 'tag' | 'allowlist'; principalId?: string }
  | { optedIn: false; reason: string };

export function allowlistMatches(allowlist: readonly string[], arn: string): boolean {
  const path = /:(?:role|user)(\/.*\/)[^/]+$/.exec(arn)?.[1] ?? '/';
  return allowlist.some((entry) => (entry.startsWith('arn:') ? entry === arn : path.startsWith(entry)));
}

function tagged(tags: Tag[] | undefined): boolean {
  return (tags ?? []).some((t) => t.Key === OPT_IN_TAG_KEY && t.Value === OPT_IN_TAG_VALUE);
}

export class OptInChecker {
  private readonly cache = new Map<string, OptInDecision>();

  constructor(
    private readonly iam: IAMClient,
    private readonly allowlist: readonly string[],
  ) {}

  /** Decides for a role or user ARN; cached for the life of the invocation batch. */
  async check(arn: string): Promise<OptInDecision> {
    const cached = this.cache.get(arn);
    if (cached) return cached;
    const decision = await this.decide(arn);
    this.cache.set(arn, decision);
    return decision;
  }

  private async decide(arn: string): Promise<OptInDecision> {
    const m = /^arn:[\w-]+:iam::\d{12}:(role|user)\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) return { optedIn: false, reason: `not an IAM role or user ARN: ${arn.slice(0, 100)}` };
    const [, kind, name] = m as unknown as [string, 'role' | 'user', string];
    if (kind === 'role' && arn.includes(':role/aws-service-role/')) {
      return { optedIn: false, reason: 'service-linked roles are never modified' };
    }
    try {
      const principal =
        kind === 'role'
          ? (await this.iam.send(new GetRoleCommand({ RoleName: name }))).Role
          : (await this.iam.send(new GetUserCommand({ UserName: name }))).User;
      const principalId =
        kind === 'role'
          ? (principal as { RoleId?: string })?.RoleId
          : (principal as { UserId?: string })?.UserId;
      if (tagged(principal?.Tags)) return { optedIn: true, via: 'tag', principalId };
      if (allowlistMatches(this.allowlist, arn)) return { optedIn: true, via: 'allowlist', principalId };
      return {
        optedIn: false,
        reason: `${kind} ${name} is not opted in: tag it ${OPT_IN_TAG_KEY}=${OPT_IN_TAG_VALUE} or add it to the allowlist`,
      };
    } catch (err) {
      if (err instanceof NoSuchEntityException)
        return { optedIn: false, reason: `${kind} ${name} does not exist` };
      throw err;
    }
  }
}
