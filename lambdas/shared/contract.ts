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
