/**
 * The credential registry in DynamoDB. Items are validated with the shared
 * schema on the way in and out; state changes are conditional updates, so a
 * duplicated event can never move a credential twice (the idempotency of the
 * whole pipeline rests on these conditions).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
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
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(credentialId)',
        }),
      );
      return { created: true, record: item };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
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
    const found = new Set<string>();
    const unique = [...new Set(credentialIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique
        .slice(i, i + 100)
        .map((credentialId) => ({ credentialId }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 8)
          throw new Error(`DynamoDB left ${keys.length} reads unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
        const res = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: { Keys: keys, ProjectionExpression: 'credentialId', ConsistentRead: true },
            },
          }),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) found.add(String(item.credentialId));
        keys = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
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
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { credentialId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(credentialId) AND #status IN (${allowed.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes ? parse(res.Attributes) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }
}
