/**
 * Revocation work from the FIFO queue (one message group per principal):
 * render and write deny policies, deactivate keys, revoke certificates.
 * A message that keeps failing leaves its credentials `failed` (audited) on
 * its last attempt, then goes to the DLQ; nothing is lost.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { CertificateRevoker } from '../shared/adapters/certificate-revoker.ts';
import { RolePolicyWriter } from '../shared/adapters/role-policy-writer.ts';
import { UserPolicyWriter } from '../shared/adapters/user-policy-writer.ts';
import { bindInvocation, buildDeps } from '../shared/bootstrap.ts';
import { clients } from '../shared/clients.ts';
import { parseBody } from '../shared/handlers/event-trust.ts';
import { flushMetrics, logger, recordMetric } from '../shared/powertools.ts';
import { RevocationMessageSchema } from '../shared/schemas/revocation-message.ts';
import { applyRevocation, markFailed } from '../shared/services/apply-revocation.ts';
import { rejectEvent } from '../shared/services/reject-event.ts';
import type { CertificateRevokerDeps } from '../shared/services/revoke-certificates.ts';
import type { UserRevokerDeps } from '../shared/services/revoke-user.ts';

const deps: UserRevokerDeps & CertificateRevokerDeps = {
  ...buildDeps('revoker'),
  rolePolicies: new RolePolicyWriter(clients.iam()),
  userPolicies: new UserPolicyWriter(clients.iam()),
  certificates: new CertificateRevoker(clients.acmPca()),
  metricsSink: (name, value, unit, dimensions) => recordMetric(name, unit, value, dimensions),
};
const processor = new SqsFifoPartialProcessorAsync();

async function handleRecord(record: SQSRecord): Promise<void> {
  const parsed = parseBody(record.body);
  const message = parsed.ok ? RevocationMessageSchema.safeParse(parsed.value) : undefined;
  if (!message?.success) {
    recordMetric('EventsRejected', 'Count', 1);
    return rejectEvent(deps, `invalid revocation message ${record.messageId}`, undefined);
  }
  try {
    const outcome = await applyRevocation(deps, message.data);
    logger.info('revocation applied', { target: message.data.target, ...outcome });
  } catch (err) {
    const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
    logger.error('revocation failed', { attempt, error: err as Error });
    if (attempt >= deps.config.SUNDOWN_REVOCATION_MAX_RECEIVE) {
      for (const failed of await markFailed(deps, message.data, err)) {
        recordMetric('RevocationsFailed', 'Count', 1);
        recordMetric('Revocations', 'Count', 1, { kind: failed.kind, outcome: 'failed' });
      }
    }
    throw err;
  }
}

export const handler = async (event: SQSEvent, context: Context) => {
  bindInvocation(deps, context);
  try {
    return await processPartialResponse(event, handleRecord, processor, { context });
  } finally {
    flushMetrics();
  }
};
