/**
 * Sundown's deny-policy domain: validating deny entries, rendering them into IAM policies scoped to exactly
 * the ended workloads' sessions, and pruning entries whose credentials have all expired. Pure; no AWS calls.
 */
export {
  DEFAULT_MANAGED_POLICIES_PER_ROLE,
  MANAGED_POLICY_LIMIT,
  type PolicyDocument,
  type PolicyStatement,
  policySize,
  policyTextSize,
  ROLE_INLINE_POLICY_LIMIT,
} from './deny-policy/document.ts';
export {
  assertValidSessionName,
  type DenyEntry,
  InvalidDenyEntryError,
  pruneEntries,
  SESSION_NAME_PATTERN,
} from './deny-policy/entry.ts';
export {
  COARSENING_STEPS_SECONDS,
  FRESH_ROLE_OPTIONS,
  type RenderedPolicies,
  type RenderOptions,
  renderDenyPolicies,
  UNBOUNDED_COARSENING,
} from './deny-policy/render.ts';
