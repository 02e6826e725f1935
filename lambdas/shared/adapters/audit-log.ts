/**
 * The audit trail in DynamoDB: an append-only hash chain per chain ID.
 *
 * Layout: partition key `chainId`, sort key `seq`. Item `seq = 0` is the chain
 * head (`headSeq`, `headHash`). An append is one transaction that moves the
 * head from the seq it read to the next one and puts the record only if that
 * seq is new, so concurrent writers can never fork the chain: the loser's
 * transaction is cancelled and it re-reads the head and retries. The head move
 * and its records commit together or not at all, so a crash never leaves a gap.
 *
 * Sharded (`shards` set, what the stack deploys): each record goes to the chain
 * `<chainId>#<k>` of its workload's shard (domain/audit-shards.ts), a batch is
 * split by shard and each shard's run is appended as above, shards in parallel:
 * one head write per shard per batch, no head shared by unrelated workloads.
 * Records then also carry `dayShard` (`YYYY-MM-DD#k`, the `byDay` index key);
 * it is derived from `at` and the chain, and is not part of the hashed content.
 *
 * Every record is also published on Sundown's bus (source `sundown.audit`) so
 * SIEMs and chat alerts can subscribe.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { type ClientSource, clientOf, once } from '../clients.ts';
import { buildRecord, type ChainHead } from '../domain/audit-chain.ts';
import {
  auditChainIds,
  dayShardKey,
  shardChainId,
  shardKeyOf,
  shardNumberOf,
  shardOf,
} from '../domain/audit-shards.ts';
import type { AuditRecord, AuditRecordInput, AuditRecordType } from '../schemas/audit-record.ts';
import { AUDIT_INDEX, type AuditQuery, fromItem, queryAudit, type ReadOptions } from './audit-query.ts';

/** The EventBridge SDK package, imported when the first record is published (not at cold start). */
const eventBridgeSdk = once(() => import('@aws-sdk/client-eventbridge'));

export const AUDIT_EVENT_SOURCE = 'sundown.audit';
export const AUDIT_DETAIL_TYPES: Record<AuditRecordType, string> = {
  issued: 'Credential Recorded',
  'revocation-requested': 'Credential Revocation Requested',
  revoked: 'Credential Revoked',
  skipped: 'Credential Skipped',
  'dry-run': 'Credential Revocation Dry Run',
  rejected: 'Event Rejected',
  failed: 'Credential Revocation Failed',
  expired: 'Credential Expired',
  pruned: 'Deny Entry Pruned',
  drift: 'Reconciliation Drift',
  'policy-resized': 'Deny Policy Re-rendered',
  'use-after-revoke': 'Use After Revoke Recorded',
  refused: 'Broker Request Refused',
};

export { AUDIT_INDEX } from './audit-query.ts';

const HEAD_SEQ = 0;
const MAX_ATTEMPTS = 50;

export interface AuditSink {
  append(input: AuditRecordInput): Promise<AuditRecord>;
  /**
   * Appends several records as one batch, in order (one head read and one transaction per
   * {@link MAX_RECORDS_PER_TRANSACTION} records). Sinks without it get the records one by one.
   */
  appendMany?(inputs: readonly AuditRecordInput[]): Promise<AuditRecord[]>;
}

/** Appends records through the sink's batch append when it has one, else one at a time. */
export async function appendAll(
  sink: AuditSink,
  inputs: readonly AuditRecordInput[],
): Promise<AuditRecord[]> {
  if (inputs.length === 0) return [];
  if (sink.appendMany) return sink.appendMany(inputs);
  const out: AuditRecord[] = [];
  for (const input of inputs) out.push(await sink.append(input));
  return out;
}

/** DynamoDB allows 100 actions per transaction: the head update and 99 records. */
export const MAX_RECORDS_PER_TRANSACTION = 99;
/** EventBridge PutEvents takes at most 10 entries. */
const MAX_EVENTS_PER_PUT = 10;

export type { AuditQuery, ReadOptions } from './audit-query.ts';

export interface AuditLogOptions {
  /** Append to `shards` chains `<chainId>#<k>` by workload (see the file comment); unset: one chain. */
  shards?: number;
}

/** DynamoDB requests an AuditLog made (the bench reads them). */
export interface AuditLogStats {
  headReads: number;
  transactions: number;
  /** Transactions cancelled (a concurrent writer moved the head first) and retried. */
  cancelled: number;
  records: number;
}

export class AuditLog implements AuditSink {
  /** Transactions cancelled by a concurrent append and retried (contention on the chain head). */
  retries = 0;
  readonly stats: AuditLogStats = { headReads: 0, transactions: 0, cancelled: 0, records: 0 };

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly chainId: string,
    private readonly publisher?: {
      events: ClientSource<EventBridgeClient>;
      busName: string;
      onError?: (err: unknown) => void;
    },
    readonly options: AuditLogOptions = {},
  ) {}

  /** The same table, bound to another chain (one shard, or the legacy chain), unsharded. */
  forChain(chainId: string): AuditLog {
    return new AuditLog(this.doc, this.tableName, chainId);
  }

  async head(chainId = this.chainId): Promise<ChainHead | null> {
    this.stats.headReads++;
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { chainId, seq: HEAD_SEQ },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return null;
    return { seq: Number(res.Item.headSeq), hash: String(res.Item.headHash) };
  }

  async append(input: AuditRecordInput): Promise<AuditRecord> {
    const [record] = await this.appendMany([input]);
    return record as AuditRecord;
  }

  /**
   * Appends records in order as a contiguous run of the chain: each transaction moves the head
   * from the seq it read over up to {@link MAX_RECORDS_PER_TRANSACTION} new records, so writers
   * can never fork the chain. A transaction cancelled by a concurrent writer re-reads the head and
   * rebuilds only the records not yet committed. `retries` counts those cancellations.
   */
  async appendMany(inputs: readonly AuditRecordInput[]): Promise<AuditRecord[]> {
    const shards = this.options.shards;
    if (shards === undefined) {
      const committed = await this.appendRun(this.chainId, inputs);
      await this.publish(committed);
      return committed;
    }
    // Split by shard, keeping each shard's records in input order; shards append in parallel.
    const byShard = new Map<number, number[]>();
    for (const [index, input] of inputs.entries()) {
      const shard = shardOf(shardKeyOf(input), shards);
      byShard.set(shard, [...(byShard.get(shard) ?? []), index]);
    }
    const out: AuditRecord[] = new Array(inputs.length);
    await Promise.all(
      [...byShard].map(async ([shard, indexes]) => {
        const run = await this.appendRun(
          shardChainId(this.chainId, shard),
          indexes.map((i) => inputs[i] as AuditRecordInput),
        );
        for (const [at, record] of run.entries()) out[indexes[at] as number] = record;
      }),
    );
    await this.publish(out);
    return out;
  }

  /** Appends `inputs` to one chain, in order, one transaction per chunk (see `appendMany`). */
  private async appendRun(chainId: string, inputs: readonly AuditRecordInput[]): Promise<AuditRecord[]> {
    const shard = shardNumberOf(chainId, this.chainId);
    const committed: AuditRecord[] = [];
    let pending = inputs.slice();
    let attempt = 0;
    while (pending.length > 0) {
      const chunk = pending.slice(0, MAX_RECORDS_PER_TRANSACTION);
      const head = await this.head(chainId);
      const records: AuditRecord[] = [];
      let prev = head;
      for (const input of chunk) {
        const record = buildRecord(input, prev, chainId);
        records.push(record);
        prev = { seq: record.seq, hash: record.hash };
      }
      const last = records.at(-1) as AuditRecord;
      try {
        this.stats.transactions++;
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: { chainId, seq: HEAD_SEQ },
                  UpdateExpression: 'SET headSeq = :next, headHash = :hash',
                  ConditionExpression: head ? 'headSeq = :prev' : 'attribute_not_exists(headSeq)',
                  ExpressionAttributeValues: {
                    ':next': last.seq,
                    ':hash': last.hash,
                    ...(head ? { ':prev': head.seq } : {}),
                  },
                },
              },
              ...records.map((record) => ({
                Put: {
                  TableName: this.tableName,
                  Item: shard === undefined ? record : { ...record, dayShard: dayShardKey(record.at, shard) },
                  ConditionExpression: 'attribute_not_exists(seq)',
                },
              })),
            ],
          }),
        );
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        this.retries++;
        this.stats.cancelled++;
        if (++attempt >= MAX_ATTEMPTS) {
          throw new Error(
            `could not append to audit chain ${chainId} after ${MAX_ATTEMPTS} attempts (contention)`,
          );
        }
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        continue;
      }
      attempt = 0;
      this.stats.records += records.length;
      committed.push(...records);
      pending = pending.slice(chunk.length);
    }
    return committed;
  }

  private async publish(records: readonly AuditRecord[]): Promise<void> {
    if (!this.publisher || records.length === 0) return;
    for (let i = 0; i < records.length; i += MAX_EVENTS_PER_PUT) {
      const chunk = records.slice(i, i + MAX_EVENTS_PER_PUT);
      try {
        const [events, { PutEventsCommand }] = await Promise.all([
          clientOf(this.publisher.events),
          eventBridgeSdk(),
        ]);
        const res = await events.send(
          new PutEventsCommand({
            Entries: chunk.map((record) => ({
              EventBusName: this.publisher?.busName,
              Source: AUDIT_EVENT_SOURCE,
              DetailType: AUDIT_DETAIL_TYPES[record.type],
              Detail: JSON.stringify(record),
              Resources: [],
            })),
          }),
        );
        if ((res.FailedEntryCount ?? 0) > 0) {
          const failed = res.Entries?.find((e) => e.ErrorCode || e.ErrorMessage);
          throw new Error(failed?.ErrorMessage ?? `PutEvents failed for ${res.FailedEntryCount} entries`);
        }
      } catch (err) {
        // The records are already in the chain (the source of truth); a lost
        // notification must not turn into a duplicate record through a retry.
        this.publisher.onError?.(err);
      }
    }
  }

  /** Records in seq order, from `fromSeq` (inclusive). */
  async *scanChain(fromSeq = 1, options: ReadOptions = {}): AsyncGenerator<AuditRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'chainId = :c AND seq >= :from',
          ExpressionAttributeValues: { ':c': this.chainId, ':from': Math.max(1, fromSeq) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) yield fromItem(item, options.validate);
      start = res.LastEvaluatedKey;
    } while (start);
  }

  /**
   * The lowest seq of the records stamped at or after `at` (ISO), through the byTime index; undefined
   * when there are none. Exact even where `at` and seq order disagree by a few milliseconds
   * (concurrent writers), because every matching key is read (projected to `seq` only).
   */
  async firstSeqSince(at: string): Promise<number | undefined> {
    let first: number | undefined;
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: AUDIT_INDEX.byTime,
          KeyConditionExpression: 'chainId = :c AND #at >= :since',
          ExpressionAttributeNames: { '#at': 'at', '#seq': 'seq' },
          ExpressionAttributeValues: { ':c': this.chainId, ':since': at },
          ProjectionExpression: '#seq',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) {
        const seq = Number(item.seq);
        if (seq > HEAD_SEQ && (first === undefined || seq < first)) first = seq;
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return first;
  }

  /** Every chain of this log: the chain itself (legacy, unsharded) and its shards. */
  chainIds(): string[] {
    return auditChainIds(this.chainId, this.options.shards ?? 0);
  }

  /**
   * Query through the best index for the filters given (never a table scan), over every chain of
   * this log (the legacy chain and its shards, merged): the first `limit` matches (default 100;
   * `Infinity` for all) in time order, oldest first. See audit-query.ts.
   */
  query(q: AuditQuery, options: ReadOptions = {}): Promise<AuditRecord[]> {
    return queryAudit(this.doc, this.tableName, this.chainId, this.chainIds(), q, options);
  }
}
