/**
 * Audit: where audit records are made, stored, sealed and verified. The public face for handlers,
 * revocation, the sweep, the CLI and bench; import from here, not from the files behind it:
 * - audit-chain.ts: records and the hash chain (pure), audit-secrets.ts: no secret in a record;
 * - audit-shards.ts: which chain a record goes to, and reading the shards back in time order;
 * - audit-log.ts: the trail in DynamoDB (append through audit-append.ts and audit-lease.ts, read
 *   through audit-query.ts, publish through audit-publish.ts);
 * - audit-chain-verify.ts, audit-trail-verify.ts: verifying a chain and a whole trail;
 * - audit-seal.ts (pure) and audit-seals.ts (DynamoDB, KMS, S3): signed checkpoints of every chain;
 *   audit-sealing.ts: a sealing run over every chain (the audit sealer's service);
 * - audit-verify.ts (one chain) and audit-trail.ts (every shard and seal): what `sundown audit verify`
 *   reads and checks; audit-timeline.ts and audit-report.ts: a workload's timeline and the audit
 *   report `sundown audit report` renders;
 * - record-account.ts: the account a record is about (stamped on append, derived for older records).
 * The record schema stays with the other zod schemas, in lambdas/shared/schemas/audit-record.ts.
 */
export {
  buildRecord,
  type ChainHead,
  canonicalJson,
  chainHeadOf,
  GENESIS_HASH,
  InvalidAuditRecordError,
  recordHash,
  type TamperKind,
  type VerifyOptions,
  type VerifyResult,
} from './audit-chain.ts';
export { verifyChain } from './audit-chain-verify.ts';
export {
  AUDIT_DETAIL_TYPES,
  AUDIT_INDEX,
  AuditLog,
  type AuditQuery,
  type AuditSink,
  appendAll,
  MAX_RECORDS_PER_TRANSACTION,
  type ReadOptions,
} from './audit-log.ts';
export {
  type AuditReport,
  buildAuditReport,
  fromChainVerification,
  type SealSummary,
  type TimeToRevokeBin,
  type VerificationSummary,
  type WorkloadReport,
} from './audit-report.ts';
export {
  EMPTY_CHAIN_HASH,
  intervalSecondsOf,
  nextSealBody,
  parseSealBody,
  publicKeyFrom,
  SEAL_SIGNING_ALGORITHM,
  type SealBody,
  type SealedChain,
  type StoredSeal,
  sealBodyText,
  sealChainId,
  sealDigest,
  sealMessage,
  verifySealSignature,
} from './audit-seal.ts';
export { type SealDeps, type SealReport, sealAuditChains } from './audit-sealing.ts';
export {
  chainSourceOf,
  DynamoSealStore,
  fetchSealPublicKey,
  KmsSealSigner,
  S3SealArchive,
} from './audit-seals.ts';
export {
  assertNoSecretMaterial,
  findSecretMaterial,
  SECRET_KINDS,
  type SecretFinding,
  type SecretKind,
  SecretMaterialError,
} from './audit-secrets.ts';
export {
  auditChainIds,
  compareByTime,
  DEFAULT_AUDIT_SHARDS,
  dayShardKey,
  MAX_AUDIT_SHARDS,
  mergeByTime,
  shardChainId,
  shardKeyOf,
  shardNumberOf,
  shardOf,
} from './audit-shards.ts';
export { buildWorkloadTimeline, formatDuration, type WorkloadTimeline } from './audit-timeline.ts';
export { type AuditVerifyReport, trailReaderOf, verifyAuditTrail } from './audit-trail.ts';
export {
  type ChainInput,
  type ChainSummary,
  type TrailFinding,
  type TrailProblem,
  type TrailVerification,
  type TrailVerifyOptions,
  type UnsealedRange,
  verifyTrail,
} from './audit-trail-verify.ts';
export { type ChainVerification, verifyAuditChain } from './audit-verify.ts';
export { recordAccount } from './record-account.ts';
