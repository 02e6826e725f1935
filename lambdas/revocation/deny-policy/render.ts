/**
 * Renders the set of deny entries of one role into Sundown's inline policy plus overflow managed policies.
 *
 * The output is a pure function of the SET of entries: input order and duplicates do not matter, and
 * rendering the same set twice gives deep-equal documents, so the writer can re-render and overwrite the
 * whole document after every change (PutRolePolicy has no conditional write) without churn.
 */
import {
  DEFAULT_MANAGED_POLICIES_PER_ROLE,
  denyStatement,
  formatBound,
  MANAGED_POLICY_LIMIT,
  type PolicyDocument,
  type PolicyStatement,
  policyDocument,
  policySize,
  ROLE_INLINE_POLICY_LIMIT,
  SIZES,
  userIdPattern,
} from './document.ts';
import { type DenyEntry, type ParsedEntry, parseEntry } from './entry.ts';

export interface RenderOptions {
  /** Characters available for Sundown's one inline policy: 10,240 minus the role's other inline policies. */
  inlineBudget: number;
  /** Characters per managed policy; IAM's limit is 6,144. */
  managedBudget: number;
  /** How many Sundown-owned managed policies may be attached to the role (quota minus those attached). */
  maxManagedPolicies: number;
}

/** Options for a role with no other policies, under default IAM quotas. */
export const FRESH_ROLE_OPTIONS: Readonly<RenderOptions> = Object.freeze({
  inlineBudget: ROLE_INLINE_POLICY_LIMIT,
  managedBudget: MANAGED_POLICY_LIMIT,
  maxManagedPolicies: DEFAULT_MANAGED_POLICIES_PER_ROLE,
});

export interface RenderedPolicies {
  /** Sundown's inline policy; null when no statement was placed inline (always when there are no entries). */
  inline: PolicyDocument | null;
  /** Overflow managed policies, in fill order; [] when everything fits inline. */
  managed: PolicyDocument[];
  /** Entries that did not fit anywhere. Never silently dropped: the caller audits and alarms on them. */
  unplaced: DenyEntry[];
  /** Sum of the sizes of the rendered documents. */
  charsUsed: number;
  /** inlineBudget + managedBudget * maxManagedPolicies. */
  charsCapacity: number;
  /**
   * 0 when every bound is exact; otherwise the bucket size, in seconds, used for non-reusable names, or
   * {@link UNBOUNDED_COARSENING} when they were denied with no time bound (the last level).
   */
  coarsenedSeconds: number;
}

/**
 * Bucket sizes tried, in order, when exact bounds do not fit. Each divides the next, and buckets are aligned
 * to the Unix epoch, so every coarser level merges whole buckets of the finer one.
 */
export const COARSENING_STEPS_SECONDS: readonly number[] = [10, 60, 300, 900, 3600];

/** The level after the last bucket: never-reused names in a statement with no date condition. */
const UNBOUNDED = Number.POSITIVE_INFINITY;

/** `coarsenedSeconds` when never-reused names were rendered without a time bound. */
export const UNBOUNDED_COARSENING = -1;

/**
 * Renders deny policies for a role.
 *
 * Rules (each is a product guarantee, tested in test/unit/deny-policy*.test.ts):
 * 1. One statement per bound; values are `*:<sessionName>` (see PolicyStatement for why that is exact),
 *    sorted; statements sorted by bound.
 * 2. Bounds are exact first: notAfter rounded UP to the next whole second, because IAM compares
 *    aws:TokenIssueTime at second precision and rounding down would leave the last second's sessions alive.
 *    Entries with the same session name collapse to the latest bound: "deny if issued before t1" or "before
 *    t2" is the same set of sessions as "before max(t1, t2)", so this is exact, not an approximation.
 * 3. Only when exact bounds do not fit, bounds of names that are never reused (every entry for the name has
 *    reusableName=false) are rounded UP to 10 s, 60 s, 300 s, 900 s, then 3600 s buckets, the first level
 *    that fits, so more of them share a statement. Denying a never-reused name for longer harms nobody.
 *    The last level drops their bound: one statement per document holds them with no date condition
 *    (no successor can hold the name, so this denies the same sessions), which is what lets 400 instances
 *    that ended in the same second fit the inline policy with IAM's limit less 5%.
 *    Reusable names are never coarsened: a re-created Lambda function with the old name must keep working.
 * 4. Placement: sessions are placed in order of (rendered bound, session name) ascending, filling the inline
 *    policy, then each managed policy in turn; a statement is split across documents when needed. At the
 *    unbounded level a never-reused name is placed by its exact bound, among the reusable ones. The first
 *    session that fits in no remaining document, and every later one, goes to `unplaced`. So the earliest
 *    revocations keep their place as new ones arrive (at a given level, an entry whose bound is later than
 *    every placed one cannot displace them), and `unplaced` holds the newest, which the caller alarms on.
 *    If no level places everything, the level with the fewest unplaced entries (finest on ties) wins.
 * 5. Every document is at most its budget. Malformed entries throw InvalidDenyEntryError.
 */
export function renderDenyPolicies(entries: readonly DenyEntry[], opts: RenderOptions): RenderedPolicies {
  assertValidOptions(opts);
  const budgets = [opts.inlineBudget, ...Array<number>(opts.maxManagedPolicies).fill(opts.managedBudget)];
  const charsCapacity = opts.inlineBudget + opts.managedBudget * opts.maxManagedPolicies;
  const targets = collectTargets(entries);
  const anyCoarsenable = targets.some((target) => target.coarsenable);

  let best = pack(targets, 0, budgets);
  for (const step of [...COARSENING_STEPS_SECONDS, UNBOUNDED]) {
    if (best.unplaced.length === 0 || !anyCoarsenable) break;
    const attempt = pack(targets, step, budgets);
    if (attempt.unplaced.length < best.unplaced.length) best = attempt;
  }

  const [first, ...rest] = best.documents;
  const inline = first && first.Statement.length > 0 ? first : null;
  const managed = rest.filter((doc) => doc.Statement.length > 0);
  // The sizes pack() measured (exactly, with JSON.stringify) when it checked each document.
  const charsUsed = best.sizes.reduce((sum, size) => sum + size, 0);
  return {
    inline,
    managed,
    unplaced: best.unplaced,
    charsUsed,
    charsCapacity,
    coarsenedSeconds: best.coarsenedSeconds,
  };
}

/** All entries for one session name, reduced to what rendering needs. */
interface Target {
  sessionName: string;
  /** Latest notAfter of the name's entries, rounded up to whole epoch seconds. */
  exactBound: number;
  /** True only when every entry for the name has reusableName=false. */
  coarsenable: boolean;
  /** The distinct input entries behind this target, reported as unplaced if it does not fit. */
  sources: DenyEntry[];
}

function collectTargets(entries: readonly DenyEntry[]): Target[] {
  const byName = new Map<string, ParsedEntry[]>();
  for (const raw of entries) {
    const parsed = parseEntry(raw);
    const group = byName.get(parsed.entry.sessionName);
    if (group) group.push(parsed);
    else byName.set(parsed.entry.sessionName, [parsed]);
  }
  const targets: Target[] = [];
  for (const [sessionName, group] of byName) {
    if (group.length === 1) {
      const [only] = group as [ParsedEntry];
      targets.push({
        sessionName,
        exactBound: only.notAfter.ceilSeconds,
        coarsenable: !only.entry.reusableName,
        sources: [only.entry],
      });
      continue;
    }
    // Several entries for one name: the distinct ones, in a fixed order (so `unplaced` does not
    // depend on the input order). Validated instants contain no NUL: the key is exact.
    const distinct = new Map<string, ParsedEntry>();
    for (const parsed of group) {
      const { notAfter, expiresAt, reusableName } = parsed.entry;
      distinct.set(`${notAfter}\u0000${expiresAt}\u0000${reusableName}`, parsed);
    }
    const keys = [...distinct.keys()].sort(compareStrings);
    const sources = keys.map((k) => distinct.get(k) as ParsedEntry);
    targets.push({
      sessionName,
      exactBound: Math.max(...sources.map((p) => p.notAfter.ceilSeconds)),
      coarsenable: sources.every((p) => !p.entry.reusableName),
      sources: sources.map((p) => p.entry),
    });
  }
  return targets;
}

/** The bound a target is rendered with at a level: exact, its bucket's end, or UNBOUNDED. */
function boundOf(target: Target, step: number): number {
  if (step === 0 || !target.coarsenable) return target.exactBound;
  return step === UNBOUNDED ? UNBOUNDED : Math.ceil(target.exactBound / step) * step;
}

interface Packing {
  documents: PolicyDocument[];
  /** policySize of each document (0 for an empty one, which is never emitted). */
  sizes: number[];
  unplaced: DenyEntry[];
  coarsenedSeconds: number;
}

/** Greedy first-fit in placement order; see rule 4 of {@link renderDenyPolicies}. */
function pack(targets: readonly Target[], step: number, budgets: readonly number[]): Packing {
  const ordered = targets
    .map((target) => {
      const bound = boundOf(target, step);
      return { target, bound, order: bound === UNBOUNDED ? target.exactBound : bound };
    })
    .sort((a, b) => a.order - b.order || compareStrings(a.target.sessionName, b.target.sessionName));

  const documents: PolicyDocument[] = [];
  const unplaced: DenyEntry[] = [];
  let docIndex = 0;
  // The open document's statements by rendered bound. Placement order is by bound, except that
  // never-reused names at the unbounded level join their one statement at any point.
  let statements = new Map<number, PolicyStatement>();
  let size: number = SIZES.emptyDocument;
  const closeDocument = () => {
    documents.push(policyDocument(sortedStatements(statements)));
    statements = new Map();
    size = SIZES.emptyDocument;
    docIndex += 1;
  };

  for (const { target, bound } of ordered) {
    const valueSize = SIZES.value(target.sessionName);
    for (;;) {
      const budget = budgets[docIndex];
      if (budget === undefined) {
        unplaced.push(...target.sources);
        break;
      }
      const joins = statements.get(bound);
      const opening = bound === UNBOUNDED ? SIZES.emptyUnboundedStatement : SIZES.emptyStatement;
      const cost = joins
        ? SIZES.separator + valueSize
        : (statements.size > 0 ? SIZES.separator : 0) + opening + valueSize;
      if (size + cost > budget) {
        closeDocument();
        continue;
      }
      const value = userIdPattern(target.sessionName);
      if (joins) joins.Condition.StringLike['aws:userid'].push(value);
      else statements.set(bound, denyStatement(bound === UNBOUNDED ? null : formatBound(bound), [value]));
      size += cost;
      break;
    }
  }
  if (statements.size > 0) closeDocument();

  // Every document is measured as IAM counts it (the incremental sizes above are only the plan).
  // Empty documents (a budget too small for even one statement) are never emitted, so only check the rest.
  const sizes = documents.map((doc, index) => {
    if (doc.Statement.length === 0) return 0;
    const measured = policySize(doc);
    const budget = budgets[index] ?? 0;
    if (measured > budget) {
      throw new Error(`deny policy ${index} is ${measured} characters, over its budget of ${budget}`);
    }
    return measured;
  });
  const coarsened = ordered.some(({ target, bound }) => bound !== target.exactBound);
  const level = step === UNBOUNDED ? UNBOUNDED_COARSENING : step;
  return { documents, sizes, unplaced, coarsenedSeconds: coarsened ? level : 0 };
}

/**
 * A document's statements by bound, the unbounded one last. Values were appended in placement order,
 * which is name order within a bound; the unbounded statement's are sorted here.
 */
function sortedStatements(byBound: Map<number, PolicyStatement>): PolicyStatement[] {
  const unbounded = byBound.get(UNBOUNDED);
  unbounded?.Condition.StringLike['aws:userid'].sort(compareStrings);
  return [...byBound.entries()].sort(([a], [b]) => a - b).map(([, statement]) => statement);
}

function assertValidOptions(opts: RenderOptions): void {
  for (const key of ['inlineBudget', 'managedBudget', 'maxManagedPolicies'] as const) {
    const value = opts?.[key];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `render option ${key} ${String(value)} is invalid: expected a non-negative integer`,
      );
    }
  }
}

/** Code-unit order, independent of locale, so output is identical on every machine. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
