/**
 * `sundown status`: what an operator checks first. Every read is bounded: registry counts through
 * the status index (kind only, capped), audit records of the last 24 hours through the type index
 * (capped), principals through the revocation store's sparse meta index (capped), the sweep's state
 * item. Capped figures say so (`truncated`). Queue figures come from queues.ts (SQS, CloudWatch),
 * the CloudTrail facts from trail-status.ts; cli/commands/status.ts renders them.
 */

import type { AuditLog } from '../lambdas/audit/index.ts';
import type { CredentialRegistry } from '../lambdas/registry/index.ts';
import type { PrincipalMeta, RevocationStore } from '../lambdas/revocation/index.ts';
import type { CredentialKind } from '../lambdas/shared/schemas/credential.ts';
import type { LastSweep, SweepStateStore } from '../lambdas/sweep/index.ts';
import type { TrailsRead } from './trail-status.ts';

export interface StatusSources {
  registry: CredentialRegistry;
  audit: Pick<AuditLog, 'query'>;
  store: Pick<RevocationStore, 'principals'>;
  sweepState: Pick<SweepStateStore, 'read'>;
  now: () => Date;
}

export interface CapacityRow {
  principalArn: string;
  usedPercent: number;
  charsUsed: number;
  charsCapacity: number;
  nextExpiry: string;
  unplaced: number;
}

export interface RegistryStatus {
  activeCredentials: Record<CredentialKind, number> & { total: number; truncated: boolean };
  last24h: {
    since: string;
    revoked: number;
    failed: number;
    truncated: boolean;
    timeToRevokeMs: { p50: number | null; p99: number | null; samples: number };
  };
  policyCapacity: { principals: number; nearest: CapacityRow[]; truncated: boolean };
  lastSweep: LastSweep | null;
}

/** Caps on the status reads (each is a handful of DynamoDB pages at most). */
export const STATUS_LIMITS = {
  credentials: 10_000,
  auditRecords: 10_000,
  principals: 2_000,
  nearest: 5,
} as const;

/** Nearest-rank percentile (`p` in 0..100) of unsorted samples; null for none. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** The principals using the largest share of their policy capacity, fullest first. */
export function nearestCapacity(metas: readonly PrincipalMeta[], count: number): CapacityRow[] {
  return metas
    .filter((m) => m.charsCapacity > 0)
    .map((m) => ({
      principalArn: m.principalArn,
      usedPercent: Math.round((1000 * m.charsUsed) / m.charsCapacity) / 10,
      charsUsed: m.charsUsed,
      charsCapacity: m.charsCapacity,
      nextExpiry: m.nextExpiry,
      unplaced: m.unplaced,
    }))
    .sort((a, b) => b.usedPercent - a.usedPercent || a.principalArn.localeCompare(b.principalArn))
    .slice(0, count);
}

export async function registryStatus(sources: StatusSources): Promise<RegistryStatus> {
  const now = sources.now();
  const since = new Date(now.getTime() - 86_400_000).toISOString();

  const active = await sources.registry.countByKind('active', STATUS_LIMITS.credentials);

  const [revoked, failed] = await Promise.all([
    sources.audit.query({ type: 'revoked', since, limit: STATUS_LIMITS.auditRecords }),
    sources.audit.query({ type: 'failed', since, limit: STATUS_LIMITS.auditRecords }),
  ]);
  const samples = revoked
    .map((r) => r.details?.timeToRevokeMs)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

  const metas: PrincipalMeta[] = [];
  let cursor: string | undefined;
  do {
    const page = await sources.store.principals({ limit: 500, ...(cursor ? { cursor } : {}) });
    metas.push(...page.items);
    cursor = page.cursor;
  } while (cursor && metas.length < STATUS_LIMITS.principals);

  const sweep = await sources.sweepState.read();
  return {
    activeCredentials: { ...active.counts, total: active.total, truncated: active.truncated },
    last24h: {
      since,
      revoked: revoked.length,
      failed: failed.length,
      truncated: revoked.length >= STATUS_LIMITS.auditRecords || failed.length >= STATUS_LIMITS.auditRecords,
      timeToRevokeMs: { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length },
    },
    policyCapacity: {
      principals: metas.length,
      nearest: nearestCapacity(metas, STATUS_LIMITS.nearest),
      truncated: cursor !== undefined,
    },
    lastSweep: sweep.lastSweep ?? null,
  };
}

/**
 * Whether EventBridge gets this region's CloudTrail management events, which Sundown's Lambda
 * triggers (DeleteFunction, CreateFunction) are. `unknown` when CloudTrail could not be asked.
 */
export type CloudTrailCheck =
  | { state: 'logging'; region: string; trails: string[] }
  | { state: 'missing' | 'unknown'; region: string; detail: string };

export function cloudTrailCheck(read: TrailsRead, region: string): CloudTrailCheck {
  if (!read.ok) return { state: 'unknown', region, detail: read.error };
  const confirmed = read.trails.filter((t) => t.logging === true && t.writeManagementEvents === true);
  if (confirmed.length > 0) return { state: 'logging', region, trails: confirmed.map((t) => t.name) };
  const undetermined = read.trails.filter(
    (t) =>
      t.logging !== false &&
      t.writeManagementEvents !== false &&
      (t.logging === null || t.writeManagementEvents === null),
  );
  if (undetermined.length > 0) {
    return {
      state: 'unknown',
      region,
      detail: undetermined.map((t) => `${t.name}: ${t.error ?? 'not readable'}`).join('; '),
    };
  }
  if (read.trails.length === 0) return { state: 'missing', region, detail: `no trail applies to ${region}` };
  const why = read.trails.map(
    (t) => `${t.name} ${t.logging === false ? 'is not logging' : 'logs no write management events'}`,
  );
  return { state: 'missing', region, detail: why.join('; ') };
}
