/**
 * Revocation: where a workload's end becomes a revoked credential. The public face for handlers,
 * the sweep and the CLI:
 * - intake.ts: a batch of workload ends -> registry transitions and one message per principal;
 * - engine.ts: a batch of revocation messages -> each credential kind's revocation, once per principal;
 * - role-sessions/, access-keys/, certificates/: one module per kind of credential;
 * - store.ts: the deny entries per principal (DynamoDB, the source of truth); messages.ts: the queue's schema.
 */
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
