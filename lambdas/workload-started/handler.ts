/**
 * Workload-start events -> the credential registry (discovery: credentials
 * issued by the platform, without the workload's cooperation).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { bindInvocation, buildDeps, hubTrust, servesAccount } from '../shared/bootstrap.ts';
import { parseBody, untrustedReason } from '../shared/handlers/event-trust.ts';
import { flushMetrics, logger, metrics } from '../shared/powertools.ts';
import { recordDiscoveredSession } from '../shared/services/record-credential.ts';
import { rejectEvent } from '../shared/services/reject-event.ts';
import { classifyEvent } from '../triggers/classify.ts';

const deps = buildDeps('workload-started');
const processor = new BatchProcessor(EventType.SQS);

async function handleRecord(record: SQSRecord): Promise<void> {
  const parsed = parseBody(record.body);
  if (!parsed.ok) return rejectEvent(deps, parsed.reason, undefined);
  const classification = classifyEvent(parsed.value, {
    account: deps.account,
    region: deps.region,
    serves: servesAccount(deps),
    busName: 'default',
  });
  const untrusted = untrustedReason(parsed.value, {
    fromSundownBus: false,
    account: deps.account,
    ...hubTrust(deps),
  });
  if (untrusted) return rejectEvent(deps, untrusted, classification.trigger);
  if (classification.kind === 'rejected') {
    metrics.addMetric('EventsRejected', 'Count', 1);
    return rejectEvent(deps, classification.reason, classification.trigger);
  }
  if (classification.kind !== 'workload-started') {
    logger.debug('event ignored', { kind: classification.kind });
    return;
  }
  const record_ = await recordDiscoveredSession(
    deps,
    classification.workload,
    classification.roleHint,
    classification.trigger,
    classification.startedAt,
  );
  if (!record_) logger.info('no role found for workload', { workloadId: classification.workload.id });
}

export const handler = async (event: SQSEvent, context: Context) => {
  bindInvocation(deps, context);
  try {
    // Records of a batch run concurrently: that lets the deny entries of a burst
    // reach the store before the revoker renders, so one IAM write covers many
    // (the audit chain head makes concurrent appends retry; that costs less).
    return await processPartialResponse(event, handleRecord, processor, { context });
  } finally {
    flushMetrics();
  }
};
