import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * Lambda's partial batch response for a batch handled as a whole: the IDs of the records that
 * failed (they are received again, then go to the DLQ); an empty list means every record is done.
 */
export function batchResponse(event: SQSEvent, failed: ReadonlySet<string>): SQSBatchResponse {
  return {
    batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}

/** Whether a function that is both scheduled (through its ticks queue) and invoked directly got an SQS batch. */
export function isSqsEvent(event: unknown): event is SQSEvent {
  return Array.isArray((event as { Records?: unknown } | null)?.Records);
}
