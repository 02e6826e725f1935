/**
 * The credential registry in DynamoDB. Items are validated with the shared
 * schema on the way in and out; state changes are conditional updates, so a
 * duplicated event can never move a credential twice (the idempotency of the
 * whole pipeline rests on these conditions).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../shared/adapters/page-cursor.ts';
import { inChunks } from '../shared/chunks.ts';
import {
  type CredentialKind,
  type CredentialRecord,
  CredentialRecordSchema,
  type CredentialStatus,
} from '../shared/schemas/credential.ts';
import {
  backoff,
  batchGetItems,
  CREDENTIALS_BY_STATUS,
  CREDENTIALS_BY_WORKLOAD,
  countByKind,
  type ListOptions,
  MAX_TRANSACTION_ITEMS,
  MAX_UNPROCESSED_ATTEMPTS,
  type Page,
  parse,
  type TransitionRequest,
  updateParts,
  workloadIndexKey,
} from './credential-registry-items.ts';

export {
  CREDENTIALS_BY_STATUS,
  CREDENTIALS_BY_WORKLOAD,
  type ListOptions,
  type Page,
  type TransitionRequest,
  workloadIndexItems,
  workloadIndexKey,
} from './credential-registry-items.ts';

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
    return new Set((await batchGetItems(this.doc, this.tableName, credentialIds, { keysOnly: true })).keys());
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
    const indexItems = await batchGetItems(this.doc, this.tableName, unique.map(workloadIndexKey));
    const idsByWorkload = new Map<string, string[]>();
    const unindexed: string[] = [];
    for (const workloadId of unique) {
      const index = indexItems.get(workloadIndexKey(workloadId));
      if (!index) unindexed.push(workloadId);
      else idsByWorkload.set(workloadId, [...((index.credentialIds as Set<string>) ?? [])].sort());
    }
    const credentials = await batchGetItems(this.doc, this.tableName, [...idsByWorkload.values()].flat());
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
    const items = await batchGetItems(this.doc, this.tableName, credentialIds);
    return [...new Set(credentialIds)].flatMap((id) => {
      const item = items.get(id);
      return item ? [parse(item)] : [];
    });
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
  countByKind(
    status: CredentialStatus,
    cap = 10_000,
  ): Promise<{ counts: Record<CredentialKind, number>; total: number; truncated: boolean }> {
    return countByKind(this.doc, this.tableName, status, cap);
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
    // Chunks name distinct credentials, so they go side by side (see inChunks).
    await inChunks(requests, MAX_TRANSACTION_ITEMS, async (chunk) => {
      let pending = chunk;
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
    });
    return moved;
  }
}
