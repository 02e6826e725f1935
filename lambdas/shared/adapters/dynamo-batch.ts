import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { inChunks } from '../chunks.ts';

type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

/** BatchWriteItem in chunks of 25, retrying unprocessed items with backoff until all are written. */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: WriteRequests,
): Promise<void> {
  await inChunks(requests, 25, async (chunk) => {
    let pending: WriteRequests = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8)
        throw new Error(`DynamoDB left ${pending.length} writes unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = res.UnprocessedItems?.[tableName] ?? [];
    }
  });
}
