/**
 * The reconciliation sweep: what events alone cannot guarantee. Run on a schedule (and by
 * `sundown sweep`), each run does a bounded amount of each kind of work and remembers where it
 * stopped, so successive runs cover everything and no run scans without a bound:
 *
 * 1. Expiry: active role sessions and certificates past `expiresAt` move to `expired` (audited).
 *    Access keys never expire by time (an IAM key works until deactivated or deleted), and
 *    discovered sessions are open-ended (`OPEN_ENDED`): they end only with their workload.
 * 2. Missed ends: for active credentials, ask the platform whether the workload still exists
 *    (`WorkloadLiveness`). Gone or ended -> the normal revocation path (`endWorkload`), trigger
 *    kind `reconciliation`, audited as an end event that was missed. `unknown` (API error, custom
 *    workload, another account) never revokes.
 * 3. Idle keys: an access key recorded for a live workload and unused for `idleKeyDays` is revoked
 *    through the same path, reason `idle` (the revoker deactivates exactly that key).
 * 4. Pruning: principals whose earliest deny entry has expired get a render request; the revoker
 *    prunes (audited `pruned`) and writes the smaller policy, reclaiming capacity. It prunes only
 *    expired entries (`pruneEntries`), never an unexpired one.
 * 5. Drift: a revoked role session whose deny entry is missing from the revocation store is
 *    restored (entry re-added, role rendered again); a deny that is in the store but missing from
 *    the role's policies in IAM gets the role rendered again; a deny entry whose credential has no
 *    registry record is reported once (kept: removing a deny could re-enable a credential).
 *
 * A dry run (`sundown sweep --dry-run`) reports what a run would do and changes nothing, not even
 * the audit trail or the sweep's cursors. A deployment with `dryRun` sweeps the same way on the
 * schedule (it changes nothing in IAM, the registry or the audit trail) but keeps its cursors and
 * last-run summary. The pure decisions are exported for tests; AWS is reached only through ports.
 */

export { AccountRoutedLiveness } from './account-routed-liveness.ts';
export {
  credentialIdOfEntry,
  deniedInIam,
  entriesMissingFromIam,
  hasExpired,
  type IdleDecision,
  idleDecision,
  type ReconcileDecision,
  reconcileDecision,
} from './decisions.ts';
export {
  FINDING_KINDS,
  type FindingKind,
  MISSED_END_REASON,
  RECONCILIATION_TRIGGER,
  type SweepDeps,
  type SweepFinding,
  type SweepPass,
  type SweepReport,
  type SweepRequest,
} from './model.ts';
export { type LastSweep, type SweepCursors, type SweepState, SweepStateStore } from './sweep-state.ts';
export { AwsWorkloadLiveness, type Liveness, type WorkloadLiveness } from './workload-liveness.ts';

import { randomUUID } from 'node:crypto';
import { checkPrincipals, checkRevoked, prune } from './drift.ts';
import { expire } from './expiry.ts';
import { reconcile } from './missed-ends.ts';
import {
  FINDING_KINDS,
  LEASE_MS,
  PASSES,
  type SweepDeps,
  type SweepReport,
  type SweepRequest,
} from './model.ts';
import { emptyCounts, outOfTime, type Run } from './run.ts';
import type { LastSweep } from './sweep-state.ts';

const PHASES: [string, (run: Run) => Promise<void>][] = [
  ['expiry', expire],
  ['missed ends and idle keys', reconcile],
  ['pruning', prune],
  ['revoked credentials', checkRevoked],
  ['principals', checkPrincipals],
];

function summaryOf(report: SweepReport, previous: LastSweep | undefined): LastSweep {
  const completedPasses = { ...(previous?.completedPasses ?? {}) };
  for (const pass of PASSES)
    if (report.passes[pass] === 'complete') completedPasses[pass] = report.finishedAt;
  return {
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    dryRun: report.dryRun,
    counts: { ...report.counts },
    findings: report.findings
      .slice(0, 20)
      .map((f) => ({ kind: f.kind, subject: f.subject, action: f.action })),
    errors: report.errors.slice(0, 10),
    completedPasses,
  };
}

/** One sweep run. Never throws for a failing phase: its error is in `errors` (and the next phases run). */
export async function sweep(deps: SweepDeps, request: SweepRequest = {}): Promise<SweepReport> {
  const now = deps.now();
  const preview = request.dryRun === true;
  const report: SweepReport = {
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    durationMs: 0,
    dryRun: deps.config.SUNDOWN_DRY_RUN || preview,
    checked: {
      expiring: 0,
      active: 0,
      workloads: 0,
      accessKeys: 0,
      principalsDue: 0,
      revoked: 0,
      principals: 0,
      denyEntries: 0,
    },
    counts: emptyCounts(),
    findings: [],
    findingsTruncated: false,
    passes: { expiry: 'not-run', active: 'not-run', revoked: 'not-run', principals: 'not-run' },
    errors: [],
  };
  const owner = randomUUID();
  // A preview takes no lease (it writes nothing) and starts from the saved cursors.
  const state = preview ? await deps.sweepState.read() : await deps.sweepState.acquire(owner, now, LEASE_MS);
  if (!state) return { ...report, skipped: 'another sweep is running (its lease has not expired)' };

  const run: Run = {
    deps,
    now,
    nowIso: now.toISOString(),
    dryRun: report.dryRun,
    batch: deps.config.SUNDOWN_SWEEP_BATCH_SIZE,
    cursors: { ...state.cursors },
    report,
    principals: new Map(),
  };
  try {
    for (const [name, phase] of PHASES) {
      if (outOfTime(run)) {
        report.errors.push(`${name}: not started, the invocation is running out of time`);
        continue;
      }
      try {
        await phase(run);
      } catch (err) {
        report.errors.push(
          `${name}: ${(err as Error)?.name ?? 'Error'}: ${String((err as Error)?.message ?? err).slice(0, 300)}`,
        );
      }
    }
  } finally {
    const finished = deps.now();
    report.finishedAt = finished.toISOString();
    report.durationMs = finished.getTime() - now.getTime();
    if (!preview) {
      await deps.sweepState.release(owner, {
        cursors: run.cursors,
        lastSweep: summaryOf(report, state.lastSweep),
      });
    }
  }
  // A preview's findings are counted by the real run that follows it, not twice.
  if (!preview) {
    for (const kind of FINDING_KINDS) {
      if (report.counts[kind] > 0) {
        deps.metricsSink?.('ReconciliationFindings', report.counts[kind], 'Count', { finding: kind });
      }
    }
    if (report.errors.length > 0) deps.metricsSink?.('SweepFailures', report.errors.length, 'Count');
  }
  return report;
}
