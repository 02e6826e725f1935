import type { Rule } from '../rule.ts';
import { METADATA_KEY, metadataSuppressions } from '../suppressions.ts';

/** Rule IDs a suppression may name, filled in by rules/index.ts (every rule but this one). */
export const SUPPRESSIBLE_RULE_IDS = new Set<string>();

/** A suppression without a reason (or naming no known rule) suppresses nothing and is itself an error. */
export const invalidSuppression: Rule = {
  id: 'invalid-suppression',
  severity: 'error',
  description: `A ${METADATA_KEY} suppression in a resource's Metadata has no reason or names no known rule.`,
  help:
    'Every suppression must name a rule and say why the finding is accepted: { "id": "<rule id>", "reason": "<why>" }. ' +
    'An invalid entry suppresses nothing. This finding cannot be suppressed.',
  check(model) {
    return Object.entries(model.resources).flatMap(([id, resource]) =>
      metadataSuppressions(resource, SUPPRESSIBLE_RULE_IDS).problems.map((problem) => ({
        resource: id,
        related: [],
        message: `${id}: ${problem}`,
      })),
    );
  },
};
