/**
 * The deliberately simple revoker Sundown is compared against, driven by the
 * same events through the same kind of delivery: an EventBridge rule with
 * Sundown's EC2 pattern -> an SQS queue -> N concurrent workers. Per
 * terminated instance a worker does what a quick script would: GetRolePolicy,
 * append the session to the statement for its end time, PutRolePolicy. No
 * serialization, so concurrent read-modify-writes of one role's policy
 * overwrite each other (lost updates).
 *
 * Its role lookup is free (an in-memory map, where Sundown queries its
 * registry), and it enforces IAM's 10,240-character inline quota itself,
 * because the emulator does not: a write IAM would refuse is counted as
 * refused, not retried.
 */
import { GetRolePolicyCommand, type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type BurstResult, perWorkload } from './burst-result.ts';
import { type BenchEnvironment, drainQueues, naiveClients } from './env.ts';
import { countCalls, deniedSessions, percentiles } from './metrics.ts';
import { type NaiveDelivery, sundownEc2RuleName, withNaiveRouting } from './naive-delivery.ts';
import { NAIVE_POLICY_NAME, type NaiveOutcome, startWorkers } from './naive-worker.ts';
import { type CpuSnapshot, cpuDelta, cpuSnapshot } from './process-cpu.ts';
import type { CallRecord } from './proxy.ts';
import { createRoles, putAll, roleIndexOf, type Scenario, terminatedEvents } from './workloads.ts';

export async function runNaiveBurst(
  env: BenchEnvironment,
  delivery: NaiveDelivery,
  scenario: Scenario,
  ids: readonly string[],
  concurrency: number,
  log: (line: string) => void,
): Promise<BurstResult> {
  const naive = naiveClients(env.target);
  const roles = await createRoles(env.clients, `bench-naive-${scenario.name}`, scenario.roles);
  const roleOf = new Map(
    ids.map((id, i) => [id, (roles[roleIndexOf(i, roles.length)] as { name: string }).name]),
  );
  log(
    `  naive   ${scenario.name}: ${concurrency} workers, ${ids.length} terminations on ${roles.length} role(s)...`,
  );
  const sundownRule = sundownEc2RuleName(env);
  // Sundown's pollers are stopped while the baseline runs: they neither compete nor count.
  await env.pauseRuntime();
  try {
    return await withNaiveRouting(env.clients.events, sundownRule, delivery, async () => {
      const pending = await env.clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: delivery.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      if (Number(pending.Attributes?.ApproximateNumberOfMessages ?? 0) > 0)
        throw new Error('the naive queue is not empty before the run');
      const workers = startWorkers(async () => naive.iam, naive.sqs, delivery.queueUrl, roleOf, concurrency);
      const mark = await env.proxy.mark();
      const endedAtMs = Date.now();
      const cpuBefore = cpuSnapshot(env);
      const { firstPutAt, lastPutAt, acceptedAt } = await putAll(
        env.clients,
        terminatedEvents(env.target, ids, new Date(endedAtMs)),
      );
      await drainQueues(env.clients.sqs, [delivery.queueUrl], { busy: workers.busy });
      const settledAt = Date.now();
      const cpu = cpuDelta(cpuBefore, cpuSnapshot(env));
      await workers.stop();
      const calls = (await env.proxy.calls(mark)).filter((c) => c.t0 >= firstPutAt && c.caller === 'naive');

      return naiveResult(
        scenario,
        ids,
        roles.map((r) => ({ name: r.name, iam: env.clients.iam })),
        roleOf,
        workers.outcome,
        calls,
        {
          firstPutAt,
          lastPutAt,
          settledAt,
          acceptedAt,
          cpu,
        },
      );
    });
  } finally {
    await env.resumeRuntime();
  }
}

/** The measured window of a baseline run (first end event sent -> settled). */
export interface NaiveWindow {
  firstPutAt: number;
  lastPutAt: number;
  settledAt: number;
  /** Per workload (in `ids` order): when the call carrying its end event returned. */
  acceptedAt: number[];
  cpu: CpuSnapshot;
}

/**
 * The baseline's result: each session counts as revoked only if its role's final policy (read back
 * with `iam`, the client of the role's own account) denies it and the baseline's write returned.
 */
export async function naiveResult(
  scenario: Scenario,
  ids: readonly string[],
  roles: readonly { name: string; iam: IAMClient }[],
  roleOf: Map<string, string>,
  outcome: NaiveOutcome,
  calls: CallRecord[],
  { firstPutAt, lastPutAt, settledAt, acceptedAt, cpu }: NaiveWindow,
): Promise<BurstResult> {
  const finalPolicies = new Map<string, Map<string, string>>();
  let maxInlineChars = 0;
  for (const role of roles) {
    try {
      const res = await role.iam.send(
        new GetRolePolicyCommand({ RoleName: role.name, PolicyName: NAIVE_POLICY_NAME }),
      );
      const text = decodeURIComponent(res.PolicyDocument ?? '');
      maxInlineChars = Math.max(maxInlineChars, JSON.stringify(JSON.parse(text)).length);
      finalPolicies.set(role.name, deniedSessions(text));
    } catch (err) {
      if (!(err instanceof NoSuchEntityException)) throw err;
      finalPolicies.set(role.name, new Map());
    }
  }
  const ttr: number[] = [];
  const sinceOwnEvent: number[] = [];
  const lostDetail: Record<string, number> = {};
  for (const [i, id] of ids.entries()) {
    const denied = finalPolicies.get(roleOf.get(id) as string)?.has(id) ?? false;
    const writtenAt = outcome.writtenAt.get(id);
    if (denied && writtenAt !== undefined) {
      ttr.push(writtenAt - firstPutAt);
      sinceOwnEvent.push(writtenAt - (acceptedAt[i] as number));
      continue;
    }
    const reason = outcome.refused.has(id)
      ? 'refused: over the 10,240-character inline quota'
      : writtenAt !== undefined
        ? 'lost update: written, then overwritten by a concurrent write'
        : 'never processed';
    lostDetail[reason] = (lostDetail[reason] ?? 0) + 1;
  }
  if (outcome.errors.length > 0) lostDetail[`errors: ${outcome.errors[0]}`] = outcome.errors.length;
  const counts = countCalls(calls);
  return {
    system: 'naive' as const,
    scenario: scenario.name,
    instances: scenario.instances,
    roles: scenario.roles,
    calls: counts,
    perWorkload: perWorkload(counts, ids.length),
    timing: {
      putMs: lastPutAt - firstPutAt,
      // Until the baseline had handled every event (it cannot know which of its writes were lost).
      endToEndMs: Math.max(outcome.lastHandledAt, firstPutAt) - firstPutAt,
      settledMs: settledAt - firstPutAt,
      timeToRevokeMs: percentiles(ttr),
      sinceOwnEventMs: percentiles(sinceOwnEvent),
    },
    revoked: ttr.length,
    lost: ids.length - ttr.length,
    lostDetail,
    cpu,
    runtimeErrors: { count: 0, first: [] },
    policies: { maxInlineChars, managedPolicies: 0 },
  };
}
