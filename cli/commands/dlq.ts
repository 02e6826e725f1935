/**
 * `sundown dlq replay [--queue <name>] [--yes]`: after a fix, moves every message of Sundown's
 * dead-letter queues back to the queue it came from, for the functions to process again.
 *
 * - A work queue's DLQ goes back to that queue (SQS names it: ListDeadLetterSourceQueues).
 * - EventDelivery (EventBridge's DLQ) goes to the queue each message names in `TARGET_ARN`; a
 *   message naming a queue that is not Sundown's stays where it is.
 * - FIFO: the message group is kept, with a fresh deduplication ID (the original may still be in
 *   the 5-minute deduplication window, which would drop the replay silently).
 * - Each message is sent first and deleted from the DLQ only after SQS accepted it: a failure in
 *   between leaves a duplicate, never a loss (every Sundown handler is idempotent).
 * - A replayed message that fails again and comes back to the DLQ during the same replay is left
 *   there, so a poison message cannot loop.
 *
 * It asks for confirmation on the terminal unless `--yes`; without a terminal and without `--yes`
 * it refuses (CI has no one to answer).
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { clients } from '../../lambdas/shared/clients.ts';
import { CliError } from '../errors.ts';
import { printJson, printTable } from '../output.ts';
import { queueNameOf, type SundownDlq, sundownDlqs } from '../queues.ts';
import { type CommonOptions, resolveTarget, withTargetOptions } from '../target.ts';

/** Attributes EventBridge adds to what it could not deliver: not part of the event. */
const EVENTBRIDGE_DLQ_ATTRIBUTES = new Set([
  'RULE_ARN',
  'TARGET_ARN',
  'ERROR_CODE',
  'ERROR_MESSAGE',
  'EXHAUSTED_RETRY_CONDITION',
  'RETRY_ATTEMPTS',
]);

interface ReplayOptions extends CommonOptions {
  queue?: string;
  yes?: boolean;
  max?: string;
}

export interface ReplayResult {
  queue: string;
  from: string;
  moved: number;
  /** Messages left in the DLQ (no known destination, sent back during this replay, or refused by SQS). */
  left: number;
  destinations: Record<string, number>;
}

async function approximateCount(sqs: SQSClient, url: string): Promise<number> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0);
}

async function queueArnOf(sqs: SQSClient, url: string): Promise<string> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return res.Attributes?.QueueArn ?? '';
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function copyAttributes(
  message: Message,
  fromEventBridge: boolean,
): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(message.MessageAttributes ?? {}).filter(
    ([name]) => !(fromEventBridge && EVENTBRIDGE_DLQ_ATTRIBUTES.has(name)),
  );
  return entries.length ? Object.fromEntries(entries) : undefined;
}

async function replayOne(
  sqs: SQSClient,
  dlq: SundownDlq,
  destinationOf: (m: Message) => string | undefined,
  max: number,
): Promise<ReplayResult> {
  const result: ReplayResult = { queue: dlq.name, from: dlq.url, moved: 0, left: 0, destinations: {} };
  const sentIds = new Set<string>();
  const skipped = new Set<string>();
  while (result.moved < max) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = (res.Messages ?? []).filter(
      (m) => m.MessageId && m.ReceiptHandle && m.Body !== undefined,
    );
    const fresh = messages.filter(
      (m) => !sentIds.has(m.MessageId as string) && !skipped.has(m.MessageId as string),
    );
    // Seen already this replay: make them visible again and stop when nothing new arrives.
    const seen = messages.filter((m) => !fresh.includes(m));
    if (seen.length) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: dlq.url,
          Entries: seen.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle as string,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
    if (fresh.length === 0) break;
    const byDestination = new Map<string, Message[]>();
    for (const m of fresh.slice(0, max - result.moved)) {
      const destination = destinationOf(m);
      if (!destination) {
        skipped.add(m.MessageId as string);
        continue;
      }
      byDestination.set(destination, [...(byDestination.get(destination) ?? []), m]);
    }
    for (const [destination, batch] of byDestination) {
      const fifo = destination.endsWith('.fifo');
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: destination,
          Entries: batch.map((m, i) => {
            const attributes = copyAttributes(m, dlq.sourceUrl === undefined);
            return {
              Id: String(i),
              MessageBody: m.Body as string,
              ...(attributes ? { MessageAttributes: attributes } : {}),
              ...(fifo
                ? {
                    MessageGroupId: m.Attributes?.MessageGroupId ?? 'replay',
                    MessageDeduplicationId: randomUUID(),
                  }
                : {}),
            };
          }),
        }),
      );
      const ok = new Set((sent.Successful ?? []).map((s) => Number(s.Id)));
      for (const s of sent.Successful ?? []) if (s.MessageId) sentIds.add(s.MessageId);
      const done = batch.filter((_, i) => ok.has(i));
      for (const m of batch.filter((_, i) => !ok.has(i))) skipped.add(m.MessageId as string);
      if (done.length) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: dlq.url,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
          }),
        );
      }
      result.moved += done.length;
      const name = queueNameOf(destination);
      result.destinations[name] = (result.destinations[name] ?? 0) + done.length;
    }
  }
  result.left = await approximateCount(sqs, dlq.url);
  return result;
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description("Sundown's dead-letter queues");
  withTargetOptions(
    dlq
      .command('replay')
      .description('move DLQ messages back to the queue they came from, for reprocessing after a fix')
      .option(
        '--queue <name>',
        'only this DLQ (ServiceEvents, BusEvents, DiscoveryEvents, Revocations, EventDelivery, SweepTicks)',
      )
      .option('--yes', 'do not ask for confirmation')
      .option('--max <n>', 'move at most this many messages per DLQ', '1000'),
  ).action(async (opts: ReplayOptions) => {
    const max = Number(opts.max);
    if (!Number.isInteger(max) || max <= 0)
      throw new CliError(`--max must be a positive whole number, got "${opts.max}"`);
    const target = await resolveTarget(opts);
    const sqs = clients.sqs();
    const all = await sundownDlqs(sqs, target);
    if (all.length === 0)
      throw new CliError(`stack ${target.stackName} has no *DlqUrl outputs: is it deployed?`);
    const selected = opts.queue ? all.filter((q) => q.name.toLowerCase() === opts.queue?.toLowerCase()) : all;
    if (selected.length === 0) {
      throw new CliError(`--queue must be one of ${all.map((q) => q.name).join(', ')}, got "${opts.queue}"`);
    }
    // Where EventDelivery messages may go: Sundown's own work queues only.
    const workQueues = new Map<string, string>();
    for (const q of all) if (q.sourceUrl) workQueues.set(await queueArnOf(sqs, q.sourceUrl), q.sourceUrl);

    const plan = [];
    for (const q of selected) plan.push({ ...q, messages: await approximateCount(sqs, q.url) });
    const total = plan.reduce((n, q) => n + q.messages, 0);
    if (total === 0) {
      if (opts.json) printJson({ replayed: [] });
      else process.stdout.write('Nothing to replay: the dead-letter queues are empty.\n');
      return;
    }
    if (!opts.yes) {
      if (!process.stdin.isTTY) {
        throw new CliError(
          `refusing to replay ${total} message(s) without confirmation: stdin is not a terminal; pass --yes`,
        );
      }
      for (const q of plan.filter((p) => p.messages > 0)) {
        process.stderr.write(
          `${q.name}: ${q.messages} message(s) -> ${q.sourceUrl ? queueNameOf(q.sourceUrl) : 'the queue each message names (TARGET_ARN)'}\n`,
        );
      }
      if (!(await confirm(`Replay ${total} message(s)? [y/N] `)))
        throw new CliError('replay cancelled: nothing was moved');
    }
    const results: ReplayResult[] = [];
    for (const q of plan) {
      if (q.messages === 0) continue;
      const destinationOf = q.sourceUrl
        ? () => q.sourceUrl
        : (m: Message) => workQueues.get(m.MessageAttributes?.TARGET_ARN?.StringValue ?? '');
      results.push(await replayOne(sqs, q, destinationOf, max));
    }
    if (opts.json) {
      printJson({ replayed: results });
      return;
    }
    printTable(
      results.map((r) => ({
        queue: r.queue,
        moved: r.moved,
        to: Object.entries(r.destinations)
          .map(([name, n]) => `${name} (${n})`)
          .join(', '),
        left: r.left,
      })),
      ['queue', 'moved', 'to', 'left'],
    );
  });
}
