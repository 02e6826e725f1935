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
 * Sharded (`shards` set, what the stack deploys): the trail is the chains
 * `<chainId>#<k>`. Each writer leases one shard and appends everything there
 * (audit-lease.ts): no other writer appends to it while the lease holds, so
 * appends are not cancelled, and the holder knows its head without reading it.
 * Appends that arrive while one is committing are grouped into the next
 * transaction (group commit, up to 99 records each). Only when every shard is
 * leased does a writer fall back to the chain of each record's workload hash,
 * with the read-and-retry above. Records then also carry `dayShard`
 * (`YYYY-MM-DD#k`, the `byDay` index key); it is derived from `at` and the
 * chain, and is not part of the hashed content.
 *
 * Every record is also published on Sundown's bus (audit-publish.ts).
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CHUNK_CONCURRENCY } from '../shared/chunks.ts';
import type { AuditRecord, AuditRecordInput } from '../shared/schemas/audit-record.ts';
import { AuditChainWriter, type AuditWriteStats } from './audit-append.ts';
import type { ChainHead } from './audit-chain.ts';
import { AuditShardLeases, HEAD_SEQ, type LeaseStats } from './audit-lease.ts';
import { type AuditPublisher, publishAuditRecords } from './audit-publish.ts';
import { AUDIT_INDEX, type AuditQuery, fromItem, queryAudit, type ReadOptions } from './audit-query.ts';
import { auditChainIds } from './audit-shards.ts';
import { recordAccount } from './record-account.ts';

export { AUDIT_DETAIL_TYPES, AUDIT_EVENT_SOURCE } from './audit-publish.ts';
export { AUDIT_INDEX } from './audit-query.ts';

export interface AuditSink {
  append(input: AuditRecordInput): Promise<AuditRecord>;
  /**
   * Appends several records as one batch, in order (one transaction per
   * {@link MAX_RECORDS_PER_TRANSACTION} records). Sinks without it get the records one by one.
   */
  appendMany?(inputs: readonly AuditRecordInput[]): Promise<AuditRecord[]>;
  /**
   * Waits for what the sink still does after its appends returned: the publication of committed
   * records on the bus, when it is deferred (see {@link AuditLogOptions.deferPublish}).
   */
  settle?(): Promise<void>;
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

export { MAX_RECORDS_PER_TRANSACTION } from './audit-append.ts';

export type { AuditQuery, ReadOptions } from './audit-query.ts';

export interface AuditLogOptions {
  /** Append to `shards` chains `<chainId>#<k>` (see the file comment); unset: one chain. */
  shards?: number;
  /**
   * Sharded only: lease one shard per writer (default), or hash every record to its workload's
   * shard (`false`; concurrent writers then contend on heads). See audit-lease.ts; `now` is the
   * lease clock (tests skew it).
   */
  lease?: false | { ttlMs?: number; owner?: string; now?: () => number };
  /**
   * Publish committed records on the bus only when the caller settles: an append returns once its
   * records are in the chain (the source of truth), and the caller must await
   * {@link AuditLog.settle} before its invocation ends (the SQS handler factory does, after the
   * batch's work). The notifications then never compete with the revocation work they describe
   * (for the function's CPU, or the emulator's one request at a time).
   * @default false (each append returns after its records are published)
   */
  deferPublish?: boolean;
  /**
   * The deployment's own account: every record appended without an `account` is stamped with the
   * account it is about ({@link recordAccount}: its workload's or principal's, else this one).
   * @default undefined (records are stored as given)
   */
  account?: string;
}

/** DynamoDB requests an AuditLog made (the bench reads them). */
export interface AuditLogStats extends AuditWriteStats {
  /** Shard leases: taken, refused, and appends that found no free shard (sharded logs only). */
  lease?: LeaseStats;
}

/** Appends waiting for the next group commit, each resolved with its own records. */
interface Waiting {
  inputs: readonly AuditRecordInput[];
  resolve: (records: AuditRecord[]) => void;
  reject: (err: unknown) => void;
}

export class AuditLog implements AuditSink {
  readonly stats: AuditLogStats;
  private readonly writer: AuditChainWriter;
  private readonly leases: AuditShardLeases | undefined;
  private waiting: Waiting[] = [];
  private draining = false;
  /** Committed records whose publication waits for {@link settle} (deferPublish). */
  private unpublished: AuditRecord[] = [];

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly chainId: string,
    private readonly publisher?: AuditPublisher,
    readonly options: AuditLogOptions = {},
  ) {
    const { shards, lease } = options;
    this.leases =
      shards === undefined || lease === false
        ? undefined
        : new AuditShardLeases(doc, tableName, chainId, shards, {
            owner: lease?.owner ?? randomUUID(),
            ...(lease?.ttlMs === undefined ? {} : { ttlMs: lease.ttlMs }),
            ...(lease?.now === undefined ? {} : { now: lease.now }),
          });
    this.writer = new AuditChainWriter(doc, tableName, chainId, shards);
    this.stats = this.writer.stats;
    if (this.leases) this.stats.lease = this.leases.stats;
  }

  /** The same table, bound to another chain (one shard, or the legacy chain), unsharded. */
  forChain(chainId: string): AuditLog {
    return new AuditLog(this.doc, this.tableName, chainId);
  }

  head(chainId = this.chainId): Promise<ChainHead | null> {
    return this.writer.head(chainId);
  }

  async append(input: AuditRecordInput): Promise<AuditRecord> {
    const [record] = await this.appendMany([input]);
    return record as AuditRecord;
  }

  /**
   * Appends records in order as a contiguous run of a chain: each transaction moves the head from
   * the seq it knows over up to {@link MAX_RECORDS_PER_TRANSACTION} new records, so writers can
   * never fork the chain. A cancelled transaction (a concurrent writer moved the head first) is
   * retried with the head read again; `stats.cancelled` counts those cancellations.
   */
  async appendMany(given: readonly AuditRecordInput[]): Promise<AuditRecord[]> {
    if (given.length === 0) return [];
    const home = this.options.account;
    const inputs = home
      ? given.map((input) => (input.account ? input : { ...input, account: recordAccount(input, home) }))
      : given;
    if (this.leases) {
      return new Promise<AuditRecord[]>((resolve, reject) => {
        this.waiting.push({ inputs, resolve, reject });
        if (!this.draining) void this.drain();
      });
    }
    const committed =
      this.options.shards === undefined
        ? await this.writer.appendRun(this.chainId, inputs)
        : await this.writer.appendHashed(inputs, this.options.shards);
    await this.publish(committed);
    return committed;
  }

  /** Group commit: whatever waits is appended together, each caller answered with its records. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0);
        const inputs = group.flatMap((w) => w.inputs);
        const committed: AuditRecord[] = [];
        let failure: unknown;
        try {
          await this.writer.appendLeased(this.leases as AuditShardLeases, inputs, committed);
        } catch (err) {
          failure = err;
        }
        await this.publish(committed);
        // Callers whose records all committed get them, even when a later part of the group failed.
        let at = 0;
        for (const w of group) {
          const mine = committed.slice(at, at + w.inputs.length);
          at += w.inputs.length;
          if (mine.length === w.inputs.length) w.resolve(mine);
          else w.reject(failure ?? new Error('audit append did not commit'));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async publish(records: readonly AuditRecord[]): Promise<void> {
    if (!this.publisher || records.length === 0) return;
    if (this.options.deferPublish) this.unpublished.push(...records);
    else await publishAuditRecords(this.publisher, records);
  }

  /**
   * Publishes every deferred record, a few PutEvents at a time (publication failures are reported,
   * never thrown).
   */
  async settle(): Promise<void> {
    while (this.publisher && this.unpublished.length > 0) {
      await publishAuditRecords(this.publisher, this.unpublished.splice(0), CHUNK_CONCURRENCY);
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
