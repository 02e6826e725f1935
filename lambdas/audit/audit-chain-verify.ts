/**
 * Verifying an audit chain as read from storage: each record against its own hash and its
 * predecessor's, and the last against the chain head, naming the first problem precisely
 * (modified, deleted, inserted, reordered). Pure; no I/O.
 */
import type { AuditRecord } from '../shared/schemas/audit-record.ts';
import {
  type ChainHead,
  GENESIS_HASH,
  isSeq,
  recordHash,
  type TamperKind,
  type VerifyOptions,
  type VerifyResult,
} from './audit-chain.ts';

// ---------------------------------------------------------------------------------------------
// Verification.

/** Hash of `record` as if its seq/prevHash were the given ones; '' if it cannot be encoded. */
function hashAs(record: AuditRecord, seq: number, prevHash: string): string {
  try {
    return recordHash(record, record.chainId, seq, prevHash);
  } catch {
    return '';
  }
}

type Link = { seq: number; hash: string | undefined };

/**
 * Verifies records as read from storage (sorted by seq ascending) against each other and, when
 * known, against the stored chain head. Reports the FIRST problem.
 *
 * Each record X is checked against the last good record P: its own hash matches its content
 * (self), `X.seq === P.seq + 1` (seq) and `X.prevHash === P.hash` (link). Model: an attacker can
 * rewrite whole items (seq, prevHash and hash included), but re-hashing a record changes the hash
 * its untouched successor committed to. The first X failing a check is classified, in this order
 * (Y is the record after X, Q the one before P):
 *
 * 1. reordered: X's prevHash is the hash of a record stored after it (or of Y moved to X's seq):
 *    X belongs later in the chain. Swapped seq fields, contents or positions all look like this.
 * 2. inserted (X): Y links to P, skipping X, so X is a forged record.
 * 3. inserted (P): X links to Q, skipping P, so P is a forged record that passed its own checks
 *    (typically inserted with later records renumbered).
 * 4. inserted (X): link broken and X's seq is at most P's: a duplicate or replayed seq.
 * 5. deleted: link broken (or only trusted, at a suffix start) and X's seq jumps past P.seq + 1:
 *    the skipped seqs are missing.
 * 6. modified: X links to P but its hash or seq is wrong: fields of X were edited in place.
 * 7. link and self both broken, seq contiguous: if restoring X.prevHash fixes its hash, only that
 *    field was edited (modified); otherwise X was renumbered to close a gap (deleted).
 * 8. link broken, self and seq fine: if X looks untouched (Y links to it, or it matches the head),
 *    the record before it was rewritten and re-hashed (modified at P.seq); otherwise X itself was
 *    renumbered and re-hashed after a deletion (deleted).
 * Then, against `head`: records end before head.seq (deleted: tail removed), records go past
 * head.seq (inserted: appended after the head), or the last record differs from head.hash
 * (modified: rewritten after it was appended). Without `head`, a removed, appended or re-hashed
 * tail is undetectable, as is a wholesale rewrite of the chain and head together.
 */
export function verifyChain(
  records: readonly AuditRecord[],
  head?: ChainHead | null,
  options?: VerifyOptions,
): VerifyResult {
  const first = records[0];
  const suffix = options?.startSeq !== undefined || options?.startPrevHash !== undefined;
  const startSeq = options?.startSeq ?? (suffix && first && isSeq(first.seq) ? first.seq : 1);
  const startPrevHash = options?.startPrevHash ?? (startSeq === 1 ? GENESIS_HASH : first?.prevHash);
  // A trusted first prevHash links by definition, so it proves nothing about a seq gap before it.
  const trustedStart = options?.startPrevHash === undefined && startSeq !== 1;
  let prev: Link = { seq: startSeq - 1, hash: startPrevHash };
  let beforePrev: Link | undefined;
  for (const [index, record] of records.entries()) {
    const intact =
      hashAs(record, record.seq, record.prevHash) === record.hash &&
      record.seq === prev.seq + 1 &&
      record.prevHash === prev.hash;
    if (!intact) return classify(records, index, prev, beforePrev, head ?? undefined, trustedStart);
    beforePrev = prev;
    prev = { seq: record.seq, hash: record.hash };
  }
  return head ? checkHead(records, prev, head) : ok(records.length, prev);
}

function ok(count: number, last: Link): VerifyResult {
  return { ok: true, count, lastSeq: last.seq, lastHash: last.hash ?? '' };
}

function fail(problem: TamperKind, seq: number, count: number, message: string): VerifyResult {
  return { ok: false, problem, seq, count, message };
}

function missing(from: number, to: number): string {
  return from === to ? `record seq ${from} is missing` : `records seq ${from} to ${to} are missing`;
}

/** Rules 1-8 of `verifyChain`, applied to the first record that fails a check. */
function classify(
  records: readonly AuditRecord[],
  index: number,
  prev: Link,
  beforePrev: Link | undefined,
  head: ChainHead | undefined,
  trustedStart: boolean,
): VerifyResult {
  const x = records[index] as AuditRecord;
  const next = records[index + 1];
  const expected = prev.seq + 1;
  const linkOk = x.prevHash === prev.hash;
  const selfOk = hashAs(x, x.seq, x.prevHash) === x.hash;
  const seqText = String(x.seq);

  const linksLater = records.some((record, at) => at > index && record.hash === x.prevHash);
  if (
    !linkOk &&
    (linksLater || (next !== undefined && x.prevHash === hashAs(next, expected, next.prevHash)))
  ) {
    return fail(
      'reordered',
      expected,
      index,
      `record seq ${expected} is out of order: it links after a later record`,
    );
  }
  if (next !== undefined && next.prevHash === prev.hash) {
    const seq = isSeq(x.seq) ? x.seq : expected;
    return fail('inserted', seq, index, `record seq ${seq} was inserted: the next record links past it`);
  }
  if (!linkOk && beforePrev !== undefined && x.prevHash === beforePrev.hash) {
    return fail(
      'inserted',
      prev.seq,
      index - 1,
      `record seq ${prev.seq} was inserted: the next record links past it`,
    );
  }
  if (!linkOk && isSeq(x.seq) && x.seq < expected) {
    return fail(
      'inserted',
      x.seq,
      index,
      `record seq ${x.seq} was inserted: seq ${x.seq} is already in the chain`,
    );
  }
  if ((!linkOk || (index === 0 && trustedStart)) && isSeq(x.seq) && x.seq > expected) {
    return fail(
      'deleted',
      expected,
      index,
      `${missing(expected, x.seq - 1)}: record seq ${x.seq} follows seq ${prev.seq}`,
    );
  }
  if (linkOk) {
    const what = selfOk ? `its seq field reads ${seqText}` : 'its hash does not match its content';
    return fail('modified', expected, index, `record seq ${expected} was modified: ${what}`);
  }
  if (!selfOk) {
    return prev.hash !== undefined && hashAs(x, x.seq, prev.hash) === x.hash
      ? fail(
          'modified',
          expected,
          index,
          `record seq ${expected} was modified: its prevHash field was changed`,
        )
      : fail(
          'deleted',
          expected,
          index,
          `a record is missing before seq ${expected}: later records were renumbered`,
        );
  }
  const untouched =
    next !== undefined
      ? next.prevHash === x.hash
      : head === undefined || head.seq !== x.seq || head.hash === x.hash;
  if (!untouched) {
    return fail(
      'deleted',
      expected,
      index,
      `a record is missing before seq ${expected}: later records were re-hashed`,
    );
  }
  return index === 0
    ? fail(
        'modified',
        expected,
        0,
        `record seq ${expected} was modified: its prevHash is not the expected start hash`,
      )
    : fail(
        'modified',
        prev.seq,
        index - 1,
        `record seq ${prev.seq} was rewritten and re-hashed: seq ${expected} no longer links to it`,
      );
}

function checkHead(records: readonly AuditRecord[], last: Link, head: ChainHead): VerifyResult {
  if (head.seq > last.seq) {
    return fail(
      'deleted',
      last.seq + 1,
      records.length,
      `${missing(last.seq + 1, head.seq)}: the chain head is at seq ${head.seq}`,
    );
  }
  if (head.seq < last.seq) {
    const index = records.findIndex((record) => record.seq > head.seq);
    const seq = records[index]?.seq ?? head.seq + 1;
    const count = index === -1 ? records.length : index;
    return fail(
      'inserted',
      seq,
      count,
      `record seq ${seq} was inserted: it lies beyond the chain head at seq ${head.seq}`,
    );
  }
  if (last.hash !== undefined && head.hash !== last.hash) {
    const count = Math.max(records.length - 1, 0);
    return fail(
      'modified',
      last.seq,
      count,
      `record seq ${last.seq} was modified: it does not match the chain head hash`,
    );
  }
  return ok(records.length, last);
}
