/**
 * Revocation work from the FIFO queue (one message group per principal).
 * The batch is applied as a whole: messages are grouped by the principal
 * they change, so a role named by several messages is rendered and written
 * once. A group that fails is reported as failed (only its own messages:
 * other groups keep their order and are not held up); on its last attempt
 * its credentials are left `failed` (audited) before the DLQ takes it.
 * Malformed work is audited as rejected and never retried
 * (lambdas/shared/handlers/sqs-batch.ts).
 */

import type { CertificateRevokerDeps, UserRevokerDeps } from '../revocation/index.ts';
import {
  applyRevocations,
  CertificateRevoker,
  markFailed,
  RevocationMessageSchema,
  RolePolicyWriter,
  UserPolicyWriter,
} from '../revocation/index.ts';
import { buildDeps, iamPerAccount } from '../shared/bootstrap.ts';
import { lazyClients } from '../shared/clients.ts';
import { parseBody } from '../shared/handlers/event-trust.ts';
import { sqsBatchHandler } from '../shared/handlers/sqs-batch.ts';
import { logger, recordMetric } from '../shared/powertools.ts';

// Audit events go out after each batch's revocations (awaited by the handler factory).
const base = buildDeps('revoker', { deferAuditPublish: true });
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

export const handler = sqsBatchHandler({
  deps,
  parse: (record) => {
    const parsed = parseBody(record.body);
    const message = parsed.ok ? RevocationMessageSchema.safeParse(parsed.value) : undefined;
    if (message?.success) return { kind: 'revocation' as const, message: message.data };
    return { kind: 'rejected', reason: `invalid revocation message ${record.messageId}` };
  },
  process: {
    revocation: async (items) => {
      const work = items.map(({ messageId, value }) => ({ id: messageId, message: value.message }));
      const { errors, outcome } = await applyRevocations(deps, work);
      logger.info('revocations applied', { messages: work.length, failedMessages: errors.size, ...outcome });
      for (const [messageId, err] of errors) {
        const item = items.find((i) => i.messageId === messageId);
        const attempt = Number(item?.record.attributes.ApproximateReceiveCount ?? '1');
        logger.error('revocation failed', { messageId, attempt, error: err as Error });
        if (!item || attempt < deps.config.SUNDOWN_REVOCATION_MAX_RECEIVE) continue;
        for (const failed of await markFailed(deps, item.value.message, err)) {
          recordMetric('RevocationsFailed', 'Count', 1);
          recordMetric('Revocations', 'Count', 1, { kind: failed.kind, outcome: 'failed' });
        }
      }
      return errors.keys();
    },
  },
});
