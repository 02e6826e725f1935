/**
 * How full Sundown packs a role's deny policies, and how it recognizes IAM refusing one for its size.
 */
import { createHash } from 'node:crypto';
import { MANAGED_POLICY_LIMIT, type PolicyDocument, ROLE_INLINE_POLICY_LIMIT } from '../deny-policy.ts';

/**
 * Sundown never packs a policy to IAM's exact limit: it renders into 95% of it, so a difference
 * in how IAM counts (or a quota lowered) does not leave a role with its deny unwritten.
 */
export const POLICY_HEADROOM = 0.05;
export const INLINE_RENDER_LIMIT = Math.floor(ROLE_INLINE_POLICY_LIMIT * (1 - POLICY_HEADROOM));
export const MANAGED_RENDER_LIMIT = Math.floor(MANAGED_POLICY_LIMIT * (1 - POLICY_HEADROOM));

/** IAM refused a document for its size: re-render smaller (see {@link isPolicySizeError}). */
export function isPolicySizeError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  const message = String((err as { message?: string })?.message ?? '');
  if (name === 'LimitExceededException' || name === 'LimitExceeded') return /size|exceed/i.test(message);
  if (name === 'MalformedPolicyDocumentException' || name === 'MalformedPolicyDocument')
    return /size|length|too large|exceed/i.test(message);
  return false;
}

/** The hash a render records per policy, to skip rewriting documents that did not change. */
export function documentHash(doc: PolicyDocument | null): string {
  return doc ? createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32) : 'absent';
}
