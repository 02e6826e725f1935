/**
 * Sharded audit chains: pure functions, no I/O. The audit trail is N independent hash chains
 * (`<base>#<k>`, k = 0..N-1), each with its own sequence and head item. A writer appends to the
 * shard it leases (audit-lease.ts); only when every shard is leased does a record go to the
 * shard of a hash of its workload ID (`shardOf(shardKeyOf(...))`). The chain that existed before sharding
 * (`<base>` itself, the legacy chain) stays where it is and is read and verified with the shards.
 */
import { createHash } from 'node:crypto';
import type { AuditRecord, AuditRecordInput } from '../shared/schemas/audit-record.ts';

/** Shards when the stack config sets none: ~16 x 1,000 WCU/s of head partitions. */
export const DEFAULT_AUDIT_SHARDS = 16;
export const MAX_AUDIT_SHARDS = 256;

/**
 * What decides a record's shard: its workload, else its credential, else the event that caused it,
 * else its timestamp (records about no workload, e.g. a rejected event, spread by time).
 */
export function shardKeyOf(
  input: Pick<AuditRecordInput, 'workloadId' | 'credentialId' | 'trigger' | 'at'>,
): string {
  return input.workloadId ?? input.credentialId ?? input.trigger?.eventId ?? input.at;
}

/** The shard of `key` among `shards`: the first 32 bits of its sha256, modulo `shards`. */
export function shardOf(key: string, shards: number): number {
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_AUDIT_SHARDS) {
    throw new RangeError(`invalid shard count ${shards}: expected an integer from 1 to ${MAX_AUDIT_SHARDS}`);
  }
  return createHash('sha256').update(key, 'utf8').digest().readUInt32BE(0) % shards;
}

export function shardChainId(base: string, shard: number): string {
  return `${base}#${shard}`;
}

/** Every chain a reader must see: the legacy chain first, then shard 0..N-1. */
export function auditChainIds(base: string, shards: number): string[] {
  return [base, ...Array.from({ length: shards }, (_, k) => shardChainId(base, k))];
}

/** The time index's partition key (`byDay`): one partition per UTC day and shard, so none is hot. */
export function dayShardKey(at: string, shard: number): string {
  return `${at.slice(0, 10)}#${shard}`;
}

/** The shard number of a shard chain ID of `base`, or undefined (the legacy chain, or another base). */
export function shardNumberOf(chainId: string, base: string): number | undefined {
  if (!chainId.startsWith(`${base}#`)) return undefined;
  const rest = chainId.slice(base.length + 1);
  return /^(0|[1-9]\d{0,2})$/.test(rest) ? Number(rest) : undefined;
}

/** UTC days (YYYY-MM-DD) from `since` to `until`, both ISO timestamps, inclusive. */
export function daysBetween(since: string, until: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${until.slice(0, 10)}T00:00:00.000Z`);
  for (let t = Date.parse(`${since.slice(0, 10)}T00:00:00.000Z`); t <= end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** Time order across chains: `at`, then chain ID, then seq (a total order, stable across reads). */
export function compareByTime(a: AuditRecord, b: AuditRecord): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.chainId !== b.chainId) return a.chainId < b.chainId ? -1 : 1;
  return a.seq - b.seq;
}

/** Merges async streams each already in time order into one stream in time order (k-way merge). */
export async function* mergeByTime(
  streams: readonly AsyncIterable<AuditRecord>[],
): AsyncGenerator<AuditRecord> {
  const iterators = streams.map((s) => s[Symbol.asyncIterator]());
  const heads = await Promise.all(iterators.map((it) => it.next()));
  for (;;) {
    let best = -1;
    for (const [i, head] of heads.entries()) {
      if (head.done) continue;
      const current = heads[best];
      if (best === -1 || (current && !current.done && compareByTime(head.value, current.value) < 0)) best = i;
    }
    if (best === -1) return;
    const chosen = heads[best] as IteratorYieldResult<AuditRecord>;
    yield chosen.value;
    heads[best] = await (iterators[best] as AsyncIterator<AuditRecord>).next();
  }
}
