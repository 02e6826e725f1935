/**
 * The credential registry in DynamoDB. Items are validated with the shared
 * schema on the way in and out; state changes are conditional updates, so a
 * duplicated event can never move a credential twice (the idempotency of the
 * whole pipeline rests on these conditions).
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type CredentialKind,
  type CredentialRecord,
  CredentialRecordSchema,
  type CredentialStatus,
} from '../schemas/credential.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

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
const MAX_TRANSACTION_ITEMS = 100;
const MAX_BATCH_GET_KEYS = 100;
const MAX_UNPROCESSED_ATTEMPTS = 8;

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
}

function updateParts(
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

function parse(item: Record<string, unknown>): CredentialRecord {
  return CredentialRecordSchema.parse(item);
}

export class CredentialRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Records a credential once. Recording the same credential again (events
   * arrive at least once) leaves the stored record as it is.
   */
  async record(record: CredentialRecord): Promise<{ created: boolean; record: CredentialRecord }> {
    const item = CredentialRecordSchema.parse(record);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: item,
                ConditionExpression: 'attribute_not_exists(credentialId)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { credentialId: workloadIndexKey(item.workloadId) },
                // Kept as long as the credential (last writer wins; a missing index item only
                // means the slower GSI lookup).
                UpdateExpression: `SET indexedWorkloadId = :w${item.ttl ? ', #ttl = :ttl' : ''} ADD credentialIds :id`,
                ...(item.ttl ? { ExpressionAttributeNames: { '#ttl': 'ttl' } } : {}),
                ExpressionAttributeValues: {
                  ':w': item.workloadId,
                  ':id': new Set([item.credentialId]),
                  ...(item.ttl ? { ':ttl': item.ttl } : {}),
                },
              },
            },
          ],
        }),
      );
      return { created: true, record: item };
    } catch (err) {
      const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
      if (!(err instanceof TransactionCanceledException) || reasons[0]?.Code !== 'ConditionalCheckFailed') {
        throw err;
      }
      const existing = await this.get(item.credentialId);
      return { created: false, record: existing ?? item };
    }
  }

  async get(credentialId: string): Promise<CredentialRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { credentialId }, ConsistentRead: true }),
    );
    return res.Item ? parse(res.Item) : undefined;
  }

  /**
   * Which of these credential IDs are recorded (BatchGetItem, 100 per call, only the key read),
   * e.g. to find deny entries whose credential has no registry record.
   */
  async existing(credentialIds: readonly string[]): Promise<Set<string>> {
    return new Set((await this.batchGet(credentialIds, { keysOnly: true })).keys());
  }

  /** Every credential recorded for a workload, through the workload index (never a scan). */
  async forWorkload(workloadId: string): Promise<CredentialRecord[]> {
    const items: CredentialRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list({ workloadId, limit: 100, cursor });
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return items;
  }

  /**
   * Every credential recorded for each workload, strongly consistent: one BatchGetItem for the
   * workloads' index items and one for their credentials, per 100 keys. A workload without an
   * index item (recorded before index items existed) is looked up through the workload GSI.
   */
  async forWorkloads(workloadIds: readonly string[]): Promise<Map<string, CredentialRecord[]>> {
    const unique = [...new Set(workloadIds)];
    const out = new Map<string, CredentialRecord[]>(unique.map((id) => [id, []]));
    const indexItems = await this.batchGet(unique.map(workloadIndexKey));
    const idsByWorkload = new Map<string, string[]>();
    const unindexed: string[] = [];
    for (const workloadId of unique) {
      const index = indexItems.get(workloadIndexKey(workloadId));
      if (!index) unindexed.push(workloadId);
      else idsByWorkload.set(workloadId, [...((index.credentialIds as Set<string>) ?? [])].sort());
    }
    const credentials = await this.batchGet([...idsByWorkload.values()].flat());
    for (const [workloadId, ids] of idsByWorkload) {
      const records = ids.flatMap((id) => {
        const item = credentials.get(id);
        return item ? [parse(item)] : []; // expired (TTL) since it was indexed
      });
      out.set(workloadId, records);
    }
    for (const workloadId of unindexed) out.set(workloadId, await this.forWorkload(workloadId));
    return out;
  }

  /** Credentials by ID, strongly consistent, in the order asked; unknown IDs are left out. */
  async getMany(credentialIds: readonly string[]): Promise<CredentialRecord[]> {
    const items = await this.batchGet(credentialIds);
    return [...new Set(credentialIds)].flatMap((id) => {
      const item = items.get(id);
      return item ? [parse(item)] : [];
    });
  }

  /**
   * Items by registry key, strongly consistent, 100 keys per call, unprocessed keys retried.
   * `keysOnly` reads just the key (to learn which exist).
   */
  private async batchGet(
    keys: readonly string[],
    options: { keysOnly?: boolean } = {},
  ): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += MAX_BATCH_GET_KEYS) {
      let pending: Record<string, unknown>[] = unique
        .slice(i, i + MAX_BATCH_GET_KEYS)
        .map((credentialId) => ({ credentialId }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > MAX_UNPROCESSED_ATTEMPTS)
          throw new Error(`DynamoDB left ${pending.length} reads unprocessed after ${attempt} attempts`);
        if (attempt > 0) await backoff(attempt);
        const res = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ...(options.keysOnly ? { ProjectionExpression: 'credentialId' } : {}),
              },
            },
          }),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) found.set(String(item.credentialId), item);
        pending = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /** One page, through an index: by workload, by status, or (status required otherwise) never a scan. */
  async list(options: ListOptions): Promise<Page<CredentialRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    let input: QueryCommandInput;
    if (options.workloadId) {
      input = {
        TableName: this.tableName,
        IndexName: CREDENTIALS_BY_WORKLOAD,
        KeyConditionExpression: 'workloadId = :w',
        ExpressionAttributeValues: { ':w': options.workloadId },
        ...(options.status
          ? {
              FilterExpression: '#s = :s',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':w': options.workloadId, ':s': options.status },
            }
          : {}),
      };
    } else if (options.status) {
      input = {
        TableName: this.tableName,
        IndexName: CREDENTIALS_BY_STATUS,
        KeyConditionExpression: options.expiresBefore ? '#s = :s AND #e < :before' : '#s = :s',
        ExpressionAttributeNames: { '#s': 'status', ...(options.expiresBefore ? { '#e': 'expiresAt' } : {}) },
        ExpressionAttributeValues: {
          ':s': options.status,
          ...(options.expiresBefore ? { ':before': options.expiresBefore } : {}),
        },
      };
    } else {
      throw new Error('listing credentials needs a workload ID or a status (the registry is never scanned)');
    }
    if (options.kinds) {
      const kinds = options.kinds.map((k, i) => [`:k${i}`, k] as const);
      const filter = `#kind IN (${kinds.map(([name]) => name).join(', ')})`;
      input = {
        ...input,
        FilterExpression: input.FilterExpression ? `${input.FilterExpression} AND ${filter}` : filter,
        ExpressionAttributeNames: { ...input.ExpressionAttributeNames, '#kind': 'kind' },
        ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ...Object.fromEntries(kinds) },
      };
    }
    const res = await this.doc.send(
      new QueryCommand({ ...input, Limit: limit, ExclusiveStartKey: decodeCursor(options.cursor) }),
    );
    return { items: (res.Items ?? []).map(parse), cursor: encodeCursor(res.LastEvaluatedKey) };
  }

  /**
   * Credentials in `status`, counted per kind through the status index (only the `kind` attribute
   * is read), stopping after `cap` items: `truncated` says the count is a lower bound.
   */
  async countByKind(
    status: CredentialStatus,
    cap = 10_000,
  ): Promise<{ counts: Record<CredentialKind, number>; total: number; truncated: boolean }> {
    const counts: Record<CredentialKind, number> = { 'role-session': 0, 'access-key': 0, certificate: 0 };
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
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

  /**
   * Moves a credential from one of `from` to `to`, setting `fields`. Returns the
   * updated record, or undefined when the credential was not in an allowed state
   * (a duplicate or late event): the caller then does nothing.
   */
  async transition(
    credentialId: string,
    from: readonly CredentialStatus[],
    to: CredentialStatus,
    fields: Partial<Omit<CredentialRecord, 'credentialId' | 'status'>> = {},
  ): Promise<CredentialRecord | undefined> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { credentialId },
          ...updateParts(to, from, fields),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes ? parse(res.Attributes) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /**
   * Many conditional transitions, 100 per TransactWriteItems call. A request whose condition fails
   * (a duplicate or late event) is left out and the rest are written again, so one stale
   * credential never blocks the others. Returns the IDs that moved. Each credential at most once.
   */
  async transitionMany(requests: readonly TransitionRequest[]): Promise<Set<string>> {
    const moved = new Set<string>();
    const ids = new Set(requests.map((r) => r.credentialId));
    if (ids.size !== requests.length) throw new Error('transitionMany: a credential appears twice');
    for (let i = 0; i < requests.length; i += MAX_TRANSACTION_ITEMS) {
      let pending = requests.slice(i, i + MAX_TRANSACTION_ITEMS);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > MAX_UNPROCESSED_ATTEMPTS)
          throw new Error(
            `could not write ${pending.length} credential transitions after ${attempt} attempts`,
          );
        try {
          await this.doc.send(
            new TransactWriteCommand({
              TransactItems: pending.map((r) => ({
                Update: {
                  TableName: this.tableName,
                  Key: { credentialId: r.credentialId },
                  ...updateParts(r.to, r.from, r.fields ?? {}),
                },
              })),
            }),
          );
          for (const r of pending) moved.add(r.credentialId);
          pending = [];
        } catch (err) {
          if (!(err instanceof TransactionCanceledException)) throw err;
          const reasons = err.CancellationReasons ?? [];
          const stale = new Set(
            pending
              .filter((_, j) => reasons[j]?.Code === 'ConditionalCheckFailed')
              .map((r) => r.credentialId),
          );
          // Only conflicts left (another writer on the same items): back off and write them again.
          if (stale.size === 0) await backoff(attempt);
          pending = pending.filter((r) => !stale.has(r.credentialId));
        }
      }
    }
    return moved;
  }
}
