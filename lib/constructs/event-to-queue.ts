import { Names } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** EventBridge's own delivery retries before an event goes to the delivery DLQ (the maximum). */
const DELIVERY_RETRY_ATTEMPTS = 185;

export interface EventToQueueProps {
  readonly eventBus?: events.IEventBus;
  readonly patterns: Record<string, events.EventPattern>;
  readonly queue: sqs.IQueue;
  /** Standard queue for events EventBridge could not deliver (after its own retries). */
  readonly deliveryDlq: sqs.IQueue;
  /**
   * `true`: one SendMessage statement per queue naming every rule of this construct, not one per rule.
   * SQS caps a queue policy at 20 statements and 8,192 bytes; a hub adds a second set of triggers.
   * @default false (one statement per rule)
   */
  readonly oneStatementPerQueue?: boolean;
}

/**
 * One EventBridge rule per pattern, each targeting `queue` (never a Lambda:
 * the queue buffers bursts, batches, and keeps failures in its DLQ), with a
 * delivery DLQ for events EventBridge itself cannot hand over.
 * Rule construct IDs are the pattern names, so they stay stable.
 *
 * EventBridge may send to `queue` and `deliveryDlq` only on behalf of these
 * rules (`aws:SourceArn`). `targets.SqsQueue` is not used on purpose: for a
 * KMS-encrypted queue it grants `events.amazonaws.com` SendMessage with no
 * condition at all, so a rule in any account could write forged events into
 * Sundown's queues (and an input transformer can drop the `account` field).
 */
export class EventToQueue extends Construct {
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: EventToQueueProps) {
    super(scope, id);
    for (const [name, eventPattern] of Object.entries(props.patterns)) {
      const rule = new events.Rule(this, name, {
        description: `Sundown: ${name}`,
        eventPattern,
        ...(props.eventBus ? { eventBus: props.eventBus } : {}),
      });
      targetQueue(rule, props.queue, props.deliveryDlq, { policy: !props.oneStatementPerQueue });
      this.rules.push(rule);
    }
    if (props.oneStatementPerQueue) {
      allowRulesToSend(this, this.rules, [props.queue, props.deliveryDlq]);
    }
  }
}

/** `queues` accept SendMessage from EventBridge on behalf of these rules only (`aws:SourceArn`). */
function allowRulesToSend(scope: Construct, rules: readonly events.Rule[], queues: readonly sqs.IQueue[]) {
  for (const q of queues) {
    q.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowEventRules${Names.nodeUniqueId(scope.node)}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [q.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rules.map((r) => r.ruleArn) } },
      }),
    );
  }
}

/**
 * Points `rule` at `queue` the way every Sundown rule is: delivery DLQ, EventBridge's maximum
 * retries, and SendMessage allowed to EventBridge only on behalf of this rule (`aws:SourceArn`).
 */
export function targetQueue(
  rule: events.Rule,
  queue: sqs.IQueue,
  deliveryDlq: sqs.IQueue,
  options: { policy?: boolean } = {},
): void {
  rule.addTarget({
    bind: () => ({
      arn: queue.queueArn,
      targetResource: queue,
      deadLetterConfig: { arn: deliveryDlq.queueArn },
      retryPolicy: { maximumRetryAttempts: DELIVERY_RETRY_ATTEMPTS },
    }),
  });
  if (options.policy === false) return;
  for (const q of [queue, deliveryDlq]) {
    q.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowEventRule${Names.nodeUniqueId(rule.node)}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [q.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
  }
}
