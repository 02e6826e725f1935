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
import {
  type EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type Target as RuleTarget,
} from '@aws-sdk/client-eventbridge';
import {
  GetRolePolicyCommand,
  type IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type BenchEnvironment,
  type CpuSnapshot,
  cpuDelta,
  cpuSnapshot,
  drainQueues,
  naiveClients,
} from './env.ts';
import { countCalls, deniedSessions, percentiles } from './metrics.ts';
import type { CallRecord } from './proxy.ts';
import type { BurstResult } from './sundown-burst.ts';
import { perWorkload } from './sundown-burst.ts';
import {
  ceilToSecondIso,
  createRoles,
  putAll,
  roleIndexOf,
  type Scenario,
  terminatedEvents,
} from './workloads.ts';

export const NAIVE_POLICY_NAME = 'NaiveRevokedSessions';
const NAIVE_RULE = 'bench-naive-ec2-ended';
const NAIVE_QUEUE = 'bench-naive-ec2-ended';
/** IAM quota: aggregate inline policy size of one role (the emulator does not enforce it). */
const INLINE_LIMIT = 10_240;

interface NaiveStatement {
  Effect: 'Deny';
  Action: '*';
  Resource: '*';
  Condition: { StringLike: { 'aws:userid': string[] }; DateLessThan: { 'aws:TokenIssueTime': string } };
}

interface NaiveDocument {
  Version: '2012-10-17';
  Statement: NaiveStatement[];
}

/** The naive revoker's delivery: its own queue and a rule with Sundown's EC2 pattern (targets toggled per run). */
export interface NaiveDelivery {
  queueUrl: string;
  queueArn: string;
}

export async function createNaiveDelivery(env: BenchEnvironment): Promise<NaiveDelivery> {
  const clients = naiveClients(env.target);
  const queue = await clients.sqs.send(new CreateQueueCommand({ QueueName: NAIVE_QUEUE }));
  const queueArn = `arn:aws:sqs:${env.target.region}:${env.target.accountId}:${NAIVE_QUEUE}`;
  await env.clients.events.send(
    new PutRuleCommand({
      Name: NAIVE_RULE,
      EventPattern: JSON.stringify({
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['shutting-down', 'terminated'] },
      }),
    }),
  );
  return { queueUrl: queue.QueueUrl as string, queueArn };
}

/** The physical name of Sundown's EC2-end rule on the default bus. */
function sundownEc2RuleName(env: BenchEnvironment): string {
  const entry = Object.entries(env.model.physicalIds).find(([logicalId]) =>
    logicalId.startsWith('EndTriggersEc2InstanceEnded'),
  );
  if (!entry) throw new Error("Sundown's EC2 end rule was not found in the deployed stack");
  return entry[1].split('/').pop() as string;
}

/**
 * Routes EC2 end events to the naive queue only, runs `body`, then routes them
 * back to Sundown only: each system sees exactly the same events, alone.
 */
async function withNaiveRouting<T>(
  events: EventBridgeClient,
  sundownRule: string,
  delivery: NaiveDelivery,
  body: () => Promise<T>,
): Promise<T> {
  const sundownTargets =
    (await events.send(new ListTargetsByRuleCommand({ Rule: sundownRule }))).Targets ?? [];
  await events.send(
    new RemoveTargetsCommand({ Rule: sundownRule, Ids: sundownTargets.map((t) => t.Id as string) }),
  );
  await events.send(
    new PutTargetsCommand({ Rule: NAIVE_RULE, Targets: [{ Id: 'naive', Arn: delivery.queueArn }] }),
  );
  try {
    return await body();
  } finally {
    await events.send(new RemoveTargetsCommand({ Rule: NAIVE_RULE, Ids: ['naive'] }));
    await events.send(new PutTargetsCommand({ Rule: sundownRule, Targets: sundownTargets as RuleTarget[] }));
  }
}

function policySize(doc: NaiveDocument): number {
  return JSON.stringify(doc).length;
}

export interface NaiveOutcome {
  /** Instance -> time its PutRolePolicy returned. */
  writtenAt: Map<string, number>;
  refused: Set<string>;
  unknown: number;
  errors: string[];
  /** When the last message was handled (written, refused or failed). */
  lastHandledAt: number;
}

/** One revocation, the naive way: read the role's policy, append, write it back. */
async function revokeOne(
  iam: IAMClient,
  roleName: string,
  sessionName: string,
  bound: string,
): Promise<'written' | 'refused'> {
  let doc: NaiveDocument = { Version: '2012-10-17', Statement: [] };
  try {
    const res = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: NAIVE_POLICY_NAME }),
    );
    doc = JSON.parse(decodeURIComponent(res.PolicyDocument ?? '')) as NaiveDocument;
  } catch (err) {
    if (!(err instanceof NoSuchEntityException)) throw err;
  }
  const value = `*:${sessionName}`;
  const statement = doc.Statement.find((s) => s.Condition.DateLessThan['aws:TokenIssueTime'] === bound);
  if (statement) {
    if (!statement.Condition.StringLike['aws:userid'].includes(value))
      statement.Condition.StringLike['aws:userid'].push(value);
  } else {
    doc.Statement.push({
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringLike: { 'aws:userid': [value] }, DateLessThan: { 'aws:TokenIssueTime': bound } },
    });
  }
  if (policySize(doc) > INLINE_LIMIT) return 'refused'; // IAM: LimitExceeded; the emulator would accept it
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: NAIVE_POLICY_NAME,
      PolicyDocument: JSON.stringify(doc),
    }),
  );
  return 'written';
}

/**
 * N workers polling the queue like an event source mapping (batch 10, 100 ms idle wait).
 * `iamFor(account)`: the IAM client for the event's account (one client when single-account).
 */
export function startWorkers(
  iamFor: (account: string | undefined) => Promise<IAMClient>,
  sqs: SQSClient,
  queueUrl: string,
  roleOf: Map<string, string>,
  concurrency: number,
): { outcome: NaiveOutcome; busy: () => boolean; stop: () => Promise<void> } {
  const outcome: NaiveOutcome = {
    writtenAt: new Map(),
    refused: new Set(),
    unknown: 0,
    errors: [],
    lastHandledAt: 0,
  };
  let running = true;
  let busy = 0;
  const worker = async () => {
    while (running) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      busy++;
      try {
        for (const m of messages) {
          const event = JSON.parse(m.Body ?? '{}') as {
            account?: string;
            time?: string;
            detail?: { 'instance-id'?: string };
          };
          const id = event.detail?.['instance-id'] ?? '';
          const roleName = roleOf.get(id);
          if (!roleName) {
            outcome.unknown++;
            continue;
          }
          const bound = ceilToSecondIso(Date.parse(event.time ?? ''));
          try {
            const result = await revokeOne(await iamFor(event.account), roleName, id, bound);
            if (result === 'written') outcome.writtenAt.set(id, Date.now());
            else outcome.refused.add(id);
          } catch (err) {
            // A quick script gives up on the message: it is deleted with the batch.
            outcome.errors.push((err as Error).message.slice(0, 200));
          }
          outcome.lastHandledAt = Date.now();
        }
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      } finally {
        busy--;
      }
    }
  };
  const loops = Array.from({ length: concurrency }, worker);
  return {
    outcome,
    busy: () => busy > 0,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

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
