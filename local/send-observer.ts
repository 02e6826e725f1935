/**
 * Lambda's pollers long-poll their queues, so a message a handler sends is received at once. The
 * emulator serves one request at a time, so the local runtime's pollers poll idle queues rarely
 * (queue-consumers.ts); instead, they are told when one of the runtime's handlers sends to their
 * queue. The handlers' bundles leave the AWS SDK external, so they share this process's
 * `@aws-sdk/client-sqs`: its `send` is wrapped once, and every send of a message is reported by
 * queue name to the runtimes listening. Nothing else about the call changes.
 */
import { SQSClient } from '@aws-sdk/client-sqs';

type Listener = (queueName: string) => void;

const listeners = new Set<Listener>();
let installed = false;

const SENDS = new Set(['SendMessageCommand', 'SendMessageBatchCommand']);

function install(): void {
  if (installed) return;
  installed = true;
  const proto = SQSClient.prototype as unknown as { send: (...args: unknown[]) => Promise<unknown> };
  const original = proto.send;
  proto.send = async function send(this: SQSClient, ...args: unknown[]) {
    const result = await original.apply(this, args);
    const command = args[0] as
      | { constructor?: { name?: string }; input?: { QueueUrl?: unknown } }
      | undefined;
    const url = command?.input?.QueueUrl;
    if (listeners.size > 0 && typeof url === 'string' && SENDS.has(command?.constructor?.name ?? '')) {
      const name = url.slice(url.lastIndexOf('/') + 1);
      for (const listener of listeners) listener(name);
    }
    return result;
  };
}

/** Calls `listener` with the queue's name after each message send that succeeded; returns the stop. */
export function observeSends(listener: Listener): () => void {
  install();
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}
