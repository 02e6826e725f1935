/**
 * An in-memory audit trail for the unit tests and the bench: sharded chains built with the real
 * record builder, seals made by the real sealer service, signed with a local P-256 key (what KMS
 * does with the seal key), and read back through the same reader interface as DynamoDB.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { buildRecord, type ChainHead, chainHeadOf } from '../../lambdas/audit/audit-chain.ts';
import type { StoredSeal } from '../../lambdas/audit/audit-seal.ts';
import { type SealDeps, type SealReport, sealAuditChains } from '../../lambdas/audit/audit-sealing.ts';
import { auditChainIds, shardChainId, shardKeyOf, shardOf } from '../../lambdas/audit/audit-shards.ts';
import type { TrailReader } from '../../lambdas/audit/audit-trail.ts';
import type { AuditRecord, AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';

export const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/seal-key';

export function p256(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export class MemoryTrail implements TrailReader {
  readonly chains = new Map<string, Map<number, AuditRecord>>();
  readonly heads = new Map<string, ChainHead | null>();
  readonly sealItems = new Map<number, StoredSeal>();
  now = new Date(Date.UTC(2026, 11, 1, 12));

  constructor(
    readonly base = 'main',
    readonly shards = 4,
    readonly key = p256(),
  ) {}

  chainIds(): string[] {
    return auditChainIds(this.base, this.shards);
  }

  /** Appends to the legacy chain (`legacy`) or to the input's shard, as AuditLog does. */
  append(input: AuditRecordInput, legacy = false): AuditRecord {
    const chainId = legacy ? this.base : shardChainId(this.base, shardOf(shardKeyOf(input), this.shards));
    const head = this.heads.get(chainId) ?? null;
    const record = buildRecord(input, head, chainId);
    const chain = this.chains.get(chainId) ?? new Map<number, AuditRecord>();
    chain.set(record.seq, record);
    this.chains.set(chainId, chain);
    this.heads.set(chainId, chainHeadOf(record));
    return record;
  }

  /** `count` records for `workloads` workloads, one minute apart from `now`. */
  fill(count: number, workloads = 8, legacy = false): void {
    for (let i = 0; i < count; i++) {
      this.now = new Date(this.now.getTime() + 1000);
      this.append(
        {
          type: i % 2 === 0 ? 'issued' : 'revoked',
          at: this.now.toISOString(),
          actor: { type: 'function', name: 'test' },
          workloadId: `custom/w-${i % workloads}`,
          outcome: 'success',
        },
        legacy,
      );
    }
  }

  async head(chainId?: string): Promise<ChainHead | null> {
    return this.heads.get(chainId ?? this.base) ?? null;
  }

  async *records(chainId: string, fromSeq = 1): AsyncGenerator<AuditRecord> {
    const chain = [...(this.chains.get(chainId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    for (const r of chain) if (r.seq >= fromSeq) yield r;
  }

  async seals(): Promise<StoredSeal[]> {
    return [...this.sealItems.values()].sort((a, b) => a.epoch - b.epoch);
  }

  sealDeps(privateKey: KeyObject = this.key.privateKey, keyId = KEY_ID): SealDeps {
    return {
      store: {
        lastSeal: async () => (await this.seals()).at(-1) ?? null,
        putSeal: async (seal) => {
          if (this.sealItems.has(seal.epoch)) return false;
          this.sealItems.set(seal.epoch, seal);
          return true;
        },
      },
      signer: {
        keyId,
        sign: async (message) => sign('sha256', message, { key: privateKey, dsaEncoding: 'der' }),
      },
      chains: {
        chainIds: () => this.chainIds(),
        head: (id) => this.head(id),
        records: (id, from) => this.records(id, from),
      },
      origin: `table/${this.base}`,
      intervalSeconds: 300,
      now: () => this.now,
    };
  }

  seal(): Promise<SealReport> {
    return sealAuditChains(this.sealDeps());
  }

  record(chainId: string, seq: number): AuditRecord {
    const r = this.chains.get(chainId)?.get(seq);
    if (!r) throw new Error(`no record ${chainId}/${seq}`);
    return r;
  }

  /** The non-empty shard chain with the most records. */
  busiest(): string {
    return [...this.chains.entries()]
      .filter(([id]) => id !== this.base)
      .sort((a, b) => b[1].size - a[1].size)[0]?.[0] as string;
  }
}
