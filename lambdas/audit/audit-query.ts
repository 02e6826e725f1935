/**
 * Reading audit records through the audit table's indexes, across every chain of the trail (the
 * legacy chain `<base>` and its shards `<base>#<k>`), merged in time order. Never a table scan.
 *
 * - by workload, credential or type: one index partition; items of other chain families (and the
 *   seal items, which carry no index key) are left out.
 * - by time only: with `since` and at most {@link MAX_DAY_FANOUT} days, one `byDay` partition per
 *   day and shard (`YYYY-MM-DD#k`) plus the legacy chain's `byTime` partition; otherwise one `byTime`
 *   partition per chain. Each partition is read in time order up to `limit`, then merged.
 */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { type AuditRecord, AuditRecordSchema, type AuditRecordType } from '../shared/schemas/audit-record.ts';
import { compareByTime, daysBetween, shardNumberOf } from './audit-shards.ts';

export const AUDIT_INDEX = {
  byWorkload: 'byWorkload',
  byCredential: 'byCredential',
  byType: 'byType',
  byTime: 'byTime',
  byDay: 'byDay',
} as const;

/** Beyond this many days a time-only query reads one `byTime` partition per chain instead. */
export const MAX_DAY_FANOUT = 31;
const HEAD_SEQ = 0;

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

/** A stored item as a record: storage-only attributes (`dayShard`) are not part of the record. */
export function fromItem(stored: Record<string, unknown>, validate = true): AuditRecord {
  const { dayShard: _indexKey, ...item } = stored;
  if (!validate) return { ...item, seq: Number(item.seq) } as AuditRecord;
  const { chainId, seq, prevHash, hash, ...rest } = item;
  return AuditRecordSchema.parse({ ...rest, chainId, seq: Number(seq), prevHash, hash });
}

interface Partition {
  index: string;
  keyName: string;
  keyValue: string;
}

export async function queryAudit(
  doc: DynamoDBDocumentClient,
  tableName: string,
  base: string,
  chainIds: readonly string[],
  q: AuditQuery,
  options: ReadOptions = {},
): Promise<AuditRecord[]> {
  const limit = q.limit ?? 100;
  const partitions = partitionsFor(base, chainIds, q);
  const chains = new Set(chainIds);
  // A chain of this trail: listed, or a shard of it beyond the shard count this reader knows.
  const ours = (chainId: unknown) =>
    typeof chainId === 'string' && (chains.has(chainId) || shardNumberOf(chainId, base) !== undefined);
  const lists = await Promise.all(
    partitions.map((p) => queryPartition(doc, tableName, p, q, limit, ours, options.validate)),
  );
  return lists.flat().sort(compareByTime).slice(0, limit);
}

function partitionsFor(base: string, chainIds: readonly string[], q: AuditQuery): Partition[] {
  if (q.credentialId)
    return [{ index: AUDIT_INDEX.byCredential, keyName: 'credentialId', keyValue: q.credentialId }];
  if (q.workloadId) return [{ index: AUDIT_INDEX.byWorkload, keyName: 'workloadId', keyValue: q.workloadId }];
  if (q.type) return [{ index: AUDIT_INDEX.byType, keyName: 'type', keyValue: q.type }];
  const shards = chainIds.map((id) => shardNumberOf(id, base)).filter((k): k is number => k !== undefined);
  const legacy = chainIds.filter((id) => shardNumberOf(id, base) === undefined);
  const days = q.since ? daysBetween(q.since, q.until ?? new Date().toISOString()) : [];
  if (q.since && days.length <= MAX_DAY_FANOUT) {
    return [
      ...legacy.map((id) => ({ index: AUDIT_INDEX.byTime, keyName: 'chainId', keyValue: id })),
      ...days.flatMap((day) =>
        shards.map((k) => ({ index: AUDIT_INDEX.byDay, keyName: 'dayShard', keyValue: `${day}#${k}` })),
      ),
    ];
  }
  return chainIds.map((id) => ({ index: AUDIT_INDEX.byTime, keyName: 'chainId', keyValue: id }));
}

async function queryPartition(
  doc: DynamoDBDocumentClient,
  tableName: string,
  partition: Partition,
  q: AuditQuery,
  limit: number,
  ours: (chainId: unknown) => boolean,
  validate: boolean | undefined,
): Promise<AuditRecord[]> {
  const names: Record<string, string> = { '#k': partition.keyName };
  const values: Record<string, unknown> = { ':k': partition.keyValue };
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
  if (q.workloadId && partition.keyName !== 'workloadId') {
    filters.push('workloadId = :w');
    values[':w'] = q.workloadId;
  }
  if (q.type && partition.keyName !== 'type') {
    filters.push('#type = :t');
    names['#type'] = 'type';
    values[':t'] = q.type;
  }
  const out: AuditRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const input: QueryCommandInput = {
      TableName: tableName,
      IndexName: partition.index,
      KeyConditionExpression: `#k = :k${range}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ExclusiveStartKey: start,
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
    };
    const res = await doc.send(new QueryCommand(input));
    for (const item of res.Items ?? []) {
      if (Number(item.seq) === HEAD_SEQ || !ours(item.chainId)) continue;
      out.push(fromItem(item, validate));
      if (out.length >= limit) break;
    }
    start = res.LastEvaluatedKey;
  } while (start && out.length < limit);
  return out;
}
