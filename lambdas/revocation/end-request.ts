/**
 * What one workload end asks of the intake: its shape, its outcome, and the small rules about it
 * (which statuses it may revoke, how it was initiated).
 */

import type { CredentialRecord, CredentialStatus } from '../shared/schemas/credential.ts';
import type { Classification } from '../triggers/index.ts';

export type WorkloadEnded = Extract<Classification, { kind: 'workload-ended' }>;

export interface EndOutcome {
  requested: string[];
  skipped: string[];
  dryRun: string[];
  duplicates: string[];
}

/** Trigger source of the reconciliation sweep's requests (audited with trigger kind `reconciliation`). */
export const RECONCILIATION_SOURCE = 'sundown.reconciliation';

/** How an end was initiated, as the audit trail's trigger kind. */
export function triggerKindOf(trigger: { source?: string }): string {
  if (trigger.source === RECONCILIATION_SOURCE) return 'reconciliation';
  return trigger.source === 'sundown' ? 'custom-event' : 'event';
}

/** The outcome for one end of a batch: what it did, or why it could not be handled (then retried). */
export type BatchEndResult = { ok: true; outcome: EndOutcome } | { ok: false; error: unknown };

/** One end's request for revocation, while the batch is assembled. */
export interface Planned {
  end: number;
  credential: CredentialRecord;
  endedAt: string;
  principal?: string;
  /** Already `revoking` when read: its earlier request was interrupted, so it is sent again. */
  resend: boolean;
}

export function emptyOutcome(): EndOutcome {
  return { requested: [], skipped: [], dryRun: [], duplicates: [] };
}

/** A manual revoke of named credentials may also retry failed or skipped ones. */
export function eligibleFor(event: WorkloadEnded): CredentialStatus[] {
  return event.credentialIds ? ['active', 'failed', 'skipped'] : ['active'];
}

/** The sweep found the workload gone or ended although no end event was processed. */
export function missedFlag(event: WorkloadEnded): Record<string, boolean> {
  return triggerKindOf(event.trigger) === 'reconciliation' ? { endEventMissed: true } : {};
}

/**
 * The earliest end of each workload owns it (ties: the first in the batch); the batch's later ends
 * of the same workload (an EC2 `shutting-down`, then `terminated`) are duplicates of their owner.
 */
export function ownersOf(events: readonly WorkloadEnded[]): {
  owner: Map<string, number>;
  duplicateOf: Map<number, number>;
} {
  const order = events
    .map((_, i) => i)
    .sort((a, b) => {
      const ea = events[a] as WorkloadEnded;
      const eb = events[b] as WorkloadEnded;
      return ea.endedAt < eb.endedAt ? -1 : ea.endedAt > eb.endedAt ? 1 : a - b;
    });
  const owner = new Map<string, number>();
  const duplicateOf = new Map<number, number>();
  for (const i of order) {
    const id = (events[i] as WorkloadEnded).workload.id;
    const first = owner.get(id);
    if (first === undefined) owner.set(id, i);
    else duplicateOf.set(i, first);
  }
  return { owner, duplicateOf };
}

/** A duplicate end shares its owner's fate: its failure, or everything it did, as duplicates. */
export function settleDuplicates(results: BatchEndResult[], duplicateOf: ReadonlyMap<number, number>): void {
  for (const [i, first] of duplicateOf) {
    const ownerResult = results[first];
    if (!ownerResult?.ok) {
      results[i] = ownerResult ?? { ok: false, error: new Error('not processed') };
      continue;
    }
    // A duplicate is never processed itself, so its result is still the ok one the batch began with.
    (results[i] as { ok: true; outcome: EndOutcome }).outcome.duplicates.push(
      ...ownerResult.outcome.requested,
      ...ownerResult.outcome.skipped,
      ...ownerResult.outcome.dryRun,
      ...ownerResult.outcome.duplicates,
    );
  }
}
