/**
 * The IAM policy shapes Sundown writes, and the size arithmetic used to pack them under IAM's quotas.
 */

/**
 * One Sundown deny statement:
 *
 * ```json
 * {"Effect":"Deny","Action":"*","Resource":"*",
 *  "Condition":{"StringLike":{"aws:userid":["*:i-0abc...","*:i-0def..."]},
 *               "DateLessThan":{"aws:TokenIssueTime":"2024-05-01T12:00:01Z"}}}
 * ```
 *
 * Why `*:<sessionName>` is exact: the policy is attached to the workload's role, so IAM evaluates it only
 * for that role's sessions, and for a role session `aws:userid` is `<RoleId>:<RoleSessionName>`. A role ID
 * (`AROA...`) contains no `:` and session names cannot contain `:`, `*` or `?`, so the pattern `*:<name>`
 * matches exactly the sessions of this role named `<name>` and nothing else. Leaving out the 21-character
 * role ID roughly doubles how many sessions fit.
 *
 * Why the date condition: session names are reused (stop/start, Lambda function names), and a workload's
 * successor must keep working. Only sessions issued strictly before the bound are denied.
 *
 * Why a statement may have no date condition: names that are never reused (a terminated instance's ID,
 * an ECS task ID) have no successor, so "issued before the bound" and "ever issued" deny the same
 * sessions. When exact and coarsened bounds do not fit, the renderer puts such names into one statement
 * without `DateLessThan`, which saves 61 characters per statement (render.ts rule 3).
 */
export interface PolicyStatement {
  Effect: 'Deny';
  Action: '*';
  Resource: '*';
  Condition: {
    StringLike: { 'aws:userid': string[] };
    /** Absent only for never-reused names, see above. */
    DateLessThan?: { 'aws:TokenIssueTime': string };
  };
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** IAM quota: aggregate size of all inline policies of one role, whitespace not counted. */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;
/** IAM quota: size of one managed policy, whitespace not counted. */
export const MANAGED_POLICY_LIMIT = 6_144;
/** IAM default quota of managed policies attached to one role (adjustable up to 20). */
export const DEFAULT_MANAGED_POLICIES_PER_ROLE = 10;

/**
 * Builds one deny statement; `values` must already be validated `*:<name>` strings. `bound` null builds
 * the statement without a date condition, for never-reused names only.
 */
export function denyStatement(bound: string | null, values: string[]): PolicyStatement {
  return {
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition:
      bound === null
        ? { StringLike: { 'aws:userid': values } }
        : { StringLike: { 'aws:userid': values }, DateLessThan: { 'aws:TokenIssueTime': bound } },
  };
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The size IAM counts against its quotas: the JSON text without whitespace. Sundown's documents contain no
 * whitespace inside strings (session names and ISO instants have none), so this is exact for them.
 */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/**
 * Size of any policy text as IAM counts it (for the role's other inline policies, whose text comes back
 * from IAM with whitespace). Whitespace inside string values is kept, which can only over-estimate.
 */
export function policyTextSize(text: string): number {
  return JSON.stringify(JSON.parse(text)).length;
}

/** The `aws:userid` pattern for one session name (see {@link PolicyStatement} for why it is exact). */
export function userIdPattern(sessionName: string): string {
  return `*:${sessionName}`;
}

/** Formats a bound in whole epoch seconds as IAM's second-precision ISO form, `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatBound(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * Incremental sizes for packing. They mirror JSON.stringify exactly for documents built by the functions
 * above; render.ts still re-checks every finished document with {@link policySize}.
 */
export const SIZES = {
  /** `{"Version":"2012-10-17","Statement":[]}` */
  emptyDocument: policySize(policyDocument([])),
  /** A statement with an empty value list; every bound renders to the same length. */
  emptyStatement: JSON.stringify(denyStatement(formatBound(0), [])).length,
  /** A statement with an empty value list and no date condition. */
  emptyUnboundedStatement: JSON.stringify(denyStatement(null, [])).length,
  /** One `"*:<name>"` value: quotes, `*:` and the name (validated names need no JSON escaping). */
  value: (sessionName: string): number => sessionName.length + 4,
  /** The comma between two array elements. */
  separator: 1,
} as const;
