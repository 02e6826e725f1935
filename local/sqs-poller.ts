/**
 * Lambda's SQS event source mapping, in process: receive up to the batch size,
 * invoke the handler with an SQS event, delete what succeeded, leave what
 * failed for another receive (the queue's redrive policy moves a message to
 * its DLQ after maxReceiveCount, as on AWS). Partial batch responses follow
 * Lambda's rules: a thrown error, or an unknown item identifier, fails the
 * whole batch.
 *
 * One deviation, for speed: failed messages become visible again after
 * `retryDelaySeconds` instead of the queue's full visibility timeout.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { LocalEventSource } from './stack-model.ts';

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export interface PollerOptions {
  sqs: SQSClient;
  source: LocalEventSource;
  functionName: string;
  region: string;
  handler: Handler;
  retryDelaySeconds: number;
  onError?: (message: string) => void;
}

export interface InvocationReport {
  received: number;
  failed: number;
}

function toRecord(m: Message, source: LocalEventSource, region: string) {
  return {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body ?? '',
    attributes: m.Attributes ?? {},
    messageAttributes: m.MessageAttributes ?? {},
    md5OfBody: m.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: region,
  };
}

function lambdaContext(functionName: string, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Gathers one batch as Lambda's event source mapping does: up to `batchSize` messages, receiving
 * 10 at a time, for at most the batching window once the first message arrived (a batch is
 * invoked as soon as it is full, or when the window closes, or at once when there is no window
 * and a receive came back short). The window bounds the wait for messages to ARRIVE: while
 * receives come back full the queue holds a backlog, and Lambda's pollers (several, in parallel)
 * fill the batch from it at once, so gathering goes on past the window until a receive comes
 * back short. Without that, a slow emulator would close the window after a few receives and cut
 * a backlog into many small batches that AWS would not make.
 */
export async function gatherBatch(sqs: SQSClient, source: LocalEventSource): Promise<Message[]> {
  const messages: Message[] = [];
  const windowEnds = Date.now() + source.batchingWindowSeconds * 1000;
  while (messages.length < source.batchSize) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: source.queueUrl,
        MaxNumberOfMessages: Math.min(10, source.batchSize - messages.length),
        VisibilityTimeout: source.visibilityTimeoutSeconds,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const got = received.Messages ?? [];
    messages.push(...got);
    if (messages.length === 0) return messages; // the queue looked empty
    const backlog = got.length === Math.min(10, source.batchSize - (messages.length - got.length));
    if (Date.now() >= windowEnds && !backlog) break;
    if (got.length === 0) await new Promise((r) => setTimeout(r, Math.min(100, windowEnds - Date.now())));
  }
  return messages;
}

/**
 * Invokes the handler with one gathered batch, then deletes what succeeded and makes what failed
 * visible again after the retry delay. Returns how many it received and how many failed.
 */
export async function invokeBatch(
  options: PollerOptions,
  messages: readonly Message[],
  timeoutSeconds: number,
): Promise<InvocationReport> {
  const { sqs, source } = options;
  const event = { Records: messages.map((m) => toRecord(m, source, options.region)) };
  let failedIds: Set<string>;
  try {
    const response = (await options.handler(event, lambdaContext(options.functionName, timeoutSeconds))) as
      | { batchItemFailures?: { itemIdentifier?: string }[] }
      | undefined;
    const ids = new Set(messages.map((m) => m.MessageId));
    const reported = source.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
    if (reported.some((f) => !f.itemIdentifier || !ids.has(f.itemIdentifier))) {
      options.onError?.(`${options.functionName} returned an unknown itemIdentifier: the whole batch fails`);
      failedIds = new Set(ids as Set<string>);
    } else {
      failedIds = new Set(reported.map((f) => f.itemIdentifier as string));
    }
  } catch (err) {
    const inner = ((err as { recordErrors?: Error[] }).recordErrors ?? []).map((e) => e.message);
    options.onError?.(
      `${options.functionName} threw: ${(err as Error).message} ${inner.slice(0, 3).join(' | ')}`,
    );
    failedIds = new Set(messages.map((m) => m.MessageId as string));
  }

  const succeeded = messages.filter((m) => !failedIds.has(m.MessageId as string));
  const failed = messages.filter((m) => failedIds.has(m.MessageId as string));
  // SQS batch calls take at most 10 entries.
  for (let i = 0; i < succeeded.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: source.queueUrl,
        Entries: succeeded
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  for (let i = 0; i < failed.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: source.queueUrl,
        Entries: failed.slice(i, i + 10).map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: options.retryDelaySeconds,
        })),
      }),
    );
  }
  return { received: messages.length, failed: failed.length };
}
