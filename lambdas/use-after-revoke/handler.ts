/**
 * CloudTrail access-denied events from the default bus (through the UseAfterRevoke queue): alerts
 * once per revoked session and window when a session Sundown revoked is still being used.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { UseAfterRevokeAlerts } from '../shared/adapters/use-after-revoke-alerts.ts';
import { UseAfterRevokeStore } from '../shared/adapters/use-after-revoke-store.ts';
import { bindInvocation, buildDeps } from '../shared/bootstrap.ts';
import { clients, lazyClients } from '../shared/clients.ts';
import { batchResponse } from '../shared/handlers/batch-response.ts';
import { parseBody } from '../shared/handlers/event-trust.ts';
import { flushMetrics, logger, recordMetric } from '../shared/powertools.ts';
import { readUseAfterRevokeConfig } from '../shared/runtime-config.ts';
import { rejectEvent } from '../shared/services/reject-event.ts';
import { handleAccessDenied, type UseAfterRevokeDeps } from '../shared/services/use-after-revoke.ts';

const base = buildDeps('use-after-revoke');
const { SUNDOWN_UAR_TOPIC_ARN: topicArn, SUNDOWN_UAR_WINDOW_SECONDS: windowSeconds } =
  readUseAfterRevokeConfig();
const deps: UseAfterRevokeDeps = {
  store: new UseAfterRevokeStore(clients.dynamo(), base.config.SUNDOWN_REVOCATIONS_TABLE),
  audit: base.audit,
  alerts: new UseAfterRevokeAlerts({
    events: lazyClients.events,
    sns: lazyClients.sns,
    busName: base.config.SUNDOWN_EVENT_BUS,
    topicArn,
  }),
  metric: (name, value) => recordMetric(name, 'Count', value),
  debug: (message, fields) => logger.debug(message, fields),
  actor: base.actor,
  account: base.account,
  windowSeconds,
  now: () => new Date(),
};

export const handler = async (event: SQSEvent, context: Context) => {
  bindInvocation(base, context);
  deps.actor = base.actor;
  const failed = new Set<string>();
  try {
    for (const record of event.Records) {
      try {
        const body = parseBody(record.body);
        if (!body.ok) {
          recordMetric('EventsRejected', 'Count', 1);
          await rejectEvent(base, `use-after-revoke: ${body.reason}`, undefined);
          continue;
        }
        const outcome = await handleAccessDenied(deps, body.value);
        logger.info('access-denied event handled', { messageId: record.messageId, outcome });
      } catch (err) {
        logger.error('access-denied event failed', { messageId: record.messageId, error: err as Error });
        failed.add(record.messageId);
      }
    }
    return batchResponse(event, failed);
  } finally {
    flushMetrics();
  }
};
