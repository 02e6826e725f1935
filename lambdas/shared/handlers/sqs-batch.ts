/**
 * The one SQS entry point of Sundown's queue consumers: each handler.ts is a composition root that
 * builds its dependencies once and says how a record is read (`parse`) and how the items of each
 * kind are handled (`process`). This factory owns the rest, the same for every function:
 *
 * - binds the invocation (the audit actor names the function and request) and the logger's context;
 * - parses every record. Invalid or untrusted input is `rejected`: counted (`EventsRejected`),
 *   audited once and never retried. Only if that audit write fails are those records reported
 *   failed, so they come back and their rejection is not lost;
 * - hands each kind's items, all of them at once, to that kind's processor, in the order `process`
 *   lists them (a processor returns the message IDs that failed); kinds without one are ignored;
 * - isolates errors: a processor that throws fails the items it was given and no others, a record
 *   whose parse throws fails alone, and the handler does not throw for either;
 * - answers with the partial batch response, and publishes the metrics even when something threw.
 *
 * Why not Powertools' BatchProcessor (`@aws-lambda-powertools/batch`): it calls a record handler
 * once per record. These functions handle a batch as a whole (the workload-ended handler ends all
 * its workloads through one registry read and one message per role; the revoker renders a role
 * named by several messages once), which a per-record callback cannot express, and the rejections
 * of a batch are appended to the audit chain in one write rather than one write per record.
 * Handlers that do work one record at a time say so in their processor (`eachItem`).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AuditSink, appendAll } from '../../audit/index.ts';
import type { Trigger } from '../../triggers/envelope.ts';
import { bindInvocation } from '../bootstrap.ts';
import { flushMetrics, logger, metrics } from '../powertools.ts';
import type { AuditActor, AuditRecordInput } from '../schemas/audit-record.ts';
import { rejectionRecord } from '../services/reject-event.ts';
import { batchResponse } from './batch-response.ts';

/** Input that is invalid or not trusted: audited as `rejected`, never retried. */
export interface Rejected {
  kind: 'rejected';
  reason: string;
  trigger?: Trigger | undefined;
}

/** One record's parsed value, with the message it came from. */
export interface BatchItem<T> {
  messageId: string;
  record: SQSRecord;
  value: T;
}

type Kind<T extends { kind: string }> = Exclude<T['kind'], 'rejected'>;

/** Per kind: handles all the batch's items of that kind; returns the message IDs that failed. */
export type Processors<T extends { kind: string }> = {
  [K in Kind<T>]?: (items: BatchItem<Extract<T, { kind: K }>>[]) => Promise<Iterable<string>>;
};

export interface SqsBatchHandlerOptions<T extends { kind: string }> {
  /** The function's deps: the invocation is bound to them and rejections are audited through them. */
  deps: { actor: AuditActor; audit: AuditSink; now: () => Date };
  /** What a record is: an item of some kind, or `rejected`. */
  parse(record: SQSRecord): T | Rejected;
  process: Processors<T>;
}

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function sqsBatchHandler<T extends { kind: string }>(
  options: SqsBatchHandlerOptions<T>,
): SqsBatchHandler {
  const { deps, parse, process } = options;
  return async (event, context) => {
    bindInvocation(deps, context);
    if (context) logger.addContext(context);
    try {
      const failed = new Set<string>();
      const { byKind, rejected } = sortRecords(event.Records, parse, failed);
      for (const [kind, processor] of Object.entries(process) as [string, Processor][]) {
        const items = byKind.get(kind);
        byKind.delete(kind);
        if (items && items.length > 0) for (const id of await run(kind, processor, items)) failed.add(id);
      }
      for (const [kind, items] of byKind) logger.debug('events ignored', { kind, count: items.length });
      for (const id of await auditRejections(deps, rejected)) failed.add(id);
      return batchResponse(event, failed);
    } finally {
      // Audit events published after the batch's own work (the chain already holds them).
      await deps.audit.settle?.();
      flushMetrics();
    }
  };
}

/**
 * For processors that handle their items one by one: `handle` runs on each item (all at once when
 * `concurrent`, else in order); returns the IDs of the items whose call threw, each passed to `onError`.
 */
export async function eachItem<T>(
  items: readonly BatchItem<T>[],
  handle: (item: BatchItem<T>) => Promise<void>,
  options: { concurrent: boolean; onError: (item: BatchItem<T>, error: unknown) => void },
): Promise<Set<string>> {
  const failed = new Set<string>();
  const attempt = async (item: BatchItem<T>) => {
    try {
      await handle(item);
    } catch (error) {
      options.onError(item, error);
      failed.add(item.messageId);
    }
  };
  if (options.concurrent) await Promise.all(items.map(attempt));
  else for (const item of items) await attempt(item);
  return failed;
}

type Processor = (items: BatchItem<unknown>[]) => Promise<Iterable<string>>;

function sortRecords<T extends { kind: string }>(
  records: readonly SQSRecord[],
  parse: (record: SQSRecord) => T | Rejected,
  failed: Set<string>,
): { byKind: Map<string, BatchItem<unknown>[]>; rejected: BatchItem<Rejected>[] } {
  const byKind = new Map<string, BatchItem<unknown>[]>();
  const rejected: BatchItem<Rejected>[] = [];
  for (const record of records) {
    const { messageId } = record;
    let value: T | Rejected;
    try {
      value = parse(record);
    } catch (error) {
      logger.error('record could not be parsed', { messageId, error: error as Error });
      failed.add(messageId);
      continue;
    }
    if (value.kind === 'rejected') {
      metrics.addMetric('EventsRejected', 'Count', 1);
      rejected.push({ messageId, record, value: value as Rejected });
      continue;
    }
    const items = byKind.get(value.kind) ?? [];
    items.push({ messageId, record, value });
    byKind.set(value.kind, items);
  }
  return { byKind, rejected };
}

/** The processor's failed IDs among its own items; all of them if it throws. */
async function run(kind: string, processor: Processor, items: BatchItem<unknown>[]): Promise<string[]> {
  const ids = new Set(items.map((i) => i.messageId));
  try {
    return [...(await processor(items))].filter((id) => ids.has(id));
  } catch (error) {
    logger.error('batch processor failed', { kind, items: items.length, error: error as Error });
    return [...ids];
  }
}

/** Rejections are final once audited; if the audit write fails, the records are retried. */
async function auditRejections(
  deps: SqsBatchHandlerOptions<{ kind: string }>['deps'],
  rejected: readonly BatchItem<Rejected>[],
): Promise<string[]> {
  const records: AuditRecordInput[] = rejected.map(({ value }) =>
    rejectionRecord(deps, value.reason, value.trigger),
  );
  try {
    await appendAll(deps.audit, records);
    return [];
  } catch (error) {
    logger.error('rejections could not be audited', { error: error as Error });
    return rejected.map((r) => r.messageId);
  }
}
