/**
 * A workload's credentials from issue to revocation, rebuilt from its audit records (pure).
 * Records are grouped by `credentialId`; records without one (a workload that ended with nothing
 * recorded, a pruned deny entry) are listed as workload events.
 */

import type { AuditRecord, AuditRecordType } from '../shared/schemas/audit-record.ts';
import { compareByTime } from './audit-shards.ts';

/** Record types that settle a revocation request (the latest one wins: a retried `failed` may be `revoked` later). */
const OUTCOME_TYPES = ['revoked', 'failed', 'skipped', 'dry-run', 'expired'] as const;
type OutcomeType = (typeof OUTCOME_TYPES)[number];

export interface CredentialTimeline {
  credentialId: string;
  credentialKind?: string;
  /** `active` (only issued), `revoking` (requested, not settled), or the latest outcome type. */
  status: 'active' | 'revoking' | OutcomeType;
  issuedAt?: string;
  /** When the workload ended, as the revocation records state it (`details.endedAt`). */
  endedAt?: string;
  revocationRequestedAt?: string;
  revokedAt?: string;
  failedAt?: string;
  skippedAt?: string;
  dryRunAt?: string;
  expiredAt?: string;
  /** revoked.at − endedAt; the revoker's own `details.timeToRevokeMs` when no end time is known. */
  timeToRevokeMs?: number;
  /** The latest outcome's reason. */
  reason?: string;
  /** Broker-issued: the principal AWS authenticated for the request, its source IP, and its stated reason. */
  requestedBy?: string;
  sourceIp?: string;
  requestReason?: string;
  /**
   * Seqs of this credential's records, in time order. Each writer appends to its own shard chain,
   * so one credential's records can sit in several chains: order by time, never by seq.
   */
  seqs: number[];
}

export interface WorkloadEvent {
  seq: number;
  type: AuditRecordType;
  at: string;
  outcome: string;
  reason?: string;
  /** A refused broker request: who asked (when AWS authenticated them) and from where. */
  requestedBy?: string;
  sourceIp?: string;
}

export interface WorkloadTimeline {
  workloadId: string;
  credentials: CredentialTimeline[];
  /** Records of this workload that name no credential. */
  events: WorkloadEvent[];
}

const AT_FIELD: Record<OutcomeType, 'revokedAt' | 'failedAt' | 'skippedAt' | 'dryRunAt' | 'expiredAt'> = {
  revoked: 'revokedAt',
  failed: 'failedAt',
  skipped: 'skippedAt',
  'dry-run': 'dryRunAt',
  expired: 'expiredAt',
};

function detail(record: AuditRecord, key: string): unknown {
  return record.details?.[key];
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function credentialTimeline(credentialId: string, records: AuditRecord[]): CredentialTimeline {
  const timeline: CredentialTimeline = { credentialId, status: 'active', seqs: [] };
  let outcome: AuditRecord | undefined;
  for (const record of records) {
    timeline.seqs.push(record.seq);
    timeline.credentialKind ??= record.credentialKind;
    timeline.endedAt = nonEmptyString(detail(record, 'endedAt')) ?? timeline.endedAt;
    if (record.type === 'issued') {
      timeline.issuedAt ??= record.at;
      const requestedBy = nonEmptyString(detail(record, 'callerArn'));
      const sourceIp = nonEmptyString(detail(record, 'sourceIp'));
      const requestReason = nonEmptyString(detail(record, 'requestReason'));
      if (requestedBy) timeline.requestedBy ??= requestedBy;
      if (sourceIp) timeline.sourceIp ??= sourceIp;
      if (requestReason) timeline.requestReason ??= requestReason;
    } else if (record.type === 'revocation-requested') {
      timeline.revocationRequestedAt = record.at;
      if (timeline.status === 'active') timeline.status = 'revoking';
    } else if ((OUTCOME_TYPES as readonly string[]).includes(record.type)) {
      const type = record.type as OutcomeType;
      timeline[AT_FIELD[type]] = record.at;
      timeline.status = type;
      outcome = record;
    }
  }
  if (outcome?.reason) timeline.reason = outcome.reason;
  if (timeline.revokedAt) {
    const revoked = records.findLast((record) => record.type === 'revoked') as AuditRecord;
    const endedAt = nonEmptyString(detail(revoked, 'endedAt')) ?? timeline.endedAt;
    const audited = detail(revoked, 'timeToRevokeMs');
    if (endedAt && !Number.isNaN(Date.parse(endedAt))) {
      timeline.timeToRevokeMs = Date.parse(revoked.at) - Date.parse(endedAt);
    } else if (typeof audited === 'number') {
      timeline.timeToRevokeMs = audited;
    }
  }
  return timeline;
}

/** Builds the timeline from the workload's records (any order; other workloads' records are ignored). */
export function buildWorkloadTimeline(workloadId: string, records: readonly AuditRecord[]): WorkloadTimeline {
  const mine = records.filter((record) => record.workloadId === workloadId).sort(compareByTime);
  const groups = new Map<string, AuditRecord[]>();
  const events: WorkloadEvent[] = [];
  for (const record of mine) {
    if (record.credentialId) {
      const group = groups.get(record.credentialId) ?? [];
      group.push(record);
      groups.set(record.credentialId, group);
    } else {
      const requestedBy = nonEmptyString(detail(record, 'callerArn'));
      const sourceIp = nonEmptyString(detail(record, 'sourceIp'));
      events.push({
        seq: record.seq,
        type: record.type,
        at: record.at,
        outcome: record.outcome,
        ...(record.reason ? { reason: record.reason } : {}),
        ...(requestedBy ? { requestedBy } : {}),
        ...(sourceIp ? { sourceIp } : {}),
      });
    }
  }
  // Groups were created in time order of each credential's first record.
  const credentials = [...groups].map(([credentialId, group]) => credentialTimeline(credentialId, group));
  return { workloadId, credentials, events };
}

/** `1.234s`, `2m 03.5s`, `-0.120s` (clock skew): short and unambiguous for the table. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(3)}s`;
  const minutes = Math.floor(abs / 60_000);
  const seconds = ((abs % 60_000) / 1000).toFixed(1).padStart(4, '0');
  if (minutes < 60) return `${sign}${minutes}m ${seconds}s`;
  return `${sign}${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m ${seconds}s`;
}
