/**
 * How end events reach the naive baseline: its own queue, and a rule with Sundown's EC2 pattern
 * whose target is switched on only while the baseline runs (Sundown's rule then has none).
 */
import {
  type EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type Target as RuleTarget,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { type BenchEnvironment, naiveClients } from './env.ts';

const NAIVE_RULE = 'bench-naive-ec2-ended';
const NAIVE_QUEUE = 'bench-naive-ec2-ended';

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
export function sundownEc2RuleName(env: BenchEnvironment): string {
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
export async function withNaiveRouting<T>(
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
