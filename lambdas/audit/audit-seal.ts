/**
 * Seals: signed checkpoints of every audit chain. Pure functions, no I/O.
 *
 * A seal's body lists each chain's size (its head seq) and head hash. A chain's head hash commits
 * to every record before it (each record's hash covers its content, timestamp included, and its
 * predecessor's hash), so the list is a chained digest of all records, and of the records added
 * since the previous seal in particular. The body also holds the previous seal's digest, so seals
 * form a chain of their own: a removed, reordered or replaced seal breaks it. The body is hashed as
 * canonical JSON (stored byte for byte) and the message KMS signs (ECDSA_SHA_256, P-256) is
 * `sundown-seal/v1\n<digest>`: short enough for a RAW signature, which KMS and the emulator treat
 * alike. Anyone with the public key (DER SPKI from KMS GetPublicKey) can check a seal offline.
 *
 * Why this defeats a full rewrite: an attacker who rewrites records and recomputes every hash gets
 * a self-consistent chain, but its head hash no longer matches the signed one, and producing a new
 * seal needs the private key, which never leaves KMS.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { canonicalJson } from './audit-chain.ts';

export const SEAL_VERSION = 1;
/** `prevDigest` of the first seal. */
export const GENESIS_DIGEST = '0'.repeat(64);
/** Hash of an empty chain in a seal (no record yet). */
export const EMPTY_CHAIN_HASH = '0'.repeat(64);
export const SEAL_SIGNING_ALGORITHM = 'ECDSA_SHA_256';

/** Seal items live in the audit table under this partition key, sort key = epoch. */
export function sealChainId(base: string): string {
  return `seal#${base}`;
}

export type SealedChain = { chainId: string; size: number; headHash: string };

export type SealBody = {
  version: number;
  /** The audit trail this seal covers: `<audit table name>/<chain base>`. */
  origin: string;
  /** 1 for the first seal, then +1 per seal. */
  epoch: number;
  sealedAt: string;
  /** The sealer's schedule in seconds (rate expressions), so a verifier knows when seals stopped. */
  intervalSeconds: number | null;
  prevDigest: string;
  chains: SealedChain[];
};

/** A seal as stored: the exact body text that was hashed, its digest, and the signature over it. */
export type StoredSeal = {
  epoch: number;
  body: string;
  digest: string;
  /** Base64 of the DER-encoded ECDSA signature KMS returned. */
  signature: string;
  /** The KMS key ARN that signed it. */
  keyId: string;
};

export function sealBodyText(body: SealBody): string {
  return canonicalJson(body);
}

export function sealDigest(bodyText: string): string {
  return createHash('sha256').update(bodyText, 'utf8').digest('hex');
}

/** The bytes KMS signs (MessageType RAW; KMS hashes them with SHA-256 before signing). */
export function sealMessage(digest: string): Uint8Array {
  return new TextEncoder().encode(`sundown-seal/v${SEAL_VERSION}\n${digest}`);
}

/** The body of the seal after `prev` (null: the first seal). Chains are sorted by ID. */
export function nextSealBody(
  prev: { epoch: number; digest: string } | null,
  chains: readonly SealedChain[],
  sealedAt: string,
  origin: string,
  intervalSeconds: number | null,
): SealBody {
  return {
    version: SEAL_VERSION,
    origin,
    epoch: (prev?.epoch ?? 0) + 1,
    sealedAt,
    intervalSeconds,
    prevDigest: prev?.digest ?? GENESIS_DIGEST,
    chains: [...chains].sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0)),
  };
}

/** A public key from KMS GetPublicKey (DER SPKI bytes) or a PEM file's text. */
export function publicKeyFrom(material: Uint8Array | string): KeyObject {
  return typeof material === 'string'
    ? createPublicKey(material)
    : createPublicKey({ key: Buffer.from(material), format: 'der', type: 'spki' });
}

/** Whether `signatureB64` (DER ECDSA) signs this digest's seal message under `publicKey`. */
export function verifySealSignature(digest: string, signatureB64: string, publicKey: KeyObject): boolean {
  try {
    return verify(
      'sha256',
      sealMessage(digest),
      { key: publicKey, dsaEncoding: 'der' },
      Buffer.from(signatureB64, 'base64'),
    );
  } catch {
    return false;
  }
}

/** Parses a stored body; undefined when it is not a seal body of this version. */
export function parseSealBody(text: string): SealBody | undefined {
  try {
    const body = JSON.parse(text) as SealBody;
    const chainsOk =
      Array.isArray(body.chains) &&
      body.chains.every(
        (c) =>
          typeof c?.chainId === 'string' && Number.isSafeInteger(c.size) && typeof c.headHash === 'string',
      );
    if (body.version !== SEAL_VERSION || !Number.isSafeInteger(body.epoch) || !chainsOk) return undefined;
    return typeof body.sealedAt === 'string' && typeof body.prevDigest === 'string' ? body : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds between runs of an EventBridge `rate(...)` expression; null for `cron(...)`. */
export function intervalSecondsOf(schedule: string): number | null {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!match) return null;
  const unit = match[2]?.startsWith('minute') ? 60 : match[2]?.startsWith('hour') ? 3600 : 86_400;
  return Number(match[1]) * unit;
}
