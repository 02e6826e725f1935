/**
 * Reads the whole audit trail (every chain, exactly as stored, and every seal) and verifies it
 * with the pure `verifyTrail`. Seals are read first, then each chain's head, its records and its
 * head again: a seal never vouches for more than was read, and when the head moved meanwhile
 * (live writers) the records past the first head read are left for the next run.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditRecord } from '../shared/schemas/audit-record.ts';
import type { AuditLog } from './audit-log.ts';
import type { StoredSeal } from './audit-seal.ts';
import type { DynamoSealStore } from './audit-seals.ts';
import {
  type ChainInput,
  type TrailVerification,
  type TrailVerifyOptions,
  verifyTrail,
} from './audit-trail-verify.ts';

export interface TrailReader {
  chainIds(): string[];
  head: AuditLog['head'];
  records(chainId: string): AsyncIterable<AuditRecord>;
  seals(): Promise<StoredSeal[]>;
}

export function trailReaderOf(log: AuditLog, seals: Pick<DynamoSealStore, 'allSeals'>): TrailReader {
  return {
    chainIds: () => log.chainIds(),
    head: (chainId) => log.head(chainId),
    records: (chainId) => log.forChain(chainId).scanChain(1, { validate: false }),
    seals: () => seals.allSeals(),
  };
}

export async function readTrail(reader: TrailReader): Promise<{ chains: ChainInput[]; seals: StoredSeal[] }> {
  const seals = await reader.seals();
  const chains = await Promise.all(
    reader.chainIds().map(async (chainId) => {
      const head = await reader.head(chainId);
      const records: AuditRecord[] = [];
      for await (const record of reader.records(chainId)) records.push(record);
      // A head that moved while reading means writers appended: leave their records to the next
      // run. An unmoved head makes records past it forgeries (`inserted`), so they are kept.
      const after = await reader.head(chainId);
      const moved = head !== null && (after?.seq !== head.seq || after?.hash !== head.hash);
      return { chainId, head, records: moved ? records.filter((r) => !(r.seq > head.seq)) : records };
    }),
  );
  return { chains, seals };
}

/** The `--json` output of `sundown audit verify` (field names are a public contract). */
export type AuditVerifyReport = {
  ok: boolean;
  /** verified (exit 0) or tampered (exit 1); "could not check" is an error (exit 2). */
  status: 'verified' | 'tampered';
  /** The chain of the first finding; the chain base (`main`) when verified. */
  chainId: string;
  /** Records whose links verified, all chains. */
  count: number;
  /** Sum of every chain's head seq: the records the head items vouch for. */
  headSeq: number;
  /** Sum of every chain's last seq (equal to `headSeq` on an intact trail). */
  lastSeq: number;
  /** First finding's problem, seq and message (absent when verified). */
  problem?: string;
  seq?: number;
  message?: string;
} & Pick<TrailVerification, 'findings' | 'chains' | 'seals' | 'unsealed'>;

export async function verifyAuditTrail(
  reader: TrailReader,
  base: string,
  options: TrailVerifyOptions & { publicKey?: KeyObject },
): Promise<AuditVerifyReport> {
  const { chains, seals } = await readTrail(reader);
  const result = verifyTrail(chains, seals, options);
  const first = result.findings[0];
  return {
    ok: result.ok,
    status: result.ok ? 'verified' : 'tampered',
    chainId: first?.chainId ?? base,
    count: result.chains.reduce((n, c) => n + c.count, 0),
    headSeq: result.chains.reduce((n, c) => n + c.headSeq, 0),
    lastSeq: chains.reduce((n, c) => n + (c.records.at(-1)?.seq ?? 0), 0),
    ...(first ? { problem: first.problem, seq: first.seq, message: first.message } : {}),
    findings: result.findings,
    chains: result.chains,
    seals: result.seals,
    unsealed: result.unsealed,
  };
}
