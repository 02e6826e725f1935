/**
 * Audit record schemas. Every state change Sundown makes is written as one record of a hash chain
 * (see `../../audit/audit-chain.ts`). The schemas are strict (unknown keys are rejected) because
 * whatever passes them is hashed into the chain forever: nothing unvetted may slip in.
 */
import { z } from 'zod';

export const AUDIT_RECORD_TYPES = [
  'issued',
  'revocation-requested',
  'revoked',
  'skipped',
  'dry-run',
  'rejected',
  'failed',
  'expired',
  'pruned',
  /** The reconciliation sweep found the deny state disagreeing with the registry (reported, or restored). */
  'drift',
  /** IAM refused a deny policy for its size; the revoker rendered it again into smaller documents. */
  'policy-resized',
  /** A revoked session was used after its revocation (a CloudTrail access-denied error, see use-after-revoke.ts). */
  'use-after-revoke',
  /**
   * The broker refused a request (unauthenticated caller, missing or bad reason, invalid body, role
   * not opted in): nothing was issued. Kept apart from `rejected` (unprocessable pipeline input,
   * counted by the EventsRejected metric and alarm) because it is an access decision about a principal.
   */
  'refused',
] as const;

export const CREDENTIAL_KINDS = ['role-session', 'access-key', 'certificate'] as const;

export const ACTOR_TYPES = ['function', 'cli', 'system'] as const;

/** `2024-05-01T12:34:56.789Z`: UTC, exactly millisecond precision, so timestamps sort as strings. */
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Lowercase sha256 hex, as produced by `recordHash`. */
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Detail keys are identifiers (no `__proto__`, no spaces) so they survive every storage format. */
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

const MAX_DETAILS = 32;

/**
 * Lone UTF-16 surrogates cannot be stored as UTF-8: DynamoDB would hand back U+FFFD, the record
 * would re-hash differently and read as tampered forever. Every string is checked for them.
 */
const wellFormed = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !/\p{Cs}/u.test(value), 'must be well-formed unicode (no lone surrogates)');

const text = (max: number) => wellFormed(max).min(1);

const isoTimestamp = z
  .string()
  .regex(ISO_UTC_MS, 'must be an ISO-8601 UTC timestamp with milliseconds, e.g. 2024-05-01T12:34:56.789Z')
  // The round trip rejects calendar nonsense such as 2024-02-30 that the pattern alone lets through.
  .refine((value) => {
    const time = Date.parse(value);
    return !Number.isNaN(time) && new Date(time).toISOString() === value;
  }, 'must be a real calendar date and time');

export const AuditTriggerSchema = z.strictObject({
  eventId: text(256).optional(),
  source: text(256).optional(),
  detailType: text(256).optional(),
  /** How the change was initiated, e.g. `event`, `cli`, `reconciliation`, `broker`. */
  kind: text(64).optional(),
});

export const AuditActorSchema = z.strictObject({
  type: z.enum(ACTOR_TYPES),
  name: text(256),
  requestId: text(256).optional(),
});

/**
 * Small, non-secret facts (role ARN, CA ARN, serial, timeToRevokeMs, propagation note). Numbers are
 * safe integers: DynamoDB stores decimal strings and the SDK refuses unsafe integers on read, so
 * anything else might not come back bit-for-bit and would break the record's hash.
 */
export const AuditDetailsSchema = z
  .record(
    z.string().regex(DETAIL_KEY, 'detail keys must be identifiers of at most 64 characters'),
    z.union([wellFormed(2048), z.number().int(), z.boolean(), z.array(wellFormed(2048)).max(32)]),
  )
  .refine((details) => Object.keys(details).length <= MAX_DETAILS, `must have at most ${MAX_DETAILS} keys`);

/** What callers pass to `buildRecord`. */
export const AuditRecordInputSchema = z.strictObject({
  type: z.enum(AUDIT_RECORD_TYPES),
  at: isoTimestamp,
  /**
   * The AWS account the record is about: its workload's, else the principal's it names, else the
   * deployment's own (a hub's records name its spokes, issue 19). Stamped by the audit log; records
   * written before the field existed lack it (`recordAccount` derives theirs).
   */
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account ID')
    .optional(),
  workloadId: text(2048).optional(),
  credentialId: text(2048).optional(),
  credentialKind: z.enum(CREDENTIAL_KINDS).optional(),
  trigger: AuditTriggerSchema.optional(),
  actor: AuditActorSchema,
  /** Short machine-friendly result, e.g. `success`, `error`, `skipped`. */
  outcome: text(64),
  reason: wellFormed(1000).optional(),
  details: AuditDetailsSchema.optional(),
});

/** The stored form: the input plus its place in the chain. `hash` covers every other field. */
export const AuditRecordSchema = AuditRecordInputSchema.extend({
  chainId: text(256),
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  prevHash: z.string().regex(HASH_PATTERN, 'must be 64 lowercase hex characters'),
  hash: z.string().regex(HASH_PATTERN, 'must be 64 lowercase hex characters'),
});

export type AuditRecordType = (typeof AUDIT_RECORD_TYPES)[number];
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
export type AuditTrigger = z.infer<typeof AuditTriggerSchema>;
export type AuditActor = z.infer<typeof AuditActorSchema>;
export type AuditDetails = z.infer<typeof AuditDetailsSchema>;
export type AuditRecordInput = z.infer<typeof AuditRecordInputSchema>;
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
