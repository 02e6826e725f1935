/**
 * How audit records are written: the transactions that move a chain's head over new records (see
 * audit-log.ts for the layout and audit-lease.ts for writer-affine shards). AuditLog owns one.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, AuditRecordInput } from '../shared/schemas/audit-record.ts';
import { buildRecord, type ChainHead } from './audit-chain.ts';
import { type AuditShardLeases, HEAD_SEQ } from './audit-lease.ts';
import { dayShardKey, shardChainId, shardKeyOf, shardNumberOf, shardOf } from './audit-shards.ts';

const MAX_ATTEMPTS = 50;

/** DynamoDB allows 100 actions per transaction: the head update and 99 records. */
export const MAX_RECORDS_PER_TRANSACTION = 99;

/** DynamoDB requests a writer made (the bench reads them). */
export interface AuditWriteStats {
  headReads: number;
  transactions: number;
  /** Transactions cancelled (a concurrent writer moved the head first) and retried. */
  cancelled: number;
  records: number;
}

export class AuditChainWriter {
  readonly stats: AuditWriteStats = { headReads: 0, transactions: 0, cancelled: 0, records: 0 };

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The base chain ID; shard chains are `<base>#<k>`. */
    private readonly base: string,
    private readonly shards: number | undefined,
  ) {}

  async head(chainId: string): Promise<ChainHead | null> {
    this.stats.headReads++;
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { chainId, seq: HEAD_SEQ },
        ConsistentRead: true,
      }),
    );
    // A head item holding only a lease is the head of a chain with no records yet.
    if (res.Item?.headSeq === undefined) return null;
    return { seq: Number(res.Item.headSeq), hash: String(res.Item.headHash) };
  }

  /**
   * Appends to the writer's leased shard (see audit-lease.ts). `progress` receives each committed
   * chunk as it commits, so a caller sees what landed even when a later chunk fails.
   */
  async appendLeased(
    leases: AuditShardLeases,
    inputs: readonly AuditRecordInput[],
    progress: AuditRecord[],
  ): Promise<void> {
    let pending = inputs.slice();
    let attempt = 0;
    while (pending.length > 0) {
      const lease = await leases.current();
      if (!lease) {
        progress.push(...(await this.appendHashed(pending, this.shards as number)));
        return;
      }
      const chunk = pending.slice(0, MAX_RECORDS_PER_TRANSACTION);
      const records = this.build(chunk, lease.head, lease.chainId);
      const until = leases.extendedUntil();
      if (await this.commit(lease.chainId, lease.head, records, { owner: leases.owner, until })) {
        leases.committed(lease, records.at(-1) as AuditRecord, until);
        progress.push(...records);
        pending = pending.slice(chunk.length);
        attempt = 0;
        continue;
      }
      leases.drop();
      if (++attempt >= MAX_ATTEMPTS) throw contention(lease.chainId);
    }
  }

  /** Each record to the chain of its workload's shard; shards in parallel. */
  async appendHashed(inputs: readonly AuditRecordInput[], shards: number): Promise<AuditRecord[]> {
    const byShard = new Map<number, number[]>();
    for (const [index, input] of inputs.entries()) {
      const shard = shardOf(shardKeyOf(input), shards);
      byShard.set(shard, [...(byShard.get(shard) ?? []), index]);
    }
    const out: AuditRecord[] = new Array(inputs.length);
    await Promise.all(
      [...byShard].map(async ([shard, indexes]) => {
        const run = await this.appendRun(
          shardChainId(this.base, shard),
          indexes.map((i) => inputs[i] as AuditRecordInput),
        );
        for (const [at, record] of run.entries()) out[indexes[at] as number] = record;
      }),
    );
    return out;
  }

  /** Appends `inputs` to one chain, in order, reading its head before each transaction. */
  async appendRun(chainId: string, inputs: readonly AuditRecordInput[]): Promise<AuditRecord[]> {
    const committed: AuditRecord[] = [];
    let pending = inputs.slice();
    let attempt = 0;
    while (pending.length > 0) {
      const chunk = pending.slice(0, MAX_RECORDS_PER_TRANSACTION);
      const head = await this.head(chainId);
      const records = this.build(chunk, head, chainId);
      if (!(await this.commit(chainId, head, records))) {
        if (++attempt >= MAX_ATTEMPTS) throw contention(chainId);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        continue;
      }
      attempt = 0;
      committed.push(...records);
      pending = pending.slice(chunk.length);
    }
    return committed;
  }

  private build(inputs: readonly AuditRecordInput[], head: ChainHead | null, chainId: string): AuditRecord[] {
    const records: AuditRecord[] = [];
    let prev = head;
    for (const input of inputs) {
      const record = buildRecord(input, prev, chainId);
      records.push(record);
      prev = { seq: record.seq, hash: record.hash };
    }
    return records;
  }

  /**
   * One transaction: the head moves from `head` to the last record, every record is put only if its
   * seq is new. With `lease`, the head must still be leased to the writer, and the lease is
   * extended. False when cancelled by a concurrent writer (counted in `stats.cancelled`).
   */
  private async commit(
    chainId: string,
    head: ChainHead | null,
    records: readonly AuditRecord[],
    lease?: { owner: string; until: number },
  ): Promise<boolean> {
    const shard = shardNumberOf(chainId, this.base);
    const last = records.at(-1) as AuditRecord;
    const headCondition = head ? 'headSeq = :prev' : 'attribute_not_exists(headSeq)';
    try {
      this.stats.transactions++;
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { chainId, seq: HEAD_SEQ },
                UpdateExpression: lease
                  ? 'SET headSeq = :next, headHash = :hash, leaseUntil = :until'
                  : 'SET headSeq = :next, headHash = :hash',
                ConditionExpression: lease ? `${headCondition} AND leaseOwner = :me` : headCondition,
                ExpressionAttributeValues: {
                  ':next': last.seq,
                  ':hash': last.hash,
                  ...(head ? { ':prev': head.seq } : {}),
                  ...(lease ? { ':me': lease.owner, ':until': lease.until } : {}),
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
      this.stats.cancelled++;
      return false;
    }
    this.stats.records += records.length;
    return true;
  }
}

function contention(chainId: string): Error {
  return new Error(`could not append to audit chain ${chainId} after ${MAX_ATTEMPTS} attempts (contention)`);
}
