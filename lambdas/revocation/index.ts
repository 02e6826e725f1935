/**
 * Revocation: where a workload's end becomes a revoked credential. The public face for handlers,
 * the sweep and the CLI:
 * - intake.ts: a batch of workload ends -> registry transitions and one message per principal;
 * - engine.ts: a batch of revocation messages -> each credential kind's revocation, once per principal;
 * - role-sessions/, access-keys/, certificates/: one module per kind of credential;
 * - store.ts: the deny entries per principal (DynamoDB, the source of truth); messages.ts: the queue's schema.
 * Runtime code elsewhere (handlers, the sweep, use-after-revoke, the CLI) imports from here; tests
 * and the bench may reach a part directly (.dependency-cruiser.cjs, `revocation-through-index`).
 */

export { UserPolicyWriter } from './access-keys/policy-writer.ts';
export type { UserRevokerDeps } from './access-keys/revoke.ts';
export { CertificateRevoker } from './certificates/pca.ts';
export type { CertificateRevokerDeps } from './certificates/revoke.ts';
export { denyEntryKeysFor } from './deny-entries.ts';
export {
  type ApplyOutcome,
  applyRevocations,
  type MetricsSink,
  markFailed,
  type RevocationWork,
  type RevokerDeps,
} from './engine.ts';
export {
  type BatchEndResult,
  endWorkload,
  endWorkloads,
  RECONCILIATION_SOURCE,
  roleDenyEntryFor,
  sendRevocations,
  type WorkloadEnded,
} from './intake.ts';
export { type RevocationMessage, RevocationMessageSchema } from './messages.ts';
export { type DenyPolicyReader, IamDenyPolicyReader } from './role-sessions/policy-reader.ts';
export { RolePolicyWriter } from './role-sessions/policy-writer.ts';
export {
  entryKey,
  type PrincipalMeta,
  type PrincipalState,
  RevocationStore,
  type StoredDenyEntry,
} from './store.ts';
