/**
 * Who Sundown may change: roles and users tagged `sundown:revoke=enabled`, or
 * named (by ARN or path prefix) in the deployment's allowlist. Service-linked
 * roles never. IAM enforces the same rule on the revoker's own permissions;
 * this check lets Sundown record a clear `skipped` instead of an access error.
 *
 * ARNs are compared with their partition and path (lambdas/shared/domain/iam-arn.ts): the allowlist is
 * matched against the ARN IAM itself returns for the principal, so a caller that built the ARN from an
 * account and a name (no path) still gets the right answer, and the decision carries that ARN.
 *
 * Decisions are cached for a bounded time (60 s by default): a role tagged or untagged after a function
 * started is seen within that time, not only after the next cold start.
 */

import {
  GetRoleCommand,
  GetUserCommand,
  type IAMClient,
  NoSuchEntityException,
  type Tag,
} from '@aws-sdk/client-iam';
import { AccountNotServed, clientIn, type PerAccount } from '../shared/adapters/accounts.ts';
import { OPT_IN_TAG } from '../shared/contract.ts';
import { type IamArn, isServiceLinkedRole, parseIamArn, sameIamPrincipal } from '../shared/domain/iam-arn.ts';

export const OPT_IN_TAG_KEY = OPT_IN_TAG.key;
export const OPT_IN_TAG_VALUE = OPT_IN_TAG.value;

/** How long a decision is reused, by default. */
export const DEFAULT_OPT_IN_CACHE_TTL_MS = 60_000;
/** Most decisions kept at once; the oldest is dropped first. */
export const DEFAULT_OPT_IN_CACHE_MAX_ENTRIES = 1_000;

export type OptInDecision =
  | {
      optedIn: true;
      via: 'tag' | 'allowlist';
      principalId?: string;
      /** The principal's ARN as IAM reports it (with its path and partition), when IAM returned one. */
      arn?: string;
    }
  | { optedIn: false; reason: string };

export interface OptInCheckerOptions {
  /** How long a decision is reused, in milliseconds (default 60 s; 0 disables caching). */
  ttlMs?: number;
  /** Most decisions kept at once (default 1,000). */
  maxEntries?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * True when the allowlist names the principal: an ARN entry names the same principal (partition, account,
 * kind, path and name all equal), or a path entry (`/workloads/`) is a prefix of the principal's path.
 */
export function allowlistMatches(allowlist: readonly string[], arn: string): boolean {
  const principal = parseIamArn(arn);
  if (!principal) return false;
  return allowlist.some((entry) =>
    entry.startsWith('arn:') ? sameIamPrincipal(entry, arn) : principal.path.startsWith(entry),
  );
}

function tagged(tags: Tag[] | undefined): boolean {
  return (tags ?? []).some((t) => t.Key === OPT_IN_TAG_KEY && t.Value === OPT_IN_TAG_VALUE);
}

export class OptInChecker {
  private readonly cache = new Map<string, { decision: OptInDecision; at: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    /** One client, or one per account (a hub reads a spoke's principals through the spoke's reader role). */
    private readonly iam: IAMClient | PerAccount<IAMClient>,
    private readonly allowlist: readonly string[],
    options: OptInCheckerOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_OPT_IN_CACHE_TTL_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_OPT_IN_CACHE_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
    for (const [key, value] of [
      ['ttlMs', this.ttlMs],
      ['maxEntries', this.maxEntries],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `opt-in cache option ${key} ${value} is invalid: expected a non-negative number`,
        );
      }
    }
  }

  /** Decides for a role or user ARN; a decision is reused for at most the cache TTL. */
  async check(arn: string): Promise<OptInDecision> {
    const now = this.now();
    const cached = this.cache.get(arn);
    if (cached && now - cached.at < this.ttlMs) return cached.decision;
    this.cache.delete(arn);
    const decision = await this.decide(arn);
    if (this.ttlMs > 0 && this.maxEntries > 0) {
      while (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next().value as string;
        this.cache.delete(oldest);
      }
      this.cache.set(arn, { decision, at: now });
    }
    return decision;
  }

  private async decide(arn: string): Promise<OptInDecision> {
    const asked = parseIamArn(arn);
    if (!asked) return { optedIn: false, reason: `not an IAM role or user ARN: ${arn.slice(0, 100)}` };
    const { kind, name } = asked;
    if (isServiceLinkedRole(asked)) {
      return { optedIn: false, reason: 'service-linked roles are never modified' };
    }
    try {
      const iam = clientIn(this.iam, asked.account, asked.partition);
      const principal =
        kind === 'role'
          ? (await iam.send(new GetRoleCommand({ RoleName: name }))).Role
          : (await iam.send(new GetUserCommand({ UserName: name }))).User;
      const principalId =
        kind === 'role'
          ? (principal as { RoleId?: string })?.RoleId
          : (principal as { UserId?: string })?.UserId;
      // IAM's own ARN carries the real path and partition; the asked-for ARN may lack the path.
      const actual = principal?.Arn ? parseIamArn(principal.Arn) : undefined;
      const mismatch = actual && differentPrincipal(asked, actual);
      if (mismatch) return { optedIn: false, reason: mismatch };
      const canonical = actual && principal?.Arn ? principal.Arn : arn;
      if (actual && isServiceLinkedRole(actual)) {
        return { optedIn: false, reason: 'service-linked roles are never modified' };
      }
      const found = { ...(principalId ? { principalId } : {}), ...(actual ? { arn: canonical } : {}) };
      if (tagged(principal?.Tags)) return { optedIn: true, via: 'tag', ...found };
      if (allowlistMatches(this.allowlist, canonical)) return { optedIn: true, via: 'allowlist', ...found };
      return {
        optedIn: false,
        reason: `${kind} ${name} is not opted in: tag it ${OPT_IN_TAG_KEY}=${OPT_IN_TAG_VALUE} or add it to the allowlist`,
      };
    } catch (err) {
      if (err instanceof NoSuchEntityException)
        return { optedIn: false, reason: `${kind} ${name} does not exist` };
      if (err instanceof AccountNotServed) return { optedIn: false, reason: err.message };
      throw err;
    }
  }
}

/**
 * A reason when IAM's principal is not the one asked about: another account (Sundown changes only its
 * own), or a path the ARN names explicitly that differs. An ARN with the root path `/` is taken to mean
 * "this name, path unknown", because ARNs built from an account and a name carry no path.
 */
function differentPrincipal(asked: IamArn, actual: IamArn): string | undefined {
  if (asked.account !== actual.account) {
    return `${asked.kind} ${asked.name} of account ${asked.account} is not in this account (${actual.account}); Sundown changes only its own account`;
  }
  if (asked.path !== '/' && asked.path !== actual.path) {
    return `${asked.kind} ${asked.name} is at path ${actual.path}, not ${asked.path}`;
  }
  return undefined;
}
