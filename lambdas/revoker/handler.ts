/**
 * Revocation work from the FIFO queue (one message group per principal).
 * The batch is applied as a whole: messages are grouped by the principal
 * they change, so a role named by several messages is rendered and written
 * once. A group that fails is reported as failed (only its own messages:
 * other groups keep their order and are not held up); on its last attempt
 * its credentials are left `failed` (audited) before the DLQ takes it.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { UserPolicyWriter } from '../revocation/access-keys/policy-writer.ts';
import type { UserRevokerDeps } from '../revocation/access-keys/revoke.ts';
import { CertificateRevoker } from '../revocation/certificates/pca.ts';
import type { CertificateRevokerDeps } from '../revocation/certificates/revoke.ts';
import { applyRevocations, markFailed, type RevocationWork } from '../revocation/index.ts';
import { RevocationMessageSchema } from '../revocation/messages.ts';
import { RolePolicyWriter } from '../revocation/role-sessions/policy-writer.ts';
import { appendAll } from '../shared/adapters/audit-log.ts';
import { bindInvocation, buildDeps, iamPerAccount } from '../shared/bootstrap.ts';
import { lazyClients } from '../shared/clients.ts';
import { batchResponse } from '../shared/handlers/batch-response.ts';
import { parseBody } from '../shared/handlers/event-trust.ts';
import { flushMetrics, logger, recordMetric } from '../shared/powertools.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';
import { rejectionRecord } from '../shared/services/reject-event.ts';

const base = buildDeps('revoker');
// In its own account with its own role; in a hub's spoke through the spoke's revoker role.
const writeIam = iamPerAccount(base.accounts, 'revoke');
const deps: UserRevokerDeps & CertificateRevokerDeps = {
  ...base,
  // A burst renders a role many times: its inspection is reused for a minute (see RolePolicyWriterOptions).
  rolePolicies: new RolePolicyWriter(writeIam, { inspectionTtlMs: 60_000 }),
  userPolicies: new UserPolicyWriter(writeIam),
  certificates: new CertificateRevoker(lazyClients.acmPca),
  metricsSink: (name, value, unit, dimensions) => recordMetric(name, unit, value, dimensions),
};

export const handler = async (event: SQSEvent, context: Context) => {
  bindInvocation(deps, context);
  try {
    const work: RevocationWork[] = [];
    const rejections: AuditRecordInput[] = [];
    for (const record of event.Records) {
      const parsed = parseBody(record.body);
      const message = parsed.ok ? RevocationMessageSchema.safeParse(parsed.value) : undefined;
      if (message?.success) work.push({ id: record.messageId, message: message.data });
      else {
        // Malformed work is never retried: audited, and the rest of the batch goes on.
        recordMetric('EventsRejected', 'Count', 1);
        rejections.push(rejectionRecord(deps, `invalid revocation message ${record.messageId}`, undefined));
      }
    }
    await appendAll(deps.audit, rejections);
    const { errors, outcome } = await applyRevocations(deps, work);
    logger.info('revocations applied', { messages: work.length, failedMessages: errors.size, ...outcome });
    for (const [messageId, err] of errors) {
      const record = event.Records.find((r) => r.messageId === messageId);
      const attempt = Number(record?.attributes.ApproximateReceiveCount ?? '1');
      logger.error('revocation failed', { messageId, attempt, error: err as Error });
      if (attempt < deps.config.SUNDOWN_REVOCATION_MAX_RECEIVE) continue;
      const message = work.find((w) => w.id === messageId)?.message;
      if (!message) continue;
      for (const failed of await markFailed(deps, message, err)) {
        recordMetric('RevocationsFailed', 'Count', 1);
        recordMetric('Revocations', 'Count', 1, { kind: failed.kind, outcome: 'failed' });
      }
    }
    return batchResponse(event, new Set(errors.keys()));
  } finally {
    flushMetrics();
  }
};
