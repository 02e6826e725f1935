import type { Trigger } from '../../triggers/envelope.ts';
import type { AuditRecordInput } from '../schemas/audit-record.ts';
import { auditTrigger } from './audit-helpers.ts';
import type { ServiceDeps } from './deps.ts';

/** The `rejected` audit record of bad or untrusted input, to append now or with a batch. */
export function rejectionRecord(
  deps: Pick<ServiceDeps, 'now' | 'actor'>,
  reason: string,
  trigger: Trigger | undefined,
): AuditRecordInput {
  return {
    type: 'rejected',
    at: deps.now().toISOString(),
    actor: deps.actor,
    trigger: auditTrigger(trigger, 'event'),
    // The account the event came from (an untrusted one too: that is what a reader looks for).
    ...(trigger?.account && /^\d{12}$/.test(trigger.account) ? { account: trigger.account } : {}),
    outcome: 'rejected',
    reason: reason.slice(0, 1000),
  };
}

/** Bad or untrusted input is audited as `rejected` and never retried (no crash loop). */
export async function rejectEvent(
  deps: ServiceDeps,
  reason: string,
  trigger: Trigger | undefined,
): Promise<void> {
  await deps.audit.append(rejectionRecord(deps, reason, trigger));
}
