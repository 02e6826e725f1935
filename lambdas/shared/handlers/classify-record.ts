/**
 * An EventBridge event delivered through SQS, classified (lambdas/triggers/) once its body is JSON
 * and its origin is trusted (event-trust.ts); anything else is `rejected`, with the trigger when
 * one can be named. Shared by the functions that read workload events.
 */
import type { SQSRecord } from 'aws-lambda';
import { type Classification, classifyEvent } from '../../triggers/classify.ts';
import { hubTrust, servesAccount } from '../bootstrap.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { parseBody, untrustedReason } from './event-trust.ts';
import type { Rejected } from './sqs-batch.ts';

export interface RecordSource {
  /** The record came through Sundown's own bus (custom events), not the default bus. */
  fromSundownBus: boolean;
  /** EC2 `stopped` ends a workload (the function's config). */
  stoppedEndsWorkload?: boolean;
}

export function classifyRecord(
  deps: Pick<ServiceDeps, 'account' | 'accounts' | 'region' | 'config'>,
  record: SQSRecord,
  source: RecordSource,
): Classification | Rejected {
  const parsed = parseBody(record.body);
  if (!parsed.ok) return { kind: 'rejected', reason: parsed.reason };
  const classification = classifyEvent(parsed.value, {
    stoppedEndsWorkload: source.stoppedEndsWorkload,
    account: deps.account,
    region: deps.region,
    serves: servesAccount(deps),
    busName: source.fromSundownBus ? deps.config.SUNDOWN_EVENT_BUS : 'default',
  });
  const untrusted = untrustedReason(parsed.value, {
    fromSundownBus: source.fromSundownBus,
    account: deps.account,
    ...hubTrust(deps),
  });
  if (untrusted) return { kind: 'rejected', reason: untrusted, trigger: classification.trigger };
  return classification;
}
