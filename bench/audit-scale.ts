/**
 * Audit at scale (issue 16), two measurements:
 *
 * - appends: `writers` concurrent AuditLog instances (separate SDK clients, as separate Lambda
 *   instances would be), each appending `perWriter` records one at a time for its own workloads,
 *   into the deployed audit table's sharded chains, each writer on the shard it leases (as deployed;
 *   see lambdas/audit/audit-lease.ts). Counted on each writer: transactions cancelled by a
 *   concurrent append (and retried), throttling errors seen by the SDK, DynamoDB requests including
 *   the lease writes (taken and refused) and head reads.
 * - verify: the pure trail verifier (links and signatures, what `sundown audit verify` runs after
 *   reading) over `records` generated records in 16 shards, sealed every 10,000 records with a local
 *   P-256 key, timed in this process.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredSeal } from '../lambdas/audit/index.ts';
import {
  AuditLog,
  auditChainIds,
  buildRecord,
  type ChainHead,
  type ChainInput,
  chainHeadOf,
  sealAuditChains,
  shardChainId,
  shardOf,
  verifyTrail,
} from '../lambdas/audit/index.ts';
import type { AuditRecord } from '../lambdas/shared/schemas/audit-record.ts';
import type { Target } from '../local/aws-env.ts';

export interface AuditAppendResult {
  writers: number;
  perWriter: number;
  shards: number;
  records: number;
  /** Transactions cancelled by a concurrent writer (then retried): the target is 0. */
  cancelled: number;
  /** Throttling errors the SDK saw (and retried). */
  throttled: number;
  transactions: number;
  headReads: number;
  /** Lease writes: shards taken, refused (held by another writer); appends that found no free shard. */
  leases: { acquired: number; conflicts: number; fallbacks: number };
  /** DynamoDB write requests (TransactWriteItems and lease UpdateItems) per record appended. */
  writeRequestsPerRecord: number;
  /** Items written per record (each record plus its share of head updates). */
  itemsWrittenPerRecord: number;
  elapsedMs: number;
}

export async function runAuditAppends(
  target: Target,
  table: string,
  shards: number,
  writers = 8,
  perWriter = 200,
): Promise<AuditAppendResult> {
  let throttled = 0;
  const logs = Array.from({ length: writers }, () => {
    const client = new DynamoDBClient({ endpoint: target.endpoint, region: target.region });
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (/Throttl|ProvisionedThroughputExceeded/.test((err as Error).name)) throttled++;
          throw err;
        }
      },
      { step: 'finalizeRequest' },
    );
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    return new AuditLog(doc, table, 'main', undefined, { shards });
  });
  const started = performance.now();
  await Promise.all(
    logs.map(async (log, w) => {
      for (let i = 0; i < perWriter; i++) {
        await log.append({
          type: 'issued',
          at: new Date().toISOString(),
          actor: { type: 'function', name: `bench-writer-${w}` },
          workloadId: `custom/bench-w${w}-${i}`,
          outcome: 'success',
        });
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const sum = (key: 'cancelled' | 'transactions' | 'headReads' | 'records') =>
    logs.reduce((n, l) => n + l.stats[key], 0);
  const records = sum('records');
  const transactions = sum('transactions');
  const committed = transactions - sum('cancelled');
  const lease = (key: 'acquired' | 'conflicts' | 'fallbacks') =>
    logs.reduce((n, l) => n + (l.stats.lease?.[key] ?? 0), 0);
  const leases = {
    acquired: lease('acquired'),
    conflicts: lease('conflicts'),
    fallbacks: lease('fallbacks'),
  };
  return {
    writers,
    perWriter,
    shards,
    records,
    cancelled: sum('cancelled'),
    throttled,
    transactions,
    headReads: sum('headReads'),
    leases,
    writeRequestsPerRecord: round((transactions + leases.acquired + leases.conflicts) / records),
    itemsWrittenPerRecord: round((records + committed) / records),
    elapsedMs: Math.round(elapsedMs),
  };
}

export interface AuditVerifyResult {
  records: number;
  shards: number;
  seals: number;
  ok: boolean;
  elapsedMs: number;
}

/** Generates, seals and verifies `records` records offline; times the verification only. */
export async function runAuditVerify(records = 100_000, shards = 16): Promise<AuditVerifyResult> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const chains = new Map<string, AuditRecord[]>(auditChainIds('main', shards).map((id) => [id, []]));
  const heads = new Map<string, ChainHead>();
  const seals: StoredSeal[] = [];
  let now = Date.UTC(2026, 0, 1);
  const seal = async () => {
    await sealAuditChains({
      store: {
        lastSeal: async () => seals.at(-1) ?? null,
        putSeal: async (s) => {
          seals.push(s);
          return true;
        },
      },
      signer: {
        keyId: 'bench',
        sign: async (m) => sign('sha256', m, { key: key.privateKey, dsaEncoding: 'der' }),
      },
      chains: {
        chainIds: () => [...chains.keys()],
        head: async (id) => heads.get(id) ?? null,
        records: async function* (id, from) {
          yield* (chains.get(id) ?? []).slice(from - 1);
        },
      },
      origin: 'bench/main',
      intervalSeconds: 300,
      now: () => new Date(now),
    });
  };
  for (let i = 0; i < records; i++) {
    now += 10;
    const workloadId = `custom/bench-${i % 5000}`;
    const chainId = shardChainId('main', shardOf(workloadId, shards));
    const record = buildRecord(
      {
        type: 'issued',
        at: new Date(now).toISOString(),
        actor: { type: 'function', name: 'bench' },
        workloadId,
        outcome: 'success',
      },
      heads.get(chainId) ?? null,
      chainId,
    );
    chains.get(chainId)?.push(record);
    heads.set(chainId, chainHeadOf(record));
    if ((i + 1) % 10_000 === 0) await seal();
  }
  const input: ChainInput[] = [...chains].map(([chainId, list]) => ({
    chainId,
    head: heads.get(chainId) ?? null,
    records: list,
  }));
  const started = performance.now();
  const result = verifyTrail(input, seals, { publicKey: key.publicKey, keyId: 'bench', now: new Date(now) });
  const elapsedMs = performance.now() - started;
  return { records, shards, seals: seals.length, ok: result.ok, elapsedMs: Math.round(elapsedMs) };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
