/**
 * Lambda's pollers long-poll their queues, so a message reaches a handler as soon as it is sent or
 * delivered. The emulator serves one request at a time, so the local runtime's pollers poll idle
 * queues rarely (queue-consumers.ts); instead, they are told what this process sends: each message
 * sent with SQS (by queue name), and each event put on a bus with EventBridge (by bus, source,
 * detail type and detail: the runtime wakes the queues whose rules may deliver it,
 * event-rules.ts). The handlers' bundles leave the AWS SDK external, so they share this process's
 * `@aws-sdk/client-sqs` and `@aws-sdk/client-eventbridge` with the demo, the tests and the
 * benchmarks: each `send` is wrapped once, and only calls that succeeded are reported. Nothing else
 * about the calls changes.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { PutEntry } from './event-rules.ts';

export interface SendListener {
  /** A message was sent to this queue (by name). */
  queue(queueName: string): void;
  /** These events were accepted by EventBridge. */
  events(entries: PutEntry[]): void;
}

const listeners = new Set<SendListener>();
let installed = false;

const SENDS = new Set(['SendMessageCommand', 'SendMessageBatchCommand']);

type Command = { constructor?: { name?: string }; input?: Record<string, unknown> } | undefined;

/** Wraps `send` of a client class: `report` sees each command that succeeded, with its output. */
function wrapSend(clientClass: { prototype: unknown }, report: (command: Command, output: unknown) => void) {
  const proto = clientClass.prototype as { send: (...args: unknown[]) => Promise<unknown> };
  const original = proto.send;
  proto.send = async function send(this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    if (listeners.size > 0) report(args[0] as Command, result);
    return result;
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  wrapSend(SQSClient, (command) => {
    const url = command?.input?.QueueUrl;
    if (typeof url !== 'string' || !SENDS.has(command?.constructor?.name ?? '')) return;
    const name = url.slice(url.lastIndexOf('/') + 1);
    for (const listener of listeners) listener.queue(name);
  });
  wrapSend(EventBridgeClient, (command, output) => {
    if (command?.constructor?.name !== 'PutEventsCommand') return;
    const given = (command.input?.Entries ?? []) as {
      EventBusName?: string;
      Source?: string;
      DetailType?: string;
      Detail?: string;
    }[];
    const answers = ((output as { Entries?: { ErrorCode?: string }[] } | undefined)?.Entries ?? []) as {
      ErrorCode?: string;
    }[];
    const accepted = given.flatMap((entry, i) =>
      answers[i]?.ErrorCode || !entry.Source
        ? []
        : [
            {
              source: entry.Source,
              detailType: entry.DetailType ?? '',
              ...(entry.Detail ? { detail: entry.Detail } : {}),
              ...(entry.EventBusName ? { bus: entry.EventBusName } : {}),
            },
          ],
    );
    if (accepted.length === 0) return;
    for (const listener of listeners) listener.events(accepted);
  });
}

/** Tells `listener` of every send that succeeded, until the returned stop is called. */
export function observeSends(listener: SendListener): () => void {
  install();
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}
