/**
 * Workload-end events (default bus) and Sundown's own events (its bus) ->
 * revocation requests and registrations. The batch is handled as a whole:
 * every end in it goes through the batch engine together (one registry read,
 * one message per role), bad input is audited as rejected and never retried,
 * and only the records that could not be handled are reported as failures.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { endWorkloads, type WorkloadEnded } from '../revocation/intake.ts';
import { appendAll } from '../shared/adapters/audit-log.ts';
import { bindInvocation, buildDeps, hubTrust, servesAccount } from '../shared/bootstrap.ts';
import { batchResponse } from '../shared/handlers/batch-response.ts';
import { parseBody, untrustedReason } from '../shared/handlers/event-trust.ts';
import { flushMetrics, logger, metrics } from '../shared/powertools.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';
import { type RegistrationRequest, recordRegistrations } from '../shared/services/record-credential.ts';
import { rejectionRecord } from '../shared/services/reject-event.ts';
import { type Classification, classifyEvent } from '../triggers/classify.ts';

const deps = buildDeps('workload-ended');

function classify(record: SQSRecord): Classification | { kind: 'invalid'; reason: string } {
  const fromSundownBus = record.eventSourceARN === deps.config.SUNDOWN_BUS_QUEUE_ARN;
  const parsed = parseBody(record.body);
  if (!parsed.ok) return { kind: 'invalid', reason: parsed.reason };
  const classification = classifyEvent(parsed.value, {
    stoppedEndsWorkload: deps.config.SUNDOWN_STOPPED_ENDS_WORKLOAD,
    account: deps.account,
    region: deps.region,
    serves: servesAccount(deps),
    busName: fromSundownBus ? deps.config.SUNDOWN_EVENT_BUS : 'default',
  });
  const untrusted = untrustedReason(parsed.value, {
    fromSundownBus,
    account: deps.account,
    ...hubTrust(deps),
  });
  if (untrusted) return { kind: 'rejected', reason: untrusted, trigger: classification.trigger };
  return classification;
}

export const handler = async (event: SQSEvent, context: Context) => {
  bindInvocation(deps, context);
  const failed = new Set<string>();
  const rejections: AuditRecordInput[] = [];
  const rejectedIds: string[] = [];
  const ends: { messageId: string; end: WorkloadEnded }[] = [];
  const registrations: { messageId: string; request: RegistrationRequest }[] = [];
  try {
    for (const record of event.Records) {
      const classification = classify(record);
      switch (classification.kind) {
        case 'invalid':
        case 'rejected':
          metrics.addMetric('EventsRejected', 'Count', 1);
          rejectedIds.push(record.messageId);
          rejections.push(
            rejectionRecord(
              deps,
              classification.reason,
              'trigger' in classification ? classification.trigger : undefined,
            ),
          );
          break;
        case 'workload-ended':
          ends.push({ messageId: record.messageId, end: classification });
          break;
        case 'credential-issued':
          registrations.push({
            messageId: record.messageId,
            request: {
              registration: classification.registration,
              issuer: 'event',
              trigger: classification.trigger,
            },
          });
          break;
        default:
          logger.debug('event ignored', { kind: classification.kind, trigger: classification.trigger });
      }
    }
    if (registrations.length > 0) {
      const results = await recordRegistrations(
        deps,
        registrations.map((r) => r.request),
      ).catch((error: unknown) => registrations.map(() => ({ ok: false as const, error })));
      results.forEach((result, i) => {
        if (result.ok) return;
        const { messageId } = registrations[i] as (typeof registrations)[number];
        logger.error('registration failed', { messageId, error: result.error as Error });
        failed.add(messageId);
      });
    }
    if (ends.length > 0) {
      try {
        const results = await endWorkloads(
          deps,
          ends.map((e) => e.end),
        );
        results.forEach((result, i) => {
          const { messageId, end } = ends[i] as (typeof ends)[number];
          if (result.ok) logger.info('workload ended', { workloadId: end.workload.id, ...result.outcome });
          else {
            logger.error('workload end failed', {
              workloadId: end.workload.id,
              error: result.error as Error,
            });
            failed.add(messageId);
          }
        });
      } catch (error) {
        logger.error('batch of workload ends failed', { ends: ends.length, error: error as Error });
        for (const e of ends) failed.add(e.messageId);
      }
    }
    // Rejections are final: audited once, never retried. If the audit write fails, the
    // rejected records are retried with the batch's failures.
    try {
      await appendAll(deps.audit, rejections);
    } catch (error) {
      logger.error('rejections could not be audited', { error: error as Error });
      for (const messageId of rejectedIds) failed.add(messageId);
    }
    return batchResponse(event, failed);
  } finally {
    flushMetrics();
  }
};
