/**
 * Suppressions: a finding can be accepted, with a reason, in the resource's own template Metadata
 * (what `suppressPreflight(construct, ...)` writes, like cdk-nag's `cdk_nag.rules_to_suppress`):
 *
 *   "Metadata": { "sundown_preflight": { "suppress": [{ "id": "<rule id>", "reason": "<why>" }] } }
 *
 * or in a file given to the CLI (`--suppress file.json`):
 *
 *   { "suppressions": [{ "id": "<rule id>", "resource": "<logical ID>", "stack": "<stack or template>", "reason": "<why>" }] }
 *
 * A reason is required (not blank). Suppressed findings are still reported, with their reason.
 */
import type { CfnResource } from './types.ts';

export const METADATA_KEY = 'sundown_preflight';

export interface SuppressionEntry {
  id: string;
  reason: string;
}

export interface FileSuppression extends SuppressionEntry {
  resource: string;
  /** Stack name or template path; any template when absent. */
  stack?: string;
}

/** The metadata's entries, and what is wrong with the ones that are not valid. */
export function metadataSuppressions(
  resource: CfnResource,
  ruleIds: ReadonlySet<string>,
): { entries: SuppressionEntry[]; problems: string[] } {
  const meta = resource.Metadata?.[METADATA_KEY];
  if (meta === undefined) return { entries: [], problems: [] };
  const suppress = (meta as { suppress?: unknown } | null)?.suppress;
  if (!Array.isArray(suppress)) {
    return {
      entries: [],
      problems: [`Metadata.${METADATA_KEY} must be { "suppress": [{ "id", "reason" }] }`],
    };
  }
  const entries: SuppressionEntry[] = [];
  const problems: string[] = [];
  suppress.forEach((raw, i) => {
    const problem = entryProblem(raw, ruleIds);
    if (problem) problems.push(`Metadata.${METADATA_KEY}.suppress[${i}] ${problem}`);
    else entries.push({ id: (raw as SuppressionEntry).id, reason: (raw as SuppressionEntry).reason.trim() });
  });
  return { entries, problems };
}

/** Parses a suppression file's content; throws an Error naming the first bad entry. */
export function parseSuppressionFile(content: unknown, ruleIds: ReadonlySet<string>): FileSuppression[] {
  const list = (content as { suppressions?: unknown } | null)?.suppressions;
  if (!Array.isArray(list)) throw new Error('expected { "suppressions": [{ "id", "resource", "reason" }] }');
  return list.map((raw, i) => {
    const problem = entryProblem(raw, ruleIds);
    if (problem) throw new Error(`suppressions[${i}] ${problem}`);
    const e = raw as Record<string, unknown>;
    if (typeof e.resource !== 'string' || e.resource === '') {
      throw new Error(
        `suppressions[${i}] needs "resource": the logical ID of the resource the finding names`,
      );
    }
    if (e.stack !== undefined && typeof e.stack !== 'string')
      throw new Error(`suppressions[${i}].stack must be a string`);
    return {
      id: e.id as string,
      reason: (e.reason as string).trim(),
      resource: e.resource,
      ...(e.stack ? { stack: e.stack } : {}),
    };
  });
}

function entryProblem(raw: unknown, ruleIds: ReadonlySet<string>): string | undefined {
  if (raw === null || typeof raw !== 'object') return 'must be an object { "id", "reason" }';
  const { id, reason } = raw as Record<string, unknown>;
  if (typeof id !== 'string' || !ruleIds.has(id)) {
    return `names ${typeof id === 'string' ? `the unknown rule "${id.slice(0, 80)}"` : 'no rule id'} (expected one of ${[...ruleIds].join(', ')})`;
  }
  if (typeof reason !== 'string' || reason.trim() === '')
    return `suppresses ${id} without a reason: "reason" must say why`;
  return undefined;
}
