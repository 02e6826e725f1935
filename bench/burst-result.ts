/**
 * One system's result for one burst (Sundown's or the naive baseline's), in the shape both report.
 */
import type { BatchWriteProfile, CallCounts, Percentiles } from './metrics.ts';
import type { CpuSnapshot } from './process-cpu.ts';

export interface PerWorkload {
  iamWrites: number;
  dynamodb: number;
  /** AWS calls made by the system's own code. */
  handlerCalls: number;
  /** Including queue polling (Lambda's event source mapping for Sundown; the workers' own for the baseline). */
  allCalls: number;
}

export interface BurstResult {
  system: 'sundown' | 'naive';
  scenario: string;
  instances: number;
  roles: number;
  calls: CallCounts;
  perWorkload: PerWorkload;
  /** Sundown only: IAM writes attributed to revoker batches. */
  batches?: BatchWriteProfile;
  /** Sundown only: what the revoker read back from its revocation store (Query on the revocations table). */
  storeReads?: { queries: number; bytes: number; bytesPerWorkload: number };
  /** Sundown only: audit-chain appends that lost the race for the chain head and were retried. */
  auditRetries?: { cancelled: number; committed: number };
  timing: {
    /** First PutEvents sent -> last PutEvents returned. */
    putMs: number;
    /** First PutEvents sent -> the last credential revoked (end to end). */
    endToEndMs: number;
    /** First PutEvents sent -> every queue empty (includes up to ~0.4 s of drain detection). */
    settledMs: number;
    /** Per credential: revoked time - first PutEvents time. */
    timeToRevokeMs: Percentiles;
    /**
     * Per credential: revoked time - when EventBridge accepted ITS end event (the PutEvents that
     * carried it returned). The time-to-revoke a workload sees; `timeToRevokeMs` also holds the
     * driver's time to put the rest of the burst.
     */
    sinceOwnEventMs?: Percentiles;
    /** Per credential: registry `revokedAt - endedAt` (endedAt = event time, whole seconds). */
    revokedMinusEndedMs?: Percentiles;
    /** Sundown, per credential: first PutEvents -> `revokeRequestedAt` (WorkloadEnded's stage, incl. queueing). */
    requestedMs?: Percentiles;
    /** Sundown, per credential: `revokeRequestedAt` -> `revokedAt` (the revoker's stage, incl. queueing). */
    revokerStageMs?: Percentiles;
  };
  revoked: number;
  /** Revocations whose session is not denied in the final policies (must be 0 for Sundown). */
  lost: number;
  lostDetail: Record<string, number>;
  /** CPU ms used during the measured window (first PutEvents -> settled) per process. */
  cpu: CpuSnapshot;
  /** Handler failures the runtime reported (retried; not losses by themselves). */
  runtimeErrors: { count: number; first: string[] };
  policies: { maxInlineChars: number; managedPolicies: number };
}

export function perWorkload(calls: CallCounts, n: number): PerWorkload {
  const r = (x: number) => Math.round((x / n) * 100) / 100;
  return {
    iamWrites: r(calls.iamWrites),
    dynamodb: r(calls.dynamodb),
    handlerCalls: r(calls.handlerCalls),
    allCalls: r(calls.total),
  };
}
