/**
 * Workload-end events (default bus) and Sundown's own events (its bus) ->
 * revocation requests and registrations. Thin: trust check, classify, call
 * the service. Bad input is audited as rejected and never retried.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { bindInvocation, buildDeps } from '../shared/bootstrap.ts';
import { classifyEvent } from '../shared/domain/classify-event.ts';
import { parseBody, untrustedReason } from '../shared/handlers/event-trust.ts';
import { flushMetrics, logger, metrics } from '../shared/powertools.ts';
import { endWorkload } from '../shared/services/end-workload.ts';
import { recordRegistration } from '../shared/services/record-credential.ts';
import { rejectEvent } from '../shared/services/reject-event.ts';

const deps = buildDeps('workload-ended');
const processor = new BatchProcessor(EventType.SQS);

async function handleRecord(record: SQSRecord): Promise<void> {
  const fromSundownBus = record.eventSourceARN === deps.config.SUNDOWN_BUS_QUEUE_ARN;
  const parsed = parseBody(record.body);
  if (!parsed.ok) return rejectEvent(deps, parsed.reason, undefined);
  const classification = classifyEvent(parsed.value, {
    stoppedEndsWorkload: deps.config.SUNDOWN_STOPPED_ENDS_WORKLOAD,
    account: deps.account,
    region: deps.region,
    busName: fromSundownBus ? deps.config.SUNDOWN_EVENT_BUS : 'default',
  });
  const untrusted = untrustedReason(parsed.value, { fromSundownBus, account: deps.account });
  if (untrusted) {
    metrics.addMetric('EventsRejected', 'Count', 1);
    return rejectEvent(deps, untrusted, classification.trigger);
  }
  switch (classification.kind) {
    case 'workload-ended': {
      const outcome = await endWorkload(deps, classification);
      logger.info('workload ended', { workloadId: classification.workload.id, ...outcome });
      return;
    }
    case 'credential-issued':
      await recordRegistration(deps, classification.registration, 'event', classification.trigger);
      return;
    case 'rejected':
      metrics.addMetric('EventsRejected', 'Count', 1);
      return rejectEvent(deps, classification.reason, classification.trigger);
    default:
      logger.debug('event ignored', { kind: classification.kind, trigger: classification.trigger });
  }
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
