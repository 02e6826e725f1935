import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueueWithDlqProps {
  /** Encrypts both queues. */
  readonly encryptionKey: kms.IKey;
  /**
   * Visibility timeout of the work queue. Lambda's guidance: at least 6 x the
   * consuming function's timeout.
   */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /**
   * FIFO queue (per-group ordering). FIFO queues need explicit names ending in
   * `.fifo` (moto's CloudFormation rejects generated ones), so this is the name.
   * @default - a standard queue with a generated name
   */
  readonly fifoQueueName?: string;
}

/**
 * A work queue with its dead-letter queue: encrypted with Sundown's key, TLS
 * enforced, 14 days of DLQ retention so a failure can be replayed after a fix.
 */
export class QueueWithDlq extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const fifo = props.fifoQueueName !== undefined;
    if (fifo && !props.fifoQueueName?.endsWith('.fifo')) {
      throw new Error(`fifoQueueName must end in .fifo, got "${props.fifoQueueName}"`);
    }
    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    const common = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      ...common,
      retentionPeriod: Duration.days(14),
      ...(fifo
        ? {
            fifo: true,
            queueName: props.fifoQueueName?.replace(/\.fifo$/, '-dlq.fifo'),
            contentBasedDeduplication: true,
          }
        : {}),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      ...(fifo ? { fifo: true, queueName: props.fifoQueueName, contentBasedDeduplication: true } : {}),
    });
  }
}
