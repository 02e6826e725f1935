import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface EventToQueueProps {
  readonly eventBus?: events.IEventBus;
  readonly patterns: Record<string, events.EventPattern>;
  readonly queue: sqs.IQueue;
  /** Standard queue for events EventBridge could not deliver (after its own retries). */
  readonly deliveryDlq: sqs.IQueue;
}

/**
 * One EventBridge rule per pattern, each targeting `queue` (never a Lambda:
 * the queue buffers bursts, batches, and keeps failures in its DLQ), with a
 * delivery DLQ for events EventBridge itself cannot hand over.
 * Rule construct IDs are the pattern names, so they stay stable.
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
      rule.addTarget(
        new targets.SqsQueue(props.queue, { deadLetterQueue: props.deliveryDlq, retryAttempts: 185 }),
      );
      this.rules.push(rule);
    }
  }
}
