import type { DenyPolicyReader, MetricsSink } from '../revocation/index.ts';
import { RECONCILIATION_SOURCE } from '../revocation/index.ts';
import type { AccessKeyUsage } from '../shared/adapters/access-key-usage.ts';
import type { ServiceDeps } from '../shared/services/deps.ts';
import type { Trigger } from '../triggers/envelope.ts';
import type { SweepStateStore } from './sweep-state.ts';
import type { WorkloadLiveness } from './workload-liveness.ts';

export const FINDING_KINDS = [
  'missed-end',
  'expired',
  'idle-key',
  'prune-due',
  'missing-deny',
  'orphan-deny',
  'unknown-liveness',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface SweepFinding {
  kind: FindingKind;
  /** What the finding is about: a credential ID, else a principal ARN. */
  subject: string;
  workloadId?: string;
  principalArn?: string;
  /** What this run did about it (`none (dry run)` in a dry run). */
  action: string;
  detail: string;
}

export const PASSES = ['expiry', 'active', 'revoked', 'principals'] as const;
export type SweepPass = (typeof PASSES)[number];

export interface SweepReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  /** Set when the run did nothing (another sweep holds the lease). */
  skipped?: string;
  checked: {
    expiring: number;
    active: number;
    workloads: number;
    accessKeys: number;
    principalsDue: number;
    revoked: number;
    principals: number;
    denyEntries: number;
  };
  counts: Record<FindingKind, number>;
  findings: SweepFinding[];
  findingsTruncated: boolean;
  /** `complete`: this run reached the end of the pass (the next run starts it over). */
  passes: Record<SweepPass, 'complete' | 'partial' | 'not-run'>;
  errors: string[];
}

export interface SweepDeps extends ServiceDeps {
  liveness: WorkloadLiveness;
  keyUsage: AccessKeyUsage;
  denyPolicies: DenyPolicyReader;
  sweepState: SweepStateStore;
  metricsSink?: MetricsSink;
  /** Milliseconds left in this invocation; the sweep starts no new work with less than a margin. */
  remainingMs?: () => number;
}

export interface SweepRequest {
  /** Report only: change nothing, keep no state. */
  dryRun?: boolean;
}

export const RECONCILIATION_TRIGGER: Trigger = {
  source: RECONCILIATION_SOURCE,
  detailType: 'Reconciliation',
};
export const IDLE_KEY_TRIGGER: Trigger = { source: RECONCILIATION_SOURCE, detailType: 'Idle Access Key' };
export const MISSED_END_REASON = 'reconciliation: end event missed';

export const DAY_MS = 86_400_000;
export const LEASE_MS = 15 * 60_000;
export const TIME_MARGIN_MS = 20_000;
export const MAX_LISTED_FINDINGS = 100;
/** Pages the expiry pass reads per run at most (access keys in the range are filtered out). */
export const MAX_EXPIRY_PAGES = 5;
/**
 * A role rendered this recently is not compared with IAM yet: IAM is eventually consistent, and a
 * read right after a write could show the previous policy (a false drift finding).
 */
export const IAM_SETTLE_MS = 15_000;
