/**
 * The audit trail in DynamoDB: an append-only hash chain per chain ID.
 *
 * Layout: partition key `chainId`, sort key `seq`. Item `seq = 0` is the chain
 * head (`headSeq`, `headHash`). An append is one transaction that moves the
 * head from the seq it read to the next one and puts the record only if that
 * seq is new, so concurrent writers can never fork the chain: the loser's
 * transaction is cancelled and it re-reads the head and retries.
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
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { type ClientSource, clientOf, once } from '../clients.ts';
import { buildRecord, type ChainHead } from '../domain/audit-chain.ts';
import {
  type AuditRecord,
  type AuditRecordInput,
  AuditRecordSchema,
  type AuditRecordType,
} from '../schemas/audit-record.ts';

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

export const AUDIT_INDEX = {
  byWorkload: 'byWorkload',
  byCredential: 'byCredential',
  byType: 'byType',
  byTime: 'byTime',
} as const;

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

export interface AuditQuery {
  workloadId?: string;
  credentialId?: string;
  type?: AuditRecordType;
  since?: string;
  until?: string;
  limit?: number;
}

export interface ReadOptions {
  /**
   * `false` returns items exactly as stored, without schema validation: what verification, export
   * and an operator's query must see when an item was tampered with (a strict parse would throw).
   * @default true
   */
  validate?: boolean;
}

function fromItem(item: Record<string, unknown>, validate = true): AuditRecord {
  if (!validate) return { ...item, seq: Number(item.seq) } as AuditRecord;
  const { chainId, seq, prevHash, hash, ...rest } = item;
  return AuditRecordSchema.parse({ ...rest, chainId, seq: Number(seq), prevHash, hash });
}

export class AuditLog implements AuditSink {
  /** Transactions cancelled by a concurrent append and retried (contention on the chain head). */
  retries = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly chainId: string,
    private readonly publisher?: {
      events: ClientSource<EventBridgeClient>;
      busName: string;
      onError?: (err: unknown) => void;
    },
  ) {}

  async head(): Promise<ChainHead | null> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { chainId: this.chainId, seq: HEAD_SEQ },
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
    const committed: AuditRecord[] = [];
    let pending = inputs.slice();
    let attempt = 0;
    while (pending.length > 0) {
      const chunk = pending.slice(0, MAX_RECORDS_PER_TRANSACTION);
      const head = await this.head();
      const records: AuditRecord[] = [];
      let prev = head;
      for (const input of chunk) {
        const record = buildRecord(input, prev, this.chainId);
        records.push(record);
        prev = { seq: record.seq, hash: record.hash };
      }
      const last = records.at(-1) as AuditRecord;
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: { chainId: this.chainId, seq: HEAD_SEQ },
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
                  Item: record,
                  ConditionExpression: 'attribute_not_exists(seq)',
                },
              })),
            ],
          }),
        );
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        this.retries++;
        if (++attempt >= MAX_ATTEMPTS) {
          throw new Error(
            `could not append to audit chain ${this.chainId} after ${MAX_ATTEMPTS} attempts (contention)`,
          );
        }
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        continue;
      }
      attempt = 0;
      committed.push(...records);
      pending = pending.slice(chunk.length);
    }
    await this.publish(committed);
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

  /**
   * Query through the best index for the filters given (never a table scan): the first `limit`
   * matches (default 100; `Infinity` for all) in time order, oldest first.
   */
  async query(q: AuditQuery, options: ReadOptions = {}): Promise<AuditRecord[]> {
    const limit = q.limit ?? 100;
    const [indexName, keyName, keyValue] = q.credentialId
      ? [AUDIT_INDEX.byCredential, 'credentialId', q.credentialId]
      : q.workloadId
        ? [AUDIT_INDEX.byWorkload, 'workloadId', q.workloadId]
        : q.type
          ? [AUDIT_INDEX.byType, 'type', q.type]
          : [AUDIT_INDEX.byTime, 'chainId', this.chainId];
    const names: Record<string, string> = { '#k': keyName };
    const values: Record<string, unknown> = { ':k': keyValue };
    let range = '';
    if (q.since || q.until) names['#at'] = 'at';
    if (q.since && q.until) {
      range = ' AND #at BETWEEN :since AND :until';
      values[':since'] = q.since;
      values[':until'] = q.until;
    } else if (q.since) {
      range = ' AND #at >= :since';
      values[':since'] = q.since;
    } else if (q.until) {
      range = ' AND #at <= :until';
      values[':until'] = q.until;
    }
    const filters: string[] = [];
    if (q.workloadId && keyName !== 'workloadId') {
      filters.push('workloadId = :w');
      values[':w'] = q.workloadId;
    }
    if (q.type && keyName !== 'type') {
      filters.push('#type = :t');
      names['#type'] = 'type';
      values[':t'] = q.type;
    }
    if (keyName !== 'chainId') {
      filters.push('chainId = :chain');
      values[':chain'] = this.chainId;
    }
    const out: AuditRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: `#k = :k${range}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
        ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      };
      const res = await this.doc.send(new QueryCommand(input));
      for (const item of res.Items ?? []) {
        if (Number(item.seq) === HEAD_SEQ) continue;
        out.push(fromItem(item, options.validate));
        if (out.length >= limit) break;
      }
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out.sort((a, b) => (a.at === b.at ? a.seq - b.seq : a.at < b.at ? -1 : 1));
  }
}
