/** Every preflight rule, in the order they are listed in reports. */
import type { Rule } from '../rule.ts';
import { invalidSuppression, SUPPRESSIBLE_RULE_IDS } from './invalid-suppression.ts';
import { longLivedAccessKey } from './long-lived-access-key.ts';
import { roleChainingFromWorkload } from './role-chaining-from-workload.ts';
import { sessionDurationAboveMax } from './session-duration-above-max.ts';
import { trustBeyondWorkload } from './trust-beyond-workload.ts';
import { unresolvedReference } from './unresolved-reference.ts';
import { wildcardTrustPrincipal } from './wildcard-trust-principal.ts';
import { workloadRoleNotOptedIn } from './workload-role-not-opted-in.ts';

export const RULES: readonly Rule[] = [
  workloadRoleNotOptedIn,
  trustBeyondWorkload,
  wildcardTrustPrincipal,
  longLivedAccessKey,
  sessionDurationAboveMax,
  roleChainingFromWorkload,
  unresolvedReference,
  invalidSuppression,
];

for (const rule of RULES) if (rule !== invalidSuppression) SUPPRESSIBLE_RULE_IDS.add(rule.id);
