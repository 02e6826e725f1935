import type { PrincipalState, RevocationMessage, StoredDenyEntry } from '../revocation/index.ts';
import { sendRevocations } from '../revocation/index.ts';
import { normalizeWorkloadId, type Workload } from '../shared/domain/workload-id.ts';
import {
  FINDING_KINDS,
  type FindingKind,
  MAX_LISTED_FINDINGS,
  type SweepDeps,
  type SweepFinding,
  type SweepReport,
  TIME_MARGIN_MS,
} from './model.ts';
import type { SweepCursors } from './sweep-state.ts';

export function emptyCounts(): Record<FindingKind, number> {
  return Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

export interface Run {
  deps: SweepDeps;
  now: Date;
  nowIso: string;
  dryRun: boolean;
  batch: number;
  cursors: SweepCursors;
  report: SweepReport;
  /** Principal states loaded this run. */
  principals: Map<string, PrincipalState>;
}

export function find(run: Run, finding: SweepFinding): void {
  run.report.counts[finding.kind]++;
  if (run.report.findings.length < MAX_LISTED_FINDINGS) run.report.findings.push(finding);
  else run.report.findingsTruncated = true;
}

export function outOfTime(run: Run): boolean {
  return (run.deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) < TIME_MARGIN_MS;
}

export async function loadPrincipal(run: Run, principalArn: string): Promise<PrincipalState> {
  const cached = run.principals.get(principalArn);
  if (cached) return cached;
  const state = await run.deps.store.load(principalArn);
  run.principals.set(principalArn, state);
  return state;
}

/** Adds `entries` (possibly none) and asks the revoker to render the principal's whole deny set. */
export async function requestRender(
  run: Run,
  principalArn: string,
  entries: StoredDenyEntry[],
): Promise<void> {
  // The sweep renders to prune or to restore a deny that went missing from IAM: write every policy.
  const version = await run.deps.store.addEntries(principalArn, entries, { rewriteAll: true });
  const message: RevocationMessage = principalArn.includes(':role/')
    ? { target: 'role', roleArn: principalArn, version, credentialIds: [] }
    : { target: 'user', userArn: principalArn, version, credentialIds: [] };
  await sendRevocations(run.deps, [message]);
  run.principals.delete(principalArn);
}

export function workloadOf(run: Run, workloadId: string): Workload | undefined {
  try {
    return normalizeWorkloadId(workloadId, { account: run.deps.account, region: run.deps.region });
  } catch {
    return undefined;
  }
}

/** 1. Active role sessions and certificates past their expiry -> `expired`. */
