/**
 * One run of the audit sealer: checkpoint every chain's head and sign it (lambdas/audit/audit-seal.ts).
 *
 * Every run writes a seal, also when nothing was appended, so a verifier can tell from the newest
 * seal's age that later seals (and the records they would cover) are missing. Before a chain's new
 * head is sealed, the records appended since the previous seal are re-verified against it (anchored
 * on the previously sealed head hash): a chain tampered with before its first seal is not signed
 * over. Such a chain keeps its previous sealed state and the run reports it (the handler then fails,
 * which the sealer's DLQ alarm shows). Two runs at once: the second one's conditional write of the
 * same epoch fails and it reports `raced` without writing anything.
 */
// The audit files directly, not audit/index.ts: audit-seals.ts implements the ports below, so going
// through the index would be an import cycle.

import type { AuditRecord } from '../shared/schemas/audit-record.ts';
import type { ChainHead } from './audit-chain.ts';
import { verifyChain } from './audit-chain-verify.ts';
import {
  EMPTY_CHAIN_HASH,
  nextSealBody,
  parseSealBody,
  type SealedChain,
  type StoredSeal,
  sealBodyText,
  sealDigest,
  sealMessage,
} from './audit-seal.ts';

export interface SealStore {
  lastSeal(): Promise<StoredSeal | null>;
  /** Writes the seal only if its epoch is new; false when another run wrote it first. */
  putSeal(seal: StoredSeal): Promise<boolean>;
}

export interface SealSigner {
  /** The signing key's ARN, recorded in each seal. */
  readonly keyId: string;
  /** DER ECDSA_SHA_256 signature over `message` (KMS Sign, MessageType RAW). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface SealArchive {
  put(seal: StoredSeal): Promise<void>;
}

export interface SealChainSource {
  chainIds(): string[];
  head(chainId: string): Promise<ChainHead | null>;
  /** Records of `chainId` from `fromSeq` on, in seq order, exactly as stored. */
  records(chainId: string, fromSeq: number): AsyncIterable<AuditRecord>;
}

export interface SealDeps {
  store: SealStore;
  signer: SealSigner;
  chains: SealChainSource;
  archive?: SealArchive;
  /** `<audit table>/<chain base>`. */
  origin: string;
  intervalSeconds: number | null;
  now: () => Date;
}

export type SealProblem = { chainId: string; seq: number; problem: string; message: string };

export interface SealReport {
  epoch: number;
  sealedAt: string;
  digest: string;
  /** Records sealed by this run (new since the previous seal), all chains. */
  newRecords: number;
  chains: number;
  archived: boolean;
  /** Another run wrote this epoch first; nothing was written. */
  raced: boolean;
  problems: SealProblem[];
}

async function sealChain(
  deps: SealDeps,
  chainId: string,
  previous: SealedChain | undefined,
): Promise<{ sealed: SealedChain; added: number; problem?: SealProblem }> {
  const prevSize = previous?.size ?? 0;
  const prevHash = previous?.headHash ?? EMPTY_CHAIN_HASH;
  const kept = previous ?? { chainId, size: 0, headHash: EMPTY_CHAIN_HASH };
  const head = await deps.chains.head(chainId);
  if (head === null) {
    if (prevSize === 0) return { sealed: kept, added: 0 };
    const message = `the chain head item is missing; the previous seal holds ${prevSize} records`;
    return { sealed: kept, added: 0, problem: { chainId, seq: 0, problem: 'deleted', message } };
  }
  if (head.seq < prevSize) {
    const message = `the chain head is at seq ${head.seq}, below the sealed size ${prevSize}`;
    return { sealed: kept, added: 0, problem: { chainId, seq: head.seq + 1, problem: 'truncated', message } };
  }
  const records: AuditRecord[] = [];
  for await (const record of deps.chains.records(chainId, prevSize + 1)) {
    if (record.seq <= head.seq) records.push(record); // later ones were appended while sealing
  }
  const result = verifyChain(
    records,
    head,
    prevSize === 0 ? undefined : { startSeq: prevSize + 1, startPrevHash: prevHash },
  );
  if (!result.ok) {
    return {
      sealed: kept,
      added: 0,
      problem: { chainId, seq: result.seq, problem: result.problem, message: result.message },
    };
  }
  return { sealed: { chainId, size: head.seq, headHash: head.hash }, added: head.seq - prevSize };
}

export async function sealAuditChains(deps: SealDeps): Promise<SealReport> {
  const last = await deps.store.lastSeal();
  const lastBody = last ? parseSealBody(last.body) : undefined;
  if (last && !lastBody) {
    throw new Error(`the newest seal (epoch ${last.epoch}) cannot be parsed; refusing to seal after it`);
  }
  const previous = new Map((lastBody?.chains ?? []).map((c) => [c.chainId, c]));
  // Chains sealed before stay sealed even when no longer listed (e.g. fewer shards configured).
  const ids = [...new Set([...deps.chains.chainIds(), ...previous.keys()])];
  const results = await Promise.all(ids.map((id) => sealChain(deps, id, previous.get(id))));
  const sealedAt = deps.now().toISOString();
  const body = nextSealBody(
    last ? { epoch: last.epoch, digest: last.digest } : null,
    results.map((r) => r.sealed).filter((c) => c.size > 0 || previous.has(c.chainId)),
    sealedAt,
    deps.origin,
    deps.intervalSeconds,
  );
  const text = sealBodyText(body);
  const digest = sealDigest(text);
  const signature = Buffer.from(await deps.signer.sign(sealMessage(digest))).toString('base64');
  const seal: StoredSeal = { epoch: body.epoch, body: text, digest, signature, keyId: deps.signer.keyId };
  const written = await deps.store.putSeal(seal);
  if (written && deps.archive) await deps.archive.put(seal);
  return {
    epoch: body.epoch,
    sealedAt,
    digest,
    newRecords: results.reduce((n, r) => n + r.added, 0),
    chains: body.chains.length,
    archived: written && deps.archive !== undefined,
    raced: !written,
    problems: results.flatMap((r) => (r.problem ? [r.problem] : [])),
  };
}
