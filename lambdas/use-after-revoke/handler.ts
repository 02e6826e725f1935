/**
 * CloudTrail access-denied events from the default bus (through the UseAfterRevoke queue): alerts
 * once per revoked session and window when a session Sundown revoked is still being used.
 */
import { buildDeps } from '../shared/bootstrap.ts';
import { clients, lazyClients } from '../shared/clients.ts';
import { parseBody } from '../shared/handlers/event-trust.ts';
import { eachItem, sqsBatchHandler } from '../shared/handlers/sqs-batch.ts';
import { logger, recordMetric } from '../shared/powertools.ts';
import { readUseAfterRevokeConfig } from '../shared/runtime-config.ts';
import { handleAccessDenied, type UseAfterRevokeDeps } from './access-denied.ts';
import { UseAfterRevokeAlerts } from './alerts.ts';
import { UseAfterRevokeStore } from './store.ts';

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
  // The invocation is bound to `base` (sqs-batch.ts): its actor is the one audited here too.
  get actor() {
    return base.actor;
  },
  account: base.account,
  windowSeconds,
  now: () => new Date(),
};

export const handler = sqsBatchHandler({
  deps: base,
  parse: (record) => {
    const body = parseBody(record.body);
    if (!body.ok) return { kind: 'rejected', reason: `use-after-revoke: ${body.reason}` };
    return { kind: 'access-denied' as const, event: body.value };
  },
  process: {
    'access-denied': (items) =>
      eachItem(
        items,
        async ({ messageId, value }) => {
          const outcome = await handleAccessDenied(deps, value.event);
          logger.info('access-denied event handled', { messageId, outcome });
        },
        {
          concurrent: false,
          onError: ({ messageId }, error) =>
            logger.error('access-denied event failed', { messageId, error: error as Error }),
        },
      ),
  },
});
