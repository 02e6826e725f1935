/**
 * The credential registry's item shapes and the DynamoDB mechanics under it (index keys, update
 * expressions, batched reads with unprocessed keys retried). Used by credential-registry.ts.
 */
import { createHash } from 'node:crypto';
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { inChunks } from '../shared/chunks.ts';
import {
  type CredentialKind,
  type CredentialRecord,
  CredentialRecordSchema,
  type CredentialStatus,
} from '../shared/schemas/credential.ts';

export const CREDENTIALS_BY_WORKLOAD = 'byWorkload';
export const CREDENTIALS_BY_STATUS = 'byStatus';

/**
 * Key of a workload's index item in the registry table: the IDs of every credential recorded for
 * the workload, written in the same transaction as each credential. Ending a workload reads it with
 * a strongly consistent read, so a credential recorded a moment before the end is never missed (a
 * GSI query can lag behind the table). Its attributes keep it out of both GSIs.
 */
export function workloadIndexKey(workloadId: string): string {
  return `wl-${createHash('sha256').update(workloadId, 'utf8').digest('hex').slice(0, 40)}`;
}

/** The index items for credentials written directly (bench and test set-up), one per workload. */
export function workloadIndexItems(records: readonly CredentialRecord[]): Record<string, unknown>[] {
  const byWorkload = new Map<string, Set<string>>();
  for (const r of records) {
    const ids = byWorkload.get(r.workloadId) ?? new Set<string>();
    ids.add(r.credentialId);
    byWorkload.set(r.workloadId, ids);
  }
  return [...byWorkload].map(([workloadId, ids]) => ({
    credentialId: workloadIndexKey(workloadId),
    indexedWorkloadId: workloadId,
    credentialIds: ids,
  }));
}

/** A conditional state change, as {@link CredentialRegistry.transitionMany} takes it. */
export interface TransitionRequest {
  credentialId: string;
  from: readonly CredentialStatus[];
  to: CredentialStatus;
  fields?: Partial<Omit<CredentialRecord, 'credentialId' | 'status'>>;
}

/** DynamoDB's limits: 100 actions per transaction, 100 keys per BatchGetItem. */
export const MAX_TRANSACTION_ITEMS = 100;
export const MAX_BATCH_GET_KEYS = 100;
export const MAX_UNPROCESSED_ATTEMPTS = 8;

export function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
}

export function updateParts(
  to: CredentialStatus,
  from: readonly CredentialStatus[],
  fields: Partial<Omit<CredentialRecord, 'credentialId' | 'status'>>,
) {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':to': to };
  const sets = ['#status = :to'];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  const allowed = from.map((s, i) => {
    values[`:from${i}`] = s;
    return `:from${i}`;
  });
  return {
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: `attribute_exists(credentialId) AND #status IN (${allowed.join(', ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export interface ListOptions {
  workloadId?: string;
  status?: CredentialStatus;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** With `status` alone: only credentials whose `expiresAt` is before this instant (ISO). */
  expiresBefore?: string;
  /** Only these kinds (a filter: a page may hold fewer than `limit` items, follow the cursor). */
  kinds?: readonly CredentialKind[];
}

export interface Page<T> {
  items: T[];
  cursor?: string;
}

export function parse(item: Record<string, unknown>): CredentialRecord {
  return CredentialRecordSchema.parse(item);
}

/**
 * Items by registry key, strongly consistent, 100 keys per call, unprocessed keys retried.
 * `keysOnly` reads just the key (to learn which exist).
 */
export async function batchGetItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly string[],
  options: { keysOnly?: boolean } = {},
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const unique = [...new Set(keys)];
  await inChunks(unique, MAX_BATCH_GET_KEYS, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk.map((credentialId) => ({ credentialId }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > MAX_UNPROCESSED_ATTEMPTS)
        throw new Error(`DynamoDB left ${pending.length} reads unprocessed after ${attempt} attempts`);
      if (attempt > 0) await backoff(attempt);
      const res = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ...(options.keysOnly ? { ProjectionExpression: 'credentialId' } : {}),
            },
          },
        }),
      );
      for (const item of res.Responses?.[tableName] ?? []) found.set(String(item.credentialId), item);
      pending = (res.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
  });
  return found;
}

/** Credentials in `status` by kind, through the status index (keys only), up to `cap`. */
export async function countByKind(
  doc: DynamoDBDocumentClient,
  tableName: string,
  status: CredentialStatus,
  cap: number,
): Promise<{ counts: Record<CredentialKind, number>; total: number; truncated: boolean }> {
  const counts: Record<CredentialKind, number> = { 'role-session': 0, 'access-key': 0, certificate: 0 };
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: CREDENTIALS_BY_STATUS,
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status', '#kind': 'kind' },
        ExpressionAttributeValues: { ':s': status },
        ProjectionExpression: '#kind',
        Limit: Math.min(1000, cap - total),
        ExclusiveStartKey: start,
      }),
    );
    for (const item of res.Items ?? []) {
      const kind = item.kind as CredentialKind;
      if (kind in counts) counts[kind]++;
      total++;
    }
    start = res.LastEvaluatedKey;
  } while (start && total < cap);
  return { counts, total, truncated: start !== undefined };
}
