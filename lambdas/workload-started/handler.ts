/**
 * Workload-start events -> the credential registry (discovery: credentials
 * issued by the platform, without the workload's cooperation).
 */

import { recordDiscoveredSession } from '../registration/index.ts';
import { buildDeps } from '../shared/bootstrap.ts';
import { classifyRecord } from '../shared/handlers/classify-record.ts';
import { eachItem, sqsBatchHandler } from '../shared/handlers/sqs-batch.ts';
import { logger } from '../shared/powertools.ts';

// Audit events go out after each batch's work (awaited by the handler factory).
const deps = buildDeps('workload-started', { deferAuditPublish: true });

export const handler = sqsBatchHandler({
  deps,
  parse: (record) => classifyRecord(deps, record, { fromSundownBus: false }),
  process: {
    // Records of a batch run concurrently: that lets the deny entries of a burst
    // reach the store before the revoker renders, so one IAM write covers many
    // (the audit chain head makes concurrent appends retry; that costs less).
    'workload-started': (items) =>
      eachItem(
        items,
        async ({ value: started }) => {
          const record = await recordDiscoveredSession(
            deps,
            started.workload,
            started.roleHint,
            started.trigger,
            started.startedAt,
          );
          if (!record) logger.info('no role found for workload', { workloadId: started.workload.id });
        },
        {
          concurrent: true,
          onError: ({ messageId }, error) =>
            logger.warn('workload start not recorded (retried)', { messageId, error: error as Error }),
        },
      ),
  },
});
