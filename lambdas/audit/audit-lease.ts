/**
 * Writer-affine audit shards: each writer (one Lambda instance, one CLI process) leases one shard
 * chain and appends all of its records there, so two writers never race for one chain head.
 *
 * Hashing records to shards by workload (the fallback, see audit-log.ts) spreads writers over the
 * heads but cannot keep two of them off the same one: at 8 writers on 16 shards about a fifth of the
 * appends were cancelled by a concurrent writer and retried. A lease makes the chain the writer's
 * own: the lease sits on the shard's head item (`leaseOwner`, `leaseUntil`), is taken with one
 * conditional UpdateItem (free, expired, or already ours) and is extended by every append, whose
 * transaction also requires `leaseOwner` to still be the writer.
 *
 * The lease is an optimization, never the guard: the append's condition on `headSeq` is what keeps
 * the chain from forking, so an expired lease taken over by another writer (a frozen instance, a
 * skewed clock) costs one cancelled transaction and a new lease, nothing else. Because the lease
 * read returns the head (ReturnValues ALL_NEW), the holder knows the head from its own commits and
 * needs no head read before an append.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChainHead } from './audit-chain.ts';
import { shardChainId } from './audit-shards.ts';

/** The head item's sort key (the records are seq 1..n). */
export const HEAD_SEQ = 0;

/** How long a lease lasts after its last append. A writer idle that long gives its shard back. */
export const DEFAULT_LEASE_TTL_MS = 60_000;

export interface ShardLease {
  shard: number;
  chainId: string;
  /** The chain head as of the holder's last commit (null: the chain is empty). */
  head: ChainHead | null;
  /** Epoch ms the lease runs until (the holder's clock). */
  until: number;
}

export interface LeaseStats {
  /** Shards taken (or taken back) with a conditional write. */
  acquired: number;
  /** Lease attempts refused because another writer holds the shard. */
  conflicts: number;
  /** Appends that found every shard leased and fell back to hashing by workload. */
  fallbacks: number;
}

export interface AuditShardLeasesOptions {
  owner: string;
  ttlMs?: number;
  now?: () => number;
  /** Where the probe of free shards starts (default: random, so writers spread out). */
  start?: number;
}

export class AuditShardLeases {
  readonly stats: LeaseStats = { acquired: 0, conflicts: 0, fallbacks: 0 };
  readonly owner: string;
  readonly ttlMs: number;
  private readonly now: () => number;
  private lease: ShardLease | undefined;
  private lastShard: number;
  /** After a probe found every shard leased: until when to fall back without probing again. */
  private exhaustedUntil = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly base: string,
    private readonly shards: number,
    options: AuditShardLeasesOptions,
  ) {
    this.owner = options.owner;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.now = options.now ?? Date.now;
    this.lastShard = (options.start ?? Math.floor(Math.random() * shards)) % shards;
  }

  /**
   * The writer's lease, taken or renewed when less than a quarter of its time is left; undefined
   * when every shard is held by another writer (the caller then hashes by workload).
   */
  async current(): Promise<ShardLease | undefined> {
    if (this.lease && this.lease.until - this.now() > this.ttlMs / 4) return this.lease;
    this.lease = undefined;
    // More writers than shards: probing all of them again on every append would cost N writes each.
    if (this.now() < this.exhaustedUntil) {
      this.stats.fallbacks++;
      return undefined;
    }
    // Our last shard first (a renewal), then the others in order from there.
    for (let i = 0; i < this.shards; i++) {
      const shard = (this.lastShard + i) % this.shards;
      const lease = await this.take(shard);
      if (lease) {
        this.lease = lease;
        this.lastShard = shard;
        return lease;
      }
    }
    this.exhaustedUntil = this.now() + this.ttlMs / 4;
    this.stats.fallbacks++;
    return undefined;
  }

  /** After a commit: the new head, and the lease extended by the append's own write. */
  committed(lease: ShardLease, head: ChainHead, until: number): void {
    lease.head = head;
    lease.until = until;
  }

  /** The lease was lost (a cancelled append): the next `current()` takes one afresh. */
  drop(): void {
    this.lease = undefined;
  }

  /** The `leaseUntil` an append made now sets. */
  extendedUntil(): number {
    return this.now() + this.ttlMs;
  }

  private async take(shard: number): Promise<ShardLease | undefined> {
    const chainId = shardChainId(this.base, shard);
    const now = this.now();
    const until = now + this.ttlMs;
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { chainId, seq: HEAD_SEQ },
          UpdateExpression: 'SET leaseOwner = :me, leaseUntil = :until',
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :me',
          ExpressionAttributeValues: { ':me': this.owner, ':until': until, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.stats.acquired++;
      const item = res.Attributes ?? {};
      const head =
        item.headSeq === undefined ? null : { seq: Number(item.headSeq), hash: String(item.headHash) };
      return { shard, chainId, head, until };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      this.stats.conflicts++;
      return undefined;
    }
  }
}
