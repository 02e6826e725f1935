/**
 * Sundown under a burst of terminations: N instances on R opted-in roles,
 * each with a recorded role session, all terminated at once. Measured from
 * the first PutEvents to the last credential `revoked`, with every AWS call
 * counted by the proxy.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { OPEN_ENDED } from '../lambdas/registration/index.ts';
import { workloadIndexItems } from '../lambdas/registry/index.ts';
import { policyTextSize } from '../lambdas/revocation/deny-policy.ts';
import { INLINE_POLICY_NAME } from '../lambdas/revocation/role-sessions/policy-writer.ts';
import { batchWriteAll } from '../lambdas/shared/adapters/dynamo-batch.ts';
import { credentialIdFor, normalizeWorkloadId } from '../lambdas/shared/domain/workload-id.ts';
import { type CredentialRecord, CredentialRecordSchema } from '../lambdas/shared/schemas/credential.ts';
import type { Target } from '../local/aws-env.ts';
import {
  type BenchClients,
  type BenchEnvironment,
  type CpuSnapshot,
  cpuDelta,
  cpuSnapshot,
  drainQueues,
} from './env.ts';
import {
  type BatchWriteProfile,
  batchWriteProfile,
  type CallCounts,
  countCalls,
  deniedSessions,
  type Percentiles,
  percentiles,
  revokerBatches,
} from './metrics.ts';
import type { CallRecord } from './proxy.ts';
import {
  ceilToSecondIso,
  createRoles,
  instanceArn,
  putAll,
  roleIndexOf,
  type Scenario,
  terminatedEvents,
} from './workloads.ts';

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

export interface RoleDenyState {
  sessions: Map<string, string>;
  inlineChars: number;
  managed: number;
  managedChars: number[];
}

/** What the role's Sundown policies (inline + /sundown/ managed overflow) deny, read back from IAM. */
export async function roleDenyState(
  env: { clients: Pick<BenchClients, 'iam'> },
  roleName: string,
): Promise<RoleDenyState> {
  const { iam } = env.clients;
  const sessions = new Map<string, string>();
  const merge = (m: Map<string, string>) => {
    for (const [k, v] of m) if ((sessions.get(k) ?? '') < v) sessions.set(k, v);
  };
  let inlineChars = 0;
  try {
    const res = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }),
    );
    const text = decodeURIComponent(res.PolicyDocument ?? '');
    inlineChars = policyTextSize(text);
    merge(deniedSessions(text));
  } catch (err) {
    if (!(err instanceof NoSuchEntityException)) throw err;
  }
  const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  const managedChars: number[] = [];
  for (const p of attached.AttachedPolicies ?? []) {
    if (!p.PolicyArn?.includes(':policy/sundown/')) continue;
    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: p.PolicyArn }));
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: p.PolicyArn, VersionId: policy.Policy?.DefaultVersionId }),
    );
    const text = decodeURIComponent(version.PolicyVersion?.Document ?? '');
    managedChars.push(policyTextSize(text));
    merge(deniedSessions(text));
  }
  return { sessions, inlineChars, managed: managedChars.length, managedChars };
}

/** Every registry item of the given workloads (a scan: the bench may, Sundown never does). */
export async function registryItems(
  env: BenchEnvironment,
  workloadIds: Set<string>,
): Promise<CredentialRecord[]> {
  const items: CredentialRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await env.clients.doc.send(
      new ScanCommand({ TableName: env.stack.outputs.CredentialsTableName, ExclusiveStartKey: start }),
    );
    for (const item of res.Items ?? []) {
      if (workloadIds.has(String(item.workloadId))) items.push(item as CredentialRecord);
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Records each instance's role session directly in the registry: the item
 * Sundown's `Credential Issued` path would store (credential ID from
 * `credentialIdFor`, validated by `CredentialRecordSchema`), written with
 * BatchWriteItem (with the workload index items Sundown writes in the same transaction), so setting
 * up 1,000 sessions takes seconds. (Setup is not
 * measured; the termination path reads exactly these items.)
 */
/** The registry item Sundown stores for an EC2 instance's role session registered by an event. */
export function sessionRecord(
  target: Pick<Target, 'region' | 'accountId'>,
  instanceId: string,
  roleArn: string,
  issuedAt: string,
): CredentialRecord {
  const workload = normalizeWorkloadId(
    `arn:aws:ec2:${target.region}:${target.accountId}:instance/${instanceId}`,
  );
  return CredentialRecordSchema.parse({
    credentialId: credentialIdFor({
      kind: 'role-session',
      roleArn,
      sessionName: instanceId,
      workloadId: workload.id,
    }),
    kind: 'role-session',
    workloadId: workload.id,
    workloadKind: workload.kind,
    status: 'active',
    issuedAt,
    expiresAt: OPEN_ENDED,
    issuer: 'event',
    account: target.accountId,
    region: target.region,
    roleArn,
    roleName: roleArn.split('/').pop(),
    sessionName: instanceId,
    reusableSessionName: workload.reusableSessionName,
  });
}

export async function registerSessions(
  env: BenchEnvironment,
  ids: readonly string[],
  roleArns: readonly string[],
): Promise<void> {
  const issuedAt = new Date().toISOString();
  const items = ids.map((id, i) =>
    sessionRecord(env.target, id, roleArns[roleIndexOf(i, roleArns.length)] as string, issuedAt),
  );
  await batchWriteAll(
    env.clients.doc,
    env.stack.outputs.CredentialsTableName as string,
    [...items, ...workloadIndexItems(items)].map((Item) => ({ PutRequest: { Item } })),
  );
  const records = await registryItems(env, new Set(items.map((r) => r.workloadId)));
  const active = records.filter((r) => r.status === 'active').length;
  if (active !== ids.length) {
    throw new Error(`expected ${ids.length} active sessions after registration, found ${active}`);
  }
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
  // A timeline of every call in the window (driver's included), for finding where a burst's time goes.
  if (process.env.BENCH_TRACE_DIR) {
    mkdirSync(process.env.BENCH_TRACE_DIR, { recursive: true });
    writeFileSync(
      join(process.env.BENCH_TRACE_DIR, `${scenario.name}.calls.json`),
      JSON.stringify(allCalls.map((c) => ({ ...c, t0: c.t0 - firstPutAt, t1: c.t1 - firstPutAt }))),
    );
  }

  const states = await Promise.all(roles.map((r) => roleDenyState(env, r.name)));
  return sundownResult(env, scenario, ids, {
    workloadArns: ids.map((id) => instanceArn(env.target, id)),
    states,
    stateOf: (i) => states[roleIndexOf(i, roles.length)] as RoleDenyState,
    window: { endedAtMs, firstPutAt, lastPutAt, settledAt, acceptedAt, cpu, errorsBefore, calls },
  });
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
