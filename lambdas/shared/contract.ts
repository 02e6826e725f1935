/**
 * The names both halves of Sundown must agree on, defined once: the infrastructure (lib/) imports
 * them to build policies, rules and tags, the runtime (lambdas/) to act on what it finds. A value
 * that appears in both an IAM condition and a handler lives here, never as two literals.
 * Function environments are the other half of this contract: runtime-config.ts holds each
 * function's schema, and test/infra/function-environments.test.ts checks the stack against it.
 */

/** The tag that opts a role or user in to revocation (`sundown:revoke=enabled`). */
export const OPT_IN_TAG = { key: 'sundown:revoke', value: 'enabled' } as const;

/** IAM path of every managed policy Sundown creates; its permissions are scoped to it. */
export const SUNDOWN_POLICY_PATH = '/sundown/';

/** The inline deny policy Sundown writes on a role or user (and only that name). */
export const DENY_POLICY_NAME = 'SundownRevokedSessions';

/** `source` of the events Sundown accepts on its bus (`Workload Ended`, `Credential Issued`). */
export const SUNDOWN_EVENT_SOURCE = 'sundown';
/** `source` of the audit records Sundown publishes on its bus. */
export const AUDIT_EVENT_SOURCE = 'sundown.audit';

/**
 * Hub and spoke (several accounts, issue 19). The hub's functions reach into a spoke account only by
 * assuming one of these roles there, both at path `/sundown/`:
 * - the revoker role writes and deletes Sundown's deny policies and deactivates access keys, on
 *   opted-in principals only, and is trusted only by the hub's Revoker;
 * - the reader role makes the read-only lookups (who a workload ran as, is it still alive, is a
 *   principal opted in), trusted only by the hub's event, sweep and revoker functions.
 */
export const SPOKE_ROLE_PATH = '/sundown/';
export const SPOKE_REVOKER_ROLE_NAME = 'SundownSpokeRevoker';
export const SPOKE_READER_ROLE_NAME = 'SundownSpokeReader';

/**
 * The hub functions' own roles get fixed names in a hub deployment, so a spoke's trust policy can
 * name them (`aws:PrincipalArn`) without a deploy-time reference across accounts. A name is
 * `SundownHub-<Function>` at path `/sundown/`: one hub per account.
 */
export const HUB_ROLE_PATH = '/sundown/';
export const HUB_FUNCTIONS = ['WorkloadEnded', 'WorkloadStarted', 'Revoker', 'Sweeper'] as const;
export type HubFunction = (typeof HUB_FUNCTIONS)[number];
export function hubRoleName(fn: HubFunction): string {
  return `SundownHub-${fn}`;
}

/** `arn:<partition>:iam::<account>:role<path><name>` */
export function roleArnOf(partition: string, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

/** The canary's metrics (the function emits them, lib/ alarms and graphs them). */
export const CANARY_METRICS = { timeToRevoke: 'TimeToRevoke', drillFailed: 'DrillFailed' } as const;
/** The dimension that tells the canary's metrics apart (alarms name exactly these dimensions). */
export const CANARY_DIMENSIONS = { source: 'canary' } as const;
/** What the drill's probe calls with the ended session, and the canary role is allowed to call. */
export const PROBE_ACTION = 'iam:GetRole';
