/**
 * The audit hash chain: pure functions, no I/O. Each record commits to its own content and to its
 * predecessor's hash, so any later edit, deletion, insertion or reordering of stored records shows
 * up when the chain is re-verified. Storage (DynamoDB) lives in an adapter on top of this module.
 */
import { createHash } from 'node:crypto';
import {
  type AuditRecord,
  type AuditRecordInput,
  AuditRecordInputSchema,
  AuditRecordSchema,
  HASH_PATTERN,
} from '../shared/schemas/audit-record.ts';
import { assertNoSecretMaterial } from './audit-secrets.ts';

/** `prevHash` of the first record (seq 1) of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The newest record's position, kept in a separate item so that tail deletions are detectable. */
export type ChainHead = { seq: number; hash: string };

export type TamperKind = 'modified' | 'deleted' | 'inserted' | 'reordered';

export type VerifyResult =
  | { ok: true; count: number; lastSeq: number; lastHash: string }
  | {
      ok: false;
      /** Records verified before the problem. */
      count: number;
      problem: TamperKind;
      /** The first bad record's seq, or the first missing seq. */
      seq: number;
      message: string;
    };

/** Verify a suffix of the chain (`--since`). Omitted `startPrevHash` trusts the first record's. */
export type VerifyOptions = { startSeq?: number; startPrevHash?: string };

export class InvalidAuditRecordError extends Error {
  override readonly name = 'InvalidAuditRecordError';
}

// ---------------------------------------------------------------------------------------------
// Canonical hashing.

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units (as RFC 8785), `undefined` members
 * dropped (`undefined` array items become `null`, as in JSON), no whitespace, numbers and strings
 * as `JSON.stringify` writes them. Anything that is not plain JSON data throws rather than being
 * silently coerced, because a hash over coerced data could not be recomputed from storage.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$', new Set());
}

function encode(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(
          `cannot encode the non-finite number ${value} at ${path}; expected a finite number`,
        );
      }
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new TypeError(`cannot encode the circular reference at ${path}`);
      ancestors.add(value);
      try {
        return Array.isArray(value)
          ? encodeArray(value, path, ancestors)
          : encodeObject(value, path, ancestors);
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value} at ${path}; expected JSON data`);
  }
}

function encodeArray(items: unknown[], path: string, ancestors: Set<object>): string {
  // Array.from visits holes, which `map` would skip and so emit invalid JSON.
  const encoded = Array.from(items, (item, index) =>
    item === undefined ? 'null' : encode(item, `${path}[${index}]`, ancestors),
  );
  return `[${encoded.join(',')}]`;
}

function encodeObject(value: object, path: string, ancestors: Set<object>): string {
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(`cannot encode a non-plain object at ${path}; expected a plain object or array`);
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member !== undefined)
      members.push(`${JSON.stringify(key)}:${encode(member, `${path}.${key}`, ancestors)}`);
  }
  return `{${members.join(',')}}`;
}

/** sha256 hex over the canonical JSON of every record field except `hash` itself. */
export function recordHash(
  content: AuditRecordInput,
  chainId: string,
  seq: number,
  prevHash: string,
): string {
  const fields: Record<string, unknown> = { ...content, chainId, seq, prevHash };
  delete fields.hash; // lets callers pass a whole stored record as `content`
  return createHash('sha256').update(canonicalJson(fields), 'utf8').digest('hex');
}

/**
 * Validates `input` and appends it after `head` (null for an empty chain). Secrets are checked
 * first, on the raw input, because zod's messages echo unknown key names.
 * @throws SecretMaterialError | InvalidAuditRecordError
 */
export function buildRecord(input: AuditRecordInput, head: ChainHead | null, chainId: string): AuditRecord {
  assertNoSecretMaterial(input);
  assertNoSecretMaterial(chainId);
  const parsed = AuditRecordInputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    throw new InvalidAuditRecordError(`invalid audit record: ${issues.join('; ')}`);
  }
  if (!AuditRecordSchema.shape.chainId.safeParse(chainId).success) {
    throw new InvalidAuditRecordError(
      'invalid chain id: expected a non-empty string of at most 256 characters',
    );
  }
  if (head !== null && !(isSeq(head.seq) && HASH_PATTERN.test(head.hash))) {
    throw new InvalidAuditRecordError(
      `invalid chain head at seq ${String(head.seq)}: expected a positive integer seq and a 64-hex hash`,
    );
  }
  // The canonical JSON round trip drops undefined members: what is stored is exactly what was hashed.
  const content = JSON.parse(canonicalJson(parsed.data)) as AuditRecordInput;
  const seq = head === null ? 1 : head.seq + 1;
  const prevHash = head === null ? GENESIS_HASH : head.hash;
  return { ...content, chainId, seq, prevHash, hash: recordHash(content, chainId, seq, prevHash) };
}

export function chainHeadOf(record: AuditRecord): ChainHead {
  return { seq: record.seq, hash: record.hash };
}

/** A positive safe integer: a record's place in its chain. */
export function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}
