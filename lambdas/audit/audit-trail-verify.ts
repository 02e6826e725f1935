/**
 * Verifies the whole audit trail offline: every chain's links (verifyChain, as for the legacy
 * chain) AND the signed seals over them (audit-seal.ts), from the records, head items and seal
 * items as stored, and a public key. Pure: no I/O, so 100,000 records verify in-process.
 *
 * Findings, each naming its chain and seq:
 * - modified | deleted | inserted | reordered: a chain's links or hashes are broken (verifyChain);
 * - truncated: records a seal vouches for are gone from the chain's end (head item rolled back too;
 *   a tail removed behind an intact head item is `deleted`, as before sealing);
 * - rewritten: the chain is self-consistent but differs from what was sealed: records were
 *   rewritten with every hash recomputed (only the signature can tell);
 * - seal-forged: a seal's signature does not verify under the key, its digest does not match its
 *   body, or the body cannot be parsed;
 * - seal-wrong-key: a seal names another signing key than the trusted one;
 * - seal-missing: an epoch is missing or a seal does not link to its predecessor, or the newest
 *   seal is older than the sealer's schedule allows (later seals were removed or sealing stopped).
 * Records after the newest seal are listed as `unsealed` (checked by their links only).
 */
import type { KeyObject } from 'node:crypto';
import type { AuditRecord } from '../shared/schemas/audit-record.ts';
import type { ChainHead, TamperKind } from './audit-chain.ts';
import { verifyChain } from './audit-chain-verify.ts';
import {
  GENESIS_DIGEST,
  parseSealBody,
  type SealBody,
  type StoredSeal,
  sealDigest,
  verifySealSignature,
} from './audit-seal.ts';

export type TrailProblem =
  | TamperKind
  | 'truncated'
  | 'rewritten'
  | 'seal-forged'
  | 'seal-wrong-key'
  | 'seal-missing';

export type TrailFinding = {
  /** The chain (`main`, `main#3`) or `seal#main` for a problem with the seals themselves. */
  chainId: string;
  problem: TrailProblem;
  /** Record seq, or seal epoch for seal findings (0: a chain's head item). */
  seq: number;
  message: string;
};

export type ChainInput = { chainId: string; head: ChainHead | null; records: readonly AuditRecord[] };

export type ChainSummary = {
  chainId: string;
  /** Records whose links verified. */
  count: number;
  headSeq: number;
  /** Size covered by the newest valid seal (0: none). */
  sealedSeq: number;
};

export type UnsealedRange = { chainId: string; fromSeq: number; toSeq: number; count: number };

export interface TrailVerifyOptions {
  /** The trusted seal key: its public key and, when known, its ARN (seals naming another are flagged). */
  publicKey?: KeyObject;
  keyId?: string;
  now: Date;
  /** Newest seal may be at most this old; default 2 x the seal's interval + 5 minutes (none for cron). */
  maxSealAgeSeconds?: number;
  /** No seal at all is a `seal-missing` finding (default: records are only reported unsealed). */
  requireSeals?: boolean;
}

export interface TrailVerification {
  ok: boolean;
  findings: TrailFinding[];
  chains: ChainSummary[];
  seals: { count: number; verified: number; lastEpoch: number; lastSealedAt: string | null };
  unsealed: UnsealedRange[];
}

type GoodSeal = { epoch: number; body: SealBody };

function checkSeals(seals: readonly StoredSeal[], options: TrailVerifyOptions, findings: TrailFinding[]) {
  const good: GoodSeal[] = [];
  const sealChain = 'seal';
  let prevDigest = GENESIS_DIGEST;
  let expectedEpoch = 1;
  for (const seal of seals) {
    const at = (problem: TrailProblem, message: string) =>
      findings.push({ chainId: sealChain, problem, seq: seal.epoch, message });
    const body = parseSealBody(seal.body);
    if (!body || body.epoch !== seal.epoch || sealDigest(seal.body) !== seal.digest) {
      at('seal-forged', `seal epoch ${seal.epoch} was altered: its body does not match its digest`);
      continue;
    }
    if (options.keyId !== undefined && seal.keyId !== options.keyId) {
      at('seal-wrong-key', `seal epoch ${seal.epoch} was signed by another key (${seal.keyId})`);
      continue;
    }
    if (!options.publicKey || !verifySealSignature(seal.digest, seal.signature, options.publicKey)) {
      const why = options.publicKey ? 'its signature does not verify under the seal key' : 'no public key';
      at('seal-forged', `seal epoch ${seal.epoch} is forged: ${why}`);
      continue;
    }
    if (seal.epoch !== expectedEpoch || body.prevDigest !== prevDigest) {
      const what =
        seal.epoch > expectedEpoch
          ? `epochs ${expectedEpoch}-${seal.epoch - 1} are missing`
          : 'it does not link to the seal before it';
      at('seal-missing', `seal epoch ${seal.epoch}: ${what}`);
    }
    good.push({ epoch: seal.epoch, body });
    prevDigest = seal.digest;
    expectedEpoch = seal.epoch + 1;
  }
  return good;
}

function checkStale(good: readonly GoodSeal[], options: TrailVerifyOptions, findings: TrailFinding[]): void {
  const last = good.at(-1);
  if (!last) return;
  const interval = last.body.intervalSeconds;
  const maxAge = options.maxSealAgeSeconds ?? (interval === null ? undefined : 2 * interval + 300);
  const age = (options.now.getTime() - Date.parse(last.body.sealedAt)) / 1000;
  if (maxAge !== undefined && age > maxAge) {
    findings.push({
      chainId: 'seal',
      problem: 'seal-missing',
      seq: last.epoch + 1,
      message: `the newest seal (epoch ${last.epoch}, ${last.body.sealedAt}) is ${Math.round(age)} s old, more than ${maxAge} s: later seals are missing`,
    });
  }
}

/** Checks one chain against its links and every valid seal's entry for it. */
function checkChain(input: ChainInput, good: readonly GoodSeal[], findings: TrailFinding[]): ChainSummary {
  const { chainId, head, records } = input;
  const lastSeq = records.at(-1)?.seq ?? 0;
  const result = verifyChain(records, head);
  let sealedSeq = 0;
  const push = (problem: TrailProblem, seq: number, message: string) =>
    findings.push({ chainId, problem, seq, message });
  // A tail removed while the head item still names it stays `deleted`, as the legacy chain always
  // reported it; `truncated` is a tail removed with its head item, which only a seal can show.
  if (!result.ok) push(result.problem, result.seq, result.message);
  else if (head === null && records.length > 0) {
    push('deleted', 0, `the chain head item (seq 0) is missing while ${records.length} records exist`);
  }
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  for (const seal of good) {
    const entry = seal.body.chains.find((c) => c.chainId === chainId);
    if (!entry || entry.size === 0) continue;
    sealedSeq = Math.max(sealedSeq, entry.size);
    const record = bySeq.get(entry.size);
    if (!record) {
      if (entry.size > lastSeq) {
        push(
          'truncated',
          lastSeq + 1,
          `records from seq ${lastSeq + 1} on are gone: seal epoch ${seal.epoch} vouches for ${entry.size}`,
        );
      }
      return {
        chainId,
        count: result.ok ? records.length : result.count,
        headSeq: head?.seq ?? 0,
        sealedSeq,
      };
    }
    if (record.hash !== entry.headHash && result.ok) {
      push(
        'rewritten',
        entry.size,
        `the chain up to seq ${entry.size} differs from seal epoch ${seal.epoch}: records were rewritten and re-hashed`,
      );
      break;
    }
  }
  return { chainId, count: result.ok ? records.length : result.count, headSeq: head?.seq ?? 0, sealedSeq };
}

export function verifyTrail(
  chains: readonly ChainInput[],
  seals: readonly StoredSeal[],
  options: TrailVerifyOptions,
): TrailVerification {
  const findings: TrailFinding[] = [];
  const good = checkSeals(seals, options, findings);
  checkStale(good, options, findings);
  const hasRecords = chains.some((c) => c.records.length > 0);
  if (seals.length === 0 && options.requireSeals && hasRecords) {
    findings.push({
      chainId: 'seal',
      problem: 'seal-missing',
      seq: 1,
      message: 'no seal exists although records do',
    });
  }
  // Chains a seal vouches for must exist even when nothing of them is left.
  const known = new Set(chains.map((c) => c.chainId));
  const sealedOnly = good.flatMap((s) => s.body.chains.map((c) => c.chainId)).filter((id) => !known.has(id));
  const all = [
    ...chains,
    ...[...new Set(sealedOnly)].map((chainId) => ({ chainId, head: null, records: [] })),
  ];
  const summaries = all.map((c) => checkChain(c, good, findings));
  const unsealed = summaries.flatMap((s) => {
    const records = all.find((c) => c.chainId === s.chainId)?.records ?? [];
    const later = records.filter((r) => r.seq > s.sealedSeq);
    const first = later[0];
    const last = later.at(-1);
    return first && last
      ? [{ chainId: s.chainId, fromSeq: first.seq, toSeq: last.seq, count: later.length }]
      : [];
  });
  const last = good.at(-1);
  return {
    ok: findings.length === 0,
    findings,
    chains: summaries,
    seals: {
      count: seals.length,
      verified: good.length,
      lastEpoch: last?.epoch ?? 0,
      lastSealedAt: last?.body.sealedAt ?? null,
    },
    unsealed,
  };
}
