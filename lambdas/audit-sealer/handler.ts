/**
 * The audit sealer (lambdas/audit/audit-sealing.ts). Thin; two ways in:
 *
 * - SQS: the schedule rule's ticks, through the SealTicks queue (no input; one seal per batch).
 *   A run that found a chain it could not seal fails the batch, so repeated failures reach the DLQ,
 *   which is alarmed.
 * - Lambda Invoke (`sundown audit seal`): `{}`, answered with the report.
 *
 * Its role may sign with the seal key and write seal items; it appends no audit records.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import {
  AuditLog,
  chainSourceOf,
  DynamoSealStore,
  intervalSecondsOf,
  KmsSealSigner,
  S3SealArchive,
  type SealDeps,
  type SealReport,
  sealAuditChains,
} from '../audit/index.ts';
import { clients, lazyClients } from '../shared/clients.ts';
import { isSqsEvent } from '../shared/handlers/batch-response.ts';
import { flushMetrics, logger, recordMetric } from '../shared/powertools.ts';
import { readSealerConfig } from '../shared/runtime-config.ts';

const config = readSealerConfig();
const doc = clients.dynamo();
const log = new AuditLog(doc, config.SUNDOWN_AUDIT_TABLE, config.SUNDOWN_AUDIT_CHAIN, undefined, {
  shards: config.SUNDOWN_AUDIT_SHARDS,
});
const deps: SealDeps = {
  store: new DynamoSealStore(doc, config.SUNDOWN_AUDIT_TABLE, config.SUNDOWN_AUDIT_CHAIN),
  signer: new KmsSealSigner(lazyClients.kms, config.SUNDOWN_SEAL_KEY_ID),
  chains: chainSourceOf(log),
  ...(config.SUNDOWN_SEAL_BUCKET
    ? { archive: new S3SealArchive(lazyClients.s3, config.SUNDOWN_SEAL_BUCKET, config.SUNDOWN_AUDIT_CHAIN) }
    : {}),
  origin: `${config.SUNDOWN_AUDIT_TABLE}/${config.SUNDOWN_AUDIT_CHAIN}`,
  intervalSeconds: intervalSecondsOf(config.SUNDOWN_SEAL_SCHEDULE),
  now: () => new Date(),
};

async function runSeal(): Promise<SealReport> {
  const report = await sealAuditChains(deps);
  recordMetric('AuditSeals', 'Count', report.raced ? 0 : 1);
  recordMetric('AuditRecordsSealed', 'Count', report.newRecords);
  if (report.problems.length > 0) {
    recordMetric('AuditSealProblems', 'Count', report.problems.length);
    logger.error('audit chains could not be sealed', { ...report });
  } else logger.info('audit chains sealed', { ...report });
  return report;
}

export const handler = async (event: unknown): Promise<SQSBatchResponse | SealReport> => {
  try {
    if (isSqsEvent(event)) {
      const report = await runSeal();
      return {
        batchItemFailures:
          report.problems.length > 0 ? event.Records.map((r) => ({ itemIdentifier: r.messageId })) : [],
      };
    }
    const keys = event && typeof event === 'object' ? Object.keys(event) : [];
    if (keys.length > 0) throw new Error(`invalid seal request: expected {}, got keys ${keys.join(', ')}`);
    return await runSeal();
  } finally {
    flushMetrics();
  }
};
