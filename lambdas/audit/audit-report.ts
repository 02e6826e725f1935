/**
 * The audit report's content (pure): per workload, each credential's timeline from issue to
 * revocation; the time-to-revoke distribution; the skipped and failed revocations; refused broker
 * requests; and a verification summary. The summary is its own type so that any verifier can feed
 * it: today the single hash chain (`fromChainVerification`), later sharded chains with signed seals.
 */
import type { AuditRecord } from '../shared/schemas/audit-record.ts';
import { buildWorkloadTimeline, type CredentialTimeline, type WorkloadEvent } from './audit-timeline.ts';
import type { ChainVerification } from './audit-verify.ts';

export interface SealSummary {
  shard: string;
  sealedAt: string;
  digest: string;
  signatureValid: boolean;
}

export interface VerificationSummary {
  ok: boolean;
  /** One line a person reads, e.g. `intact: 42 records verified (seq 1-42)`. */
  status: string;
  checkedAt: string;
  recordsVerified: number;
  /** What was broken, when `ok` is false. */
  problem?: string;
  seals?: SealSummary[];
}

export interface WorkloadReport {
  workloadId: string;
  credentials: CredentialTimeline[];
  /** Records of the workload without a credential (refused broker requests, ends with nothing recorded). */
  events: WorkloadEvent[];
}

export interface TimeToRevokeBin {
  label: string;
  /** Inclusive lower bound, exclusive upper bound, in ms (upper undefined: no bound). */
  fromMs: number;
  toMs?: number;
  count: number;
}

export interface AuditReport {
  generatedAt: string;
  since?: string;
  until?: string;
  recordCount: number;
  workloads: WorkloadReport[];
  distribution: TimeToRevokeBin[];
  totals: { credentials: number; revoked: number; failed: number; skipped: number; refused: number };
  /** Slowest and median time-to-revoke of the revoked credentials, when there are any. */
  p50Ms?: number;
  maxMs?: number;
  verification: VerificationSummary;
}

/** Fixed bins, so two reports can be compared side by side. */
export const TIME_TO_REVOKE_BINS: readonly { label: string; fromMs: number; toMs?: number }[] = [
  { label: '< 1 s', fromMs: Number.NEGATIVE_INFINITY, toMs: 1_000 },
  { label: '1-5 s', fromMs: 1_000, toMs: 5_000 },
  { label: '5-15 s', fromMs: 5_000, toMs: 15_000 },
  { label: '15-60 s', fromMs: 15_000, toMs: 60_000 },
  { label: '1-5 min', fromMs: 60_000, toMs: 300_000 },
  { label: '5-15 min', fromMs: 300_000, toMs: 900_000 },
  { label: '≥ 15 min', fromMs: 900_000 },
];

export function distributionOf(values: readonly number[]): TimeToRevokeBin[] {
  return TIME_TO_REVOKE_BINS.map((bin) => ({
    ...bin,
    fromMs: Number.isFinite(bin.fromMs) ? bin.fromMs : 0,
    count: values.filter((v) => v >= bin.fromMs && (bin.toMs === undefined || v < bin.toMs)).length,
  }));
}

function median(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Builds the report from audit records (as stored; any order) and a verification summary. */
export function buildAuditReport(
  records: readonly AuditRecord[],
  verification: VerificationSummary,
  options: { generatedAt: string; since?: string; until?: string },
): AuditReport {
  const ids = [
    ...new Set(records.map((r) => r.workloadId).filter((id): id is string => typeof id === 'string')),
  ];
  const workloads = ids
    .map((id) => buildWorkloadTimeline(id, records))
    .sort((a, b) => (a.workloadId < b.workloadId ? -1 : a.workloadId > b.workloadId ? 1 : 0));
  const credentials = workloads.flatMap((w) => w.credentials);
  const times = credentials
    .map((c) => c.timeToRevokeMs)
    .filter((ms): ms is number => typeof ms === 'number' && Number.isFinite(ms))
    .sort((a, b) => a - b);
  const p50Ms = median(times);
  const maxMs = times.at(-1);
  return {
    generatedAt: options.generatedAt,
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    recordCount: records.length,
    workloads,
    distribution: distributionOf(times),
    totals: {
      credentials: credentials.length,
      revoked: credentials.filter((c) => c.status === 'revoked').length,
      failed: credentials.filter((c) => c.status === 'failed').length,
      skipped: credentials.filter((c) => c.status === 'skipped').length,
      refused: records.filter((r) => r.type === 'refused').length,
    },
    ...(p50Ms === undefined ? {} : { p50Ms }),
    ...(maxMs === undefined ? {} : { maxMs }),
    verification,
  };
}

/** The summary of today's single-chain verification (no seals: the chain is not sealed yet). */
export function fromChainVerification(result: ChainVerification, checkedAt: string): VerificationSummary {
  if (result.ok) {
    const range = result.count === 0 ? 'no records' : `seq ${result.fromSeq}-${result.lastSeq}`;
    return {
      ok: true,
      status: `intact: ${result.count} records verified (${range}), head at seq ${result.headSeq}`,
      checkedAt,
      recordsVerified: result.count,
    };
  }
  return {
    ok: false,
    status: `broken at seq ${result.seq}: record ${result.problem}`,
    checkedAt,
    recordsVerified: result.count,
    problem: result.message,
  };
}
