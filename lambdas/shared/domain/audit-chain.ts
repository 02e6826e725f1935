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
} from '../schemas/audit-record.ts';

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
// Secret hygiene. The record builder refuses secrets so none can ever be hashed into the chain
// (a chain cannot be redacted without breaking it). Messages name the path and kind, never the value.

export const SECRET_KINDS = [
  'aws-secret-access-key',
  'sts-session-token',
  'pem-private-key',
  'secret-field-name',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];
export type SecretFinding = { path: string; kind: SecretKind };

export class SecretMaterialError extends Error {
  override readonly name = 'SecretMaterialError';
  constructor(readonly findings: readonly SecretFinding[]) {
    const where = findings.map((finding) => `${finding.path} (${finding.kind})`).join(', ');
    super(`secret material found at ${where}; secrets must never be written to audit records or logs`);
  }
}

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
/** ARNs are public identifiers whose resource part (`role/Path/Name`) can look like base64: mask them. */
const ARN = /arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d*:[^\s"'`,;<>()[\]{}]*/g;
/** Base64 runs; `=` only as trailing padding so `secret_key=<value>` still isolates the value. */
const BASE64_RUN = /[A-Za-z0-9/+]+=*/g;
const SECRET_FIELD = /^(aws|xamz)?(sessiontoken|securitytoken|secretaccesskey|secretkey|privatekey)$/;

/**
 * Random base64 has both cases and almost surely a digit, `/` or `+`. Requiring them keeps hex
 * digests, upper-case IDs and plain words from matching; a real key escapes with odds ~1 in 4000.
 */
function looksRandom(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9/+]/.test(run) && !/^[0-9a-fA-F]+$/.test(run);
}

/**
 * Kinds of secret material in free text (a log line, a message), distinct and in `SECRET_KINDS`
 * order. A secret access key is a standalone 40-character base64 run, a session token a base64 run
 * longer than 100. Access key IDs (AKIA/ASIA, 20 chars), sha256 hex, ISO dates, UUIDs and ARNs pass.
 */
export function findSecretMaterial(text: string): SecretKind[] {
  const found = new Set<SecretKind>();
  if (PEM_PRIVATE_KEY.test(text)) found.add('pem-private-key');
  for (const [run] of text.replace(ARN, ' ').matchAll(BASE64_RUN)) {
    const body = run.replace(/=+$/, '');
    if (body.length === 40 && looksRandom(body)) found.add('aws-secret-access-key');
    if (body.length > 100 && looksRandom(body)) found.add('sts-session-token');
  }
  return SECRET_KINDS.filter((kind) => found.has(kind));
}

/** Throws `SecretMaterialError` if any string or key in `value`, or any key's name, is secret-like. */
export function assertNoSecretMaterial(value: unknown): void {
  const findings: SecretFinding[] = [];
  scanForSecrets(value, '$', findings, new Set());
  if (findings.length > 0) throw new SecretMaterialError(findings);
}

function scanForSecrets(value: unknown, path: string, findings: SecretFinding[], seen: Set<object>): void {
  if (typeof value === 'string') {
    for (const kind of findSecretMaterial(value)) findings.push({ path, kind });
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value) || value instanceof Set) {
    [...value].forEach((item, index) => {
      scanForSecrets(item, `${path}[${index}]`, findings, seen);
    });
    return;
  }
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  for (const [rawKey, child] of entries) {
    const key = String(rawKey);
    const keyKinds = findSecretMaterial(key);
    const childPath = `${path}.${keyKinds.length > 0 ? '<redacted key>' : key}`;
    for (const kind of keyKinds) findings.push({ path: childPath, kind });
    const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (child != null && SECRET_FIELD.test(normalized))
      findings.push({ path: childPath, kind: 'secret-field-name' });
    scanForSecrets(child, childPath, findings, seen);
  }
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

// ---------------------------------------------------------------------------------------------
// Verification.

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

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
