import type { Trigger } from '../domain/classify-event.ts';
import { auditTrigger } from './audit-helpers.ts';
import type { ServiceDeps } from './deps.ts';

/** Bad or untrusted input is audited as `rejected` and never retried (no crash loop). */
export async function rejectEvent(
  deps: ServiceDeps,
  reason: string,
  trigger: Trigger | undefined,
): Promise<void> {
  await deps.audit.append({
    type: 'rejected',
    at: deps.now().toISOString(),
    actor: deps.actor,
    trigger: auditTrigger(trigger, 'event'),
    outcome: 'rejected',
    reason: reason.slice(0, 1000),
  });
}
