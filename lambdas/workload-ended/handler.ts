/**
 * Workload-end events (default bus) and Sundown's own events (its bus) ->
 * revocation requests and registrations. The batch is handled as a whole:
 * every end in it goes through the batch engine together (one registry read,
 * one message per role), and so do its registrations. Bad input is audited as
 * rejected and never retried, and only the records that could not be handled
 * are reported as failures (lambdas/shared/handlers/sqs-batch.ts).
 */

import { recordRegistrations } from '../registration/index.ts';
import { endWorkloads } from '../revocation/index.ts';
import { buildDeps } from '../shared/bootstrap.ts';
import { classifyRecord } from '../shared/handlers/classify-record.ts';
import { sqsBatchHandler } from '../shared/handlers/sqs-batch.ts';
import { logger } from '../shared/powertools.ts';

// Audit events go out after each batch's revocation messages (awaited by the handler factory).
const deps = buildDeps('workload-ended', { deferAuditPublish: true });

export const handler = sqsBatchHandler({
  deps,
  parse: (record) =>
    classifyRecord(deps, record, {
      fromSundownBus: record.eventSourceARN === deps.config.SUNDOWN_BUS_QUEUE_ARN,
      stoppedEndsWorkload: deps.config.SUNDOWN_STOPPED_ENDS_WORKLOAD,
    }),
  process: {
    'credential-issued': async (items) => {
      const results = await recordRegistrations(
        deps,
        items.map(({ value }) => ({
          registration: value.registration,
          issuer: 'event',
          trigger: value.trigger,
        })),
      );
      return items.flatMap(({ messageId }, i) => {
        const result = results[i];
        if (result?.ok) return [];
        logger.error('registration failed', { messageId, error: result?.error as Error });
        return [messageId];
      });
    },
    'workload-ended': async (items) => {
      const results = await endWorkloads(
        deps,
        items.map((item) => item.value),
      );
      return items.flatMap(({ messageId, value: end }, i) => {
        const result = results[i];
        if (result?.ok) {
          logger.info('workload ended', { workloadId: end.workload.id, ...result.outcome });
          return [];
        }
        logger.error('workload end failed', { workloadId: end.workload.id, error: result?.error as Error });
        return [messageId];
      });
    },
  },
});
