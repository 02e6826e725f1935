/**
 * The local runtime's stand-in for Lambda's SQS event source mappings: one poller per queue
 * gathers batches (sqs-poller.ts) and hands each to an invocation of its own, up to
 * `maxConcurrentBatches` at once, as Lambda's pollers do.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { gatherBatch, type Handler, invokeBatch } from './sqs-poller.ts';
import type { StackModel } from './stack-model.ts';

export interface InvocationSpan {
  functionLogicalId: string;
  /** Handler called, and its batch deleted or released (ms since the epoch). */
  startedAt: number;
  endedAt: number;
  /** The batch's message bodies. */
  bodies: string[];
}

/** How the runtime consumes its queues. */
export interface ConsumerOptions {
  /** Seconds before a failed message is received again. @default 1 */
  retryDelaySeconds?: number;
  /** Idle wait after an empty poll, in ms; doubles while a queue stays empty. @default 100 */
  pollIntervalMs?: number;
  /**
   * Longest idle wait between polls of an empty queue, in ms: how late a message from outside this
   * process (another process's PutEvents or SendMessage) may be received. @default 1000
   */
  maxPollIntervalMs?: number;
  /**
   * Batches of one queue handled at once (Lambda starts an SQS event source mapping with five
   * concurrent batches; a FIFO queue's batches run side by side only for different message
   * groups, which the queue itself enforces). @default 5
   */
  maxConcurrentBatches?: number;
  onError?: (message: string) => void;
  /** Told of every invocation when it has ended (the benchmarks attribute calls to batches). */
  onInvocation?: (invocation: InvocationSpan) => void;
}

export interface QueueConsumers {
  /** Polls every queue now. */
  wake(): void;
  /** Polls this queue (by name, the last segment of its URL) now. */
  wakeQueue(queueName: string): void;
  /** Stops polling and waits for the invocations under way. */
  stop(): Promise<void>;
}

export function startQueueConsumers(deps: {
  model: StackModel;
  handlers: ReadonlyMap<string, Handler>;
  sqs: SQSClient;
  region: string;
  options: ConsumerOptions;
  stats: { invocations: number; received: number; failed: number };
  /** Function logical IDs whose queues are not polled. */
  paused: ReadonlySet<string>;
}): QueueConsumers {
  const { model, handlers, sqs, options, stats, paused } = deps;
  let running = true;
  // Lambda long-polls its queues, which costs nothing while they are empty. The emulator serves
  // one request at a time, so every empty receive delays a real call: an idle queue is polled
  // less and less often (up to maxPollIntervalMs), and its poller is woken as soon as anything in
  // this process sends to it or puts an event its rules may deliver (the runtime observes both,
  // send-observer.ts).
  const minIdle = options.pollIntervalMs ?? 100;
  const maxIdle = Math.max(minIdle, options.maxPollIntervalMs ?? 1000);
  // Idle pollers waiting to be woken, by queue name (a set each, so a waiter whose timer fired is
  // dropped, not kept).
  const waiters = new Map<string, Set<() => void>>();
  const wakeQueue = (queueName: string) => {
    const queue = waiters.get(queueName);
    if (!queue) return;
    for (const resolve of [...queue]) resolve();
  };
  const wake = () => {
    for (const name of [...waiters.keys()]) wakeQueue(name);
  };
  const idle = (ms: number, queueName: string) =>
    new Promise<void>((resolve) => {
      const queue = waiters.get(queueName) ?? new Set<() => void>();
      waiters.set(queueName, queue);
      const done = () => {
        clearTimeout(timer);
        queue.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      queue.add(done);
    });
  const maxConcurrent = Math.max(1, options.maxConcurrentBatches ?? 5);
  // One poller per queue gathers batches, as Lambda's pollers do, and hands each to an invocation
  // of its own, up to maxConcurrent at once: a burst's second batch does not wait for the first.
  const loops = model.eventSources.map(async (source) => {
    const fn = model.functions.find((f) => f.logicalId === source.functionLogicalId);
    const handler = fn && handlers.get(fn.logicalId);
    if (!fn || !handler) return;
    const pollerOptions = {
      sqs,
      source,
      functionName: fn.functionName,
      region: deps.region,
      handler,
      retryDelaySeconds: options.retryDelaySeconds ?? 1,
      onError: options.onError,
    };
    const inFlight = new Set<Promise<void>>();
    const queueName = source.queueUrl.slice(source.queueUrl.lastIndexOf('/') + 1);
    let idleMs = minIdle;
    while (running) {
      if (paused.has(fn.logicalId)) {
        await new Promise((r) => setTimeout(r, options.pollIntervalMs ?? 100));
        continue;
      }
      if (inFlight.size >= maxConcurrent) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: Awaited<ReturnType<typeof gatherBatch>> = [];
      try {
        messages = await gatherBatch(sqs, source);
      } catch (err) {
        if (running) options.onError?.(`polling ${source.queueUrl} failed: ${(err as Error).message}`);
      }
      if (messages.length === 0) {
        await idle(idleMs, queueName);
        idleMs = Math.min(maxIdle, idleMs * 2);
        continue;
      }
      idleMs = minIdle;
      const startedAt = Date.now();
      const invocation = invokeBatch(pollerOptions, messages, fn.timeoutSeconds)
        .then((report) => {
          stats.invocations++;
          stats.received += report.received;
          stats.failed += report.failed;
          options.onInvocation?.({
            functionLogicalId: fn.logicalId,
            startedAt,
            endedAt: Date.now(),
            bodies: messages.map((m) => m.Body ?? ''),
          });
        })
        .catch((err) => {
          if (running) options.onError?.(`invoking ${fn.functionName} failed: ${(err as Error).message}`);
        })
        .finally(() => {
          inFlight.delete(invocation);
          // Its messages are gone: a FIFO queue's next messages of those groups can be received.
          wakeQueue(queueName);
        });
      inFlight.add(invocation);
    }
    await Promise.all(inFlight);
  });

  return {
    wake,
    wakeQueue,
    async stop() {
      running = false;
      wake();
      await Promise.all(loops);
    },
  };
}
