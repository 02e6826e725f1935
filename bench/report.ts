/**
 * Results: the JSON document and what both its readers share. The targets of issue 7 evaluated
 * against it are in targets.ts; the Markdown tables BENCHMARKS.md shows, in markdown.ts.
 */
import type { AuditAppendResult, AuditVerifyResult } from './audit-scale.ts';
import type { BundleCost } from './bundle-cost.ts';
import type { BurstResult } from './burst-result.ts';
import type { CapacityConfirmation, CapacityRow } from './capacity.ts';
import type { CpuCost } from './handler-cost.ts';

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  os: string;
  node: string;
  moto: string;
  python: string;
}

export interface ScenarioResult {
  scenario: string;
  instances: number;
  /** Opted-in roles (per account when `accounts` > 1). */
  roles: number;
  /** Accounts the instances were spread over (a hub and its spokes, bench/multi-account.ts); 1 when omitted. */
  accounts?: number;
  /** How end events were delivered, when not by PutEvents on the default bus. */
  delivery?: string;
  /** IAM writes rationed to this many a second (bench/token-bucket.ts); unset: as moto, never throttled. */
  iamWritesPerSecond?: number;
  /** Whether the instances were launched in the emulator (else synthetic IDs, see workloads.ts). */
  launchedInstances: boolean;
  sundown: BurstResult;
  naive: BurstResult;
  ratios: {
    /** naive IAM writes / Sundown IAM writes (how many times fewer Sundown makes). */
    iamWritesFewer: number | null;
    /** Sundown's own AWS calls / the baseline's, per workload. */
    callsMore: number;
    /** naive end-to-end / Sundown end-to-end (> 1: Sundown is faster). */
    speedup: number;
  };
}

export interface TargetResult {
  id: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Results {
  mode: 'full' | 'quick' | 'only';
  date: string;
  /** The commit measured (git HEAD) and whether the working tree was clean. */
  commit: string;
  treeClean: boolean;
  machine: Machine;
  loadAverage: { start: number[]; end: number[] };
  /** What was deployed. */
  cloudAssembly: string;
  emulator: {
    endpoint: string;
    /** moto serves one request at a time (local/moto_process.py serialize_requests). */
    serializesRequests: true;
    /** moto speed-ups with no effect on API results (local/moto_speedups.py), as every use of the emulator has. */
    speedups: string[];
    workarounds: string[];
  };
  naiveConcurrency: number;
  durationsMs: Record<string, number>;
  scenarios: ScenarioResult[];
  capacity: { rows: CapacityRow[]; confirmations: CapacityConfirmation[] };
  handlers: {
    bundles: BundleCost[];
    cpu: CpuCost[];
    /** Client-side CPU ms of one AWS SDK call (DynamoDB GetItem), measured in process. */
    sdkCallCpuMs: number;
  };
  /** Audit at scale (bench/audit-scale.ts): concurrent sharded appends, offline verify of 100,000 records. */
  audit?: { appends: AuditAppendResult; verify: AuditVerifyResult };
  targets: TargetResult[];
  /** Something actually broken (a lost Sundown revocation, a failed capacity confirmation). */
  broken: string[];
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
export const s1 = (ms: number) => `${round(ms / 1000, 1)} s`;

export function ratiosOf(sundown: BurstResult, naive: BurstResult): ScenarioResult['ratios'] {
  return {
    iamWritesFewer:
      sundown.perWorkload.iamWrites > 0
        ? round(naive.perWorkload.iamWrites / sundown.perWorkload.iamWrites, 1)
        : null,
    callsMore: round(sundown.perWorkload.handlerCalls / Math.max(0.01, naive.perWorkload.handlerCalls), 1),
    speedup: round(naive.timing.endToEndMs / Math.max(1, sundown.timing.endToEndMs), 3),
  };
}

/** A scenario's Sundown calls per ended workload, by service (own calls, queue polling excluded). */
export function callsByService(b: BurstResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(b.calls.byOperation)) {
    const service = key.split(':')[0] as string;
    out[service] = (out[service] ?? 0) + n;
  }
  return Object.fromEntries(
    Object.entries(out)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => [k, round(n / b.instances)]),
  );
}
