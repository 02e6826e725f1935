/**
 * Re-verifies the stored audit chain: reads the head item and the records through `AuditLog`
 * (unvalidated, exactly as stored) and runs the pure `verifyChain` over them.
 *
 * - `since`: the first seq stamped at/after that time comes from the byTime index; the record just
 *   before it is read too and anchors the suffix (its own hash is checked, and a deleted first
 *   record of the window shows up as a gap after it). Only that anchor's prevHash is trusted.
 * - Live chains: the head is read before and after the records. If writers appended meanwhile,
 *   only the records up to the first head are checked against it (later ones are next time's).
 * - A head item that is missing while records exist, or that holds no valid seq/hash, is reported
 *   at seq 0 (the head's key): tail deletions could otherwise hide behind it.
 */

import { type AuditRecord, HASH_PATTERN } from '../shared/schemas/audit-record.ts';
import type { ChainHead, TamperKind } from './audit-chain.ts';
import { verifyChain } from './audit-chain-verify.ts';
import type { AuditLog } from './audit-log.ts';

/** What verification needs from the adapter (an `AuditLog`, or a fake in unit tests). */
export type AuditChainReader = Pick<AuditLog, 'chainId' | 'head' | 'scanChain' | 'firstSeqSince'>;

export type ChainVerification =
  | {
      ok: true;
      chainId: string;
      /** Records verified (with `since`: records from `fromSeq` on, the anchor not counted). */
      count: number;
      /** First seq verified (1 for the whole chain); with no record in the window, head seq + 1. */
      fromSeq: number;
      /** Last seq verified (0 for an empty chain). */
      lastSeq: number;
      lastHash: string;
      headSeq: number;
      since?: string;
      /** Writers appended while the chain was read: records past the first head read were left out. */
      concurrentAppends: boolean;
    }
  | {
      ok: false;
      chainId: string;
      problem: TamperKind;
      /** The first bad record's seq (0: the chain head item). */
      seq: number;
      message: string;
      /** Records verified before the problem. */
      count: number;
      headSeq: number | null;
      since?: string;
    };

export interface VerifyAuditChainOptions {
  /** ISO UTC time: verify the records stamped at/after it (and everything after them in the chain). */
  since?: string;
}

const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

async function collect(reader: AuditChainReader, fromSeq: number): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of reader.scanChain(fromSeq, { validate: false })) records.push(record);
  return records;
}

function sameHead(a: ChainHead | null, b: ChainHead | null): boolean {
  return a === b || (a !== null && b !== null && a.seq === b.seq && a.hash === b.hash);
}

export async function verifyAuditChain(
  reader: AuditChainReader,
  options: VerifyAuditChainOptions = {},
): Promise<ChainVerification> {
  const { chainId } = reader;
  const since = options.since;
  const withSince = since === undefined ? {} : { since };

  const head = await reader.head();
  if (head !== null && !(isSeq(head.seq) && HASH_PATTERN.test(head.hash))) {
    return {
      ok: false,
      chainId,
      problem: 'modified',
      seq: 0,
      message: 'the chain head item (seq 0) was modified: it holds no valid headSeq and headHash',
      count: 0,
      headSeq: null,
      ...withSince,
    };
  }

  let fromSeq = 1;
  if (since !== undefined) {
    fromSeq = (await reader.firstSeqSince(since)) ?? (head ? head.seq + 1 : 1);
  }
  // The record before the window anchors it; at seq 1 the genesis hash does.
  const anchorSeq = Math.max(1, fromSeq - 1);
  const anchored = anchorSeq < fromSeq;
  let records = await collect(reader, anchorSeq);
  const headAfter = await reader.head();
  const concurrentAppends = !sameHead(head, headAfter);
  if (concurrentAppends) records = records.filter((record) => record.seq <= (head?.seq ?? 0));

  if (head === null && records.length > 0) {
    return {
      ok: false,
      chainId,
      problem: 'deleted',
      seq: 0,
      message: `the chain head item (seq 0) is missing while ${records.length} records exist`,
      count: 0,
      headSeq: null,
      ...withSince,
    };
  }

  const result = verifyChain(records, head, anchorSeq > 1 ? { startSeq: anchorSeq } : undefined);
  if (!result.ok) {
    return {
      ok: false,
      chainId,
      problem: result.problem,
      seq: result.seq,
      message: result.message,
      count: result.count,
      headSeq: head?.seq ?? null,
      ...withSince,
    };
  }
  return {
    ok: true,
    chainId,
    count: Math.max(0, result.count - (anchored && result.count > 0 ? 1 : 0)),
    fromSeq,
    lastSeq: Math.max(0, result.lastSeq),
    lastHash: result.lastHash,
    headSeq: head?.seq ?? 0,
    ...withSince,
    concurrentAppends,
  };
}
