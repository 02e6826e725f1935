/**
 * The scheduled revocation canary (issue 18): the revocation drill (./drill.ts) run by a function of
 * the stack, its outcome published as metrics the stack alarms on:
 *
 * - `TimeToRevoke` (Milliseconds): from the `Workload Ended` event to the first denied probe, i.e.
 *   until the deny is *enforced* (IAM propagation included), whenever the deny arrived;
 * - `DrillFailed` (Count): 1 when the drill did not prove the revocation (deny late or missing, the
 *   live session denied too, audit chain incomplete, or the drill could not run at all), else 0.
 *
 * Both carry the dimension `source=canary` besides `service`, so they never mix with the revoker's
 * own `TimeToRevoke` (end to IAM write), which has its own p99 alarm.
 *
 * Nothing secret leaves this module: the report names workloads, credential IDs and session names
 * only, and an error is reduced to its message (the drill's errors name no credential).
 */

import { CANARY_METRICS } from '../shared/contract.ts';
import type { DrillDeps, DrillReport } from './drill.ts';
import { runDrill } from './drill.ts';

export { CANARY_DIMENSIONS, CANARY_METRICS } from '../shared/contract.ts';

/** How the probe decides: a real AWS call, or an IAM simulator against an emulator. */
export type Evaluation = 'aws-call' | 'simulator';

export interface CanaryDeps extends DrillDeps {
  /** Publishes one metric with the canary's dimensions. */
  record(name: 'TimeToRevoke' | 'DrillFailed', unit: 'Milliseconds' | 'Count', value: number): void;
  evaluation: Evaluation;
  /** Said in every report when the probe is not a real call (e.g. the simulator's note). */
  note?: string;
}

export interface CanaryOptions {
  /** Unique per run: the two workloads are `<prefix>-ended` and `<prefix>-live`. */
  workloadPrefix: string;
  timeoutMs: number;
  intervalMs: number;
}

/** The drill's report (no secrets), or only the failure when the drill could not run. */
export type CanaryReport = Partial<DrillReport> & {
  ok: boolean;
  failure?: string;
  evaluation: Evaluation;
  note?: string;
};

/** Runs one drill and publishes its metrics; never throws (a failure is a `DrillFailed` of 1). */
export async function runCanary(deps: CanaryDeps, opts: CanaryOptions): Promise<CanaryReport> {
  const said = { evaluation: deps.evaluation, ...(deps.note ? { note: deps.note } : {}) };
  let report: CanaryReport;
  try {
    report = { ...(await runDrill(deps, opts)), ...said };
  } catch (err) {
    report = { ok: false, failure: `the drill could not run: ${messageOf(err)}`, ...said };
  }
  if (report.timeToDenyMs !== undefined) {
    deps.record(CANARY_METRICS.timeToRevoke, 'Milliseconds', report.timeToDenyMs);
  }
  deps.record(CANARY_METRICS.drillFailed, 'Count', report.ok ? 0 : 1);
  return report;
}

/** An error's message, one line, bounded (errors here come from the broker, STS, IAM or the SDK). */
function messageOf(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
