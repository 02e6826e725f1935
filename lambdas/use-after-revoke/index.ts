/**
 * Use-after-revoke: a CloudTrail access-denied event by a role session Sundown revoked becomes one
 * audited alert per session and window. The public face for code outside this folder; import from
 * here, not from the files behind it:
 * - handler.ts: the Lambda entry point on the UseAfterRevoke queue (the composition root);
 * - access-denied.ts: one access-denied event, from the envelope to the alert or the count;
 * - attempts.ts: which role session an event names, and whether Sundown revoked it (pure);
 * - store.ts: a session's deny entries and the per-window attempt counts, in the revocations table;
 * - alerts.ts: where an alert goes (Sundown's bus and the SNS topic).
 * The CloudTrail detail and alert schemas stay with the other zod schemas, in
 * lambdas/shared/schemas/use-after-revoke.ts.
 */
export { handleAccessDenied, type UseAfterRevokeDeps } from './access-denied.ts';
export { attemptOf, revokedEntryFor, windowStart } from './attempts.ts';
