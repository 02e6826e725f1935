/**
 * Sundown under a burst of terminations: N instances on R opted-in roles,
 * each with a recorded role session, all terminated at once. Measured from
 * the first PutEvents to the last credential `revoked`, with every AWS call
 * counted by the proxy.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BurstResult, perWorkload } from './burst-result.ts';
import { type RoleDenyState, roleDenyState } from './deny-state.ts';
import { type BenchEnvironment, drainQueues } from './env.ts';
import { batchWriteProfile, countCalls, percentiles, revokerBatches } from './metrics.ts';
import { type CpuSnapshot, cpuDelta, cpuSnapshot } from './process-cpu.ts';
import type { CallRecord } from './proxy.ts';
import { registerSessions, registryItems } from './registry-sessions.ts';
import {
  ceilToSecondIso,
  createRoles,
  instanceArn,
  putAll,
  roleIndexOf,
  type Scenario,
  terminatedEvents,
} from './workloads.ts';

export async function runSundownBurst(
  env: BenchEnvironment,
  scenario: Scenario,
  ids: readonly string[],
  log: (line: string) => void,
): Promise<BurstResult> {
  const roles = await createRoles(env.clients, `bench-sd-${scenario.name}`, scenario.roles);
  log(`  sundown ${scenario.name}: registering ${ids.length} sessions on ${roles.length} role(s)...`);
  await registerSessions(
    env,
    ids,
    roles.map((r) => r.arn),
  );

  const errorsBefore = env.runtimeErrors.length;
  const mark = await env.proxy.mark();
  const endedAtMs = Date.now();
  const events = terminatedEvents(env.target, ids, new Date(endedAtMs));
  const cpuBefore = cpuSnapshot(env);
  log(`  sundown ${scenario.name}: putting ${events.length} end events...`);
  const { firstPutAt, lastPutAt, acceptedAt } = await putAll(env.clients, events);
  await drainQueues(env.clients.sqs, env.sourceQueueUrls);
  const settledAt = Date.now();
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(env));
  const allCalls = await env.proxy.calls(mark);
  const calls = allCalls.filter((c) => c.t0 >= firstPutAt && c.caller === 'app');
  writeTrace(env, scenario, allCalls, firstPutAt);

  const states = await Promise.all(roles.map((r) => roleDenyState(env, r.name)));
  return sundownResult(env, scenario, ids, {
    workloadArns: ids.map((id) => instanceArn(env.target, id)),
    states,
    stateOf: (i) => states[roleIndexOf(i, roles.length)] as RoleDenyState,
    window: { endedAtMs, firstPutAt, lastPutAt, settledAt, acceptedAt, cpu, errorsBefore, calls },
  });
}

/**
 * With BENCH_TRACE_DIR set, writes a timeline of every call in the window (the driver's included),
 * times relative to the first end event, for finding where a burst's time goes.
 */
export function writeTrace(
  env: BenchEnvironment,
  scenario: Scenario,
  calls: readonly CallRecord[],
  firstPutAt: number,
): void {
  const dir = process.env.BENCH_TRACE_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${scenario.name}.calls.json`),
    JSON.stringify(calls.map((c) => ({ ...c, t0: c.t0 - firstPutAt, t1: c.t1 - firstPutAt }))),
  );
  // Each handler invocation in the window: which function, how many messages, when.
  const invocations = env.invocations
    .filter((span) => span.endedAt >= firstPutAt)
    .map((span) => ({
      fn: span.functionLogicalId,
      messages: span.bodies.length,
      t0: span.startedAt - firstPutAt,
      t1: span.endedAt - firstPutAt,
    }));
  writeFileSync(join(dir, `${scenario.name}.invocations.json`), JSON.stringify(invocations));
}

/** The measured window of a Sundown run (first end event sent -> every queue empty). */
export interface SundownWindow {
  endedAtMs: number;
  firstPutAt: number;
  lastPutAt: number;
  settledAt: number;
  /** Per workload (in `ids` order): when the call carrying its end event returned. */
  acceptedAt: number[];
  cpu: CpuSnapshot;
  /** `env.runtimeErrors.length` when the window opened. */
  errorsBefore: number;
  /** Sundown's calls in the window. */
  calls: CallRecord[];
}

/**
 * Sundown's result: a session counts as revoked only if its registry item is `revoked` and its role's
 * final policies (`stateOf(i)`, read back in the role's own account) deny it with a bound at or
 * after its end.
 */
export async function sundownResult(
  env: BenchEnvironment,
  scenario: Scenario,
  ids: readonly string[],
  run: {
    /** Per workload (in `ids` order): its workload ID in the registry. */
    workloadArns: readonly string[];
    states: readonly RoleDenyState[];
    stateOf: (i: number) => RoleDenyState;
    window: SundownWindow;
  },
): Promise<BurstResult> {
  const { endedAtMs, firstPutAt, lastPutAt, settledAt, acceptedAt, cpu, errorsBefore, calls } = run.window;
  const { states } = run;
  const records = await registryItems(env, new Set(run.workloadArns));
  const byWorkload = new Map(records.map((r) => [r.workloadId, r]));
  const lostDetail: Record<string, number> = {};
  const ttr: number[] = [];
  const sinceOwnEvent: number[] = [];
  const revokedMinusEnded: number[] = [];
  const requested: number[] = [];
  const revokerStage: number[] = [];
  let lastRevokedAt = firstPutAt;
  ids.forEach((id, i) => {
    const record = byWorkload.get(run.workloadArns[i] as string);
    const state = run.stateOf(i);
    const bound = state.sessions.get(id);
    const mustCover = ceilToSecondIso(Date.parse(record?.endedAt ?? new Date(endedAtMs).toISOString()));
    let problem: string | undefined;
    if (!record) problem = 'no registry record';
    else if (record.status !== 'revoked') problem = `status ${record.status}`;
    else if (!bound) problem = 'revoked but not in any policy';
    else if (bound < mustCover) problem = 'denied with a bound before its end';
    if (problem) {
      lostDetail[problem] = (lostDetail[problem] ?? 0) + 1;
      return;
    }
    const revokedAt = Date.parse(record?.revokedAt ?? '');
    ttr.push(revokedAt - firstPutAt);
    sinceOwnEvent.push(revokedAt - (acceptedAt[i] as number));
    revokedMinusEnded.push(revokedAt - Date.parse(record?.endedAt ?? ''));
    const requestedAt = Date.parse(record?.revokeRequestedAt ?? '');
    requested.push(requestedAt - firstPutAt);
    revokerStage.push(revokedAt - requestedAt);
    lastRevokedAt = Math.max(lastRevokedAt, revokedAt);
  });
  const runtimeErrors = env.runtimeErrors.slice(errorsBefore);
  const counts = countCalls(calls);
  const lost = ids.length - ttr.length;
  const storeQueries = calls.filter(
    (c) => c.op === 'Query' && c.table === env.stack.outputs.RevocationsTableName,
  );
  const storeBytes = storeQueries.reduce((sum, c) => sum + c.bytes, 0);
  const auditWrites = calls.filter((c) => c.op === 'TransactWriteItems' && c.service === 'dynamodb');
  return {
    system: 'sundown',
    scenario: scenario.name,
    instances: scenario.instances,
    roles: scenario.roles,
    calls: counts,
    perWorkload: perWorkload(counts, ids.length),
    batches: batchWriteProfile(calls, revokerBatches(env.invocations, firstPutAt)),
    storeReads: {
      queries: storeQueries.length,
      bytes: storeBytes,
      bytesPerWorkload: Math.round(storeBytes / ids.length),
    },
    auditRetries: {
      cancelled: auditWrites.filter((c) => c.status >= 400).length,
      committed: auditWrites.filter((c) => c.status < 400).length,
    },
    timing: {
      putMs: lastPutAt - firstPutAt,
      endToEndMs: lastRevokedAt - firstPutAt,
      settledMs: settledAt - firstPutAt,
      timeToRevokeMs: percentiles(ttr),
      sinceOwnEventMs: percentiles(sinceOwnEvent),
      revokedMinusEndedMs: percentiles(revokedMinusEnded),
      requestedMs: percentiles(requested),
      revokerStageMs: percentiles(revokerStage),
    },
    revoked: ttr.length,
    lost,
    lostDetail,
    cpu,
    runtimeErrors: { count: runtimeErrors.length, first: runtimeErrors.slice(0, 3) },
    policies: {
      maxInlineChars: Math.max(0, ...states.map((s) => s.inlineChars)),
      managedPolicies: states.reduce((sum, s) => sum + s.managed, 0),
    },
  };
}
