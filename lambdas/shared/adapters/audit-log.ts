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
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { buildRecord, type ChainHead } from '../domain/audit-chain.ts';
import {
  type AuditRecord,
  type AuditRecordInput,
  AuditRecordSchema,
  type AuditRecordType,
} from '../schemas/audit-record.ts';

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
}

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
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly chainId: string,
    private readonly publisher?: {
      events: EventBridgeClient;
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
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const head = await this.head();
      const record = buildRecord(input, head, this.chainId);
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
                    ':next': record.seq,
                    ':hash': record.hash,
                    ...(head ? { ':prev': head.seq } : {}),
                  },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: record,
                  ConditionExpression: 'attribute_not_exists(seq)',
                },
              },
            ],
          }),
        );
        await this.publish(record);
        return record;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
      }
    }
    throw new Error(
      `could not append to audit chain ${this.chainId} after ${MAX_ATTEMPTS} attempts (contention)`,
    );
  }

  private async publish(record: AuditRecord): Promise<void> {
    if (!this.publisher) return;
    try {
      const res = await this.publisher.events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.publisher.busName,
              Source: AUDIT_EVENT_SOURCE,
              DetailType: AUDIT_DETAIL_TYPES[record.type],
              Detail: JSON.stringify(record),
              Resources: [],
            },
          ],
        }),
      );
      if ((res.FailedEntryCount ?? 0) > 0)
        throw new Error(res.Entries?.[0]?.ErrorMessage ?? 'PutEvents failed');
    } catch (err) {
      // The record is already in the chain (the source of truth); a lost
      // notification must not turn into a duplicate record through a retry.
      this.publisher.onError?.(err);
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
