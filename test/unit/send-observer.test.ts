/**
 * The local runtime's stand-in for Lambda's long polling (local/send-observer.ts): a message a
 * handler sends through the SDK is reported by queue name, so that queue's poller wakes at once.
 */
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { observeSends } from '../../local/send-observer.ts';

/** An SQS client that answers every call itself (or fails it), without a network. */
function clientAnswering(fail = false): SQSClient {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  client.middlewareStack.add(
    () => async () => {
      if (fail) throw Object.assign(new Error('refused'), { name: 'AccessDenied' });
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return client;
}

describe('observeSends', () => {
  it('reports each message send that succeeded, by queue name, until stopped', async () => {
    // Prepare
    const seen: string[] = [];
    const stop = observeSends((queue) => seen.push(queue));
    const ok = clientAnswering();
    const failing = clientAnswering(true);
    const url = (name: string) => `http://127.0.0.1:5000/123456789012/${name}`;

    // Act
    await ok.send(new SendMessageCommand({ QueueUrl: url('Revocations.fifo'), MessageBody: 'x' }));
    await ok.send(
      new SendMessageBatchCommand({ QueueUrl: url('Events'), Entries: [{ Id: '1', MessageBody: 'x' }] }),
    );
    await ok.send(new GetQueueAttributesCommand({ QueueUrl: url('NotASend') }));
    await expect(
      failing.send(new SendMessageCommand({ QueueUrl: url('Refused'), MessageBody: 'x' })),
    ).rejects.toThrow('refused');
    stop();
    await ok.send(new SendMessageCommand({ QueueUrl: url('AfterStop'), MessageBody: 'x' }));

    // Assess
    expect(seen).toEqual(['Revocations.fifo', 'Events']);
  });
});
