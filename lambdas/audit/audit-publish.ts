/**
 * Every audit record is also published on Sundown's bus (source `sundown.audit`), so SIEMs and chat
 * alerts can subscribe. The chain in DynamoDB is the source of truth: a notification that cannot be
 * published is reported, never retried into a duplicate record.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { inChunks } from '../shared/chunks.ts';
import { type ClientSource, clientOf, once } from '../shared/clients.ts';
import { AUDIT_EVENT_SOURCE } from '../shared/contract.ts';
import type { AuditRecord, AuditRecordType } from '../shared/schemas/audit-record.ts';

/** The EventBridge SDK package, imported when the first record is published (not at cold start). */
const eventBridgeSdk = once(() => import('@aws-sdk/client-eventbridge'));

export { AUDIT_EVENT_SOURCE };
export const AUDIT_DETAIL_TYPES: Record<AuditRecordType, string> = {
  issued: 'Credential Recorded',
  'revocation-requested': 'Credential Revocation Requested',
  revoked: 'Credential Revoked',
  skipped: 'Credential Skipped',
  'dry-run': 'Credential Revocation Dry Run',
  rejected: 'Event Rejected',
  failed: 'Credential Revocation Failed',
  expired: 'Credential Expired',
  pruned: 'Deny Entry Pruned',
  drift: 'Reconciliation Drift',
  'policy-resized': 'Deny Policy Re-rendered',
  'use-after-revoke': 'Use After Revoke Recorded',
  refused: 'Broker Request Refused',
};

/** EventBridge PutEvents takes at most 10 entries. */
const MAX_EVENTS_PER_PUT = 10;

export interface AuditPublisher {
  events: ClientSource<EventBridgeClient>;
  busName: string;
  onError?: (err: unknown) => void;
}

/**
 * Puts `records` on the bus, 10 per PutEvents, `concurrency` calls at a time (one by default);
 * failures go to `onError`, never thrown.
 */
export async function publishAuditRecords(
  publisher: AuditPublisher,
  records: readonly AuditRecord[],
  concurrency = 1,
): Promise<void> {
  await inChunks(
    records,
    MAX_EVENTS_PER_PUT,
    async (chunk) => {
      try {
        const [events, { PutEventsCommand }] = await Promise.all([
          clientOf(publisher.events),
          eventBridgeSdk(),
        ]);
        const res = await events.send(
          new PutEventsCommand({
            Entries: chunk.map((record) => ({
              EventBusName: publisher.busName,
              Source: AUDIT_EVENT_SOURCE,
              DetailType: AUDIT_DETAIL_TYPES[record.type],
              Detail: JSON.stringify(record),
              Resources: [],
            })),
          }),
        );
        if ((res.FailedEntryCount ?? 0) > 0) {
          const failed = res.Entries?.find((e) => e.ErrorCode || e.ErrorMessage);
          throw new Error(failed?.ErrorMessage ?? `PutEvents failed for ${res.FailedEntryCount} entries`);
        }
      } catch (err) {
        // The records are already in the chain (the source of truth); a lost
        // notification must not turn into a duplicate record through a retry.
        publisher.onError?.(err);
      }
    },
    concurrency,
  );
}
