/**
 * Per IAM principal, the deny entries Sundown's policies are rendered from:
 * DynamoDB is the source of truth, IAM policies are only ever rendered from it
 * (never read, modified and written back).
 *
 * A `#meta` item per principal carries a version that every new entry bumps
 * and the version last written to IAM. The revoker renders only when the
 * rendered version is behind, so a burst of terminations on one role costs a
 * handful of IAM writes, and writes for one role are serialized by the FIFO
 * queue's message group.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../shared/adapters/dynamo-batch.ts';
import { decodeCursor, encodeCursor } from '../shared/adapters/page-cursor.ts';
import type { DenyEntry } from './deny-policy.ts';
import {
  entryKey,
  entryOf,
  MAX_STORED_UNPLACED_KEYS,
  META,
  META_INDEX_PARTITION,
  type MetaPage,
  metaOf,
  type PrincipalState,
  REVOCATIONS_BY_NEXT_EXPIRY,
  type RenderStats,
  type StoredDenyEntry,
} from './store-items.ts';

export {
  entryKey,
  MAX_STORED_UNPLACED_KEYS,
  META_INDEX_PARTITION,
  type MetaPage,
  type PrincipalMeta,
  type PrincipalState,
  REVOCATIONS_BY_NEXT_EXPIRY,
  type RenderStats,
  type StoredDenyEntry,
} from './store-items.ts';

export class RevocationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Adds entries (idempotently: the key is derived from session name and end
   * time), then bumps the principal's version. Returns the
   * new version, which the revocation message carries.
   */
  async addEntries(
    principalArn: string,
    entries: readonly StoredDenyEntry[],
    options: { rewriteAll?: boolean } = {},
  ): Promise<number> {
    // Entries first, version second: a render that reads version V (the #meta
    // item sorts first in the query) is then sure to see every entry of <= V.
    await this.writeEntries(new Map([[principalArn, entries]]));
    return this.bumpVersion(principalArn, options.rewriteAll);
  }

  /**
   * {@link addEntries} for several principals at once: every entry in one run of BatchWriteItem
   * (25 a call whatever principal they belong to), then each principal's version bumped. Returns
   * the new version per principal.
   */
  async addEntriesMany(
    groups: ReadonlyMap<string, readonly StoredDenyEntry[]>,
  ): Promise<Map<string, number>> {
    await this.writeEntries(groups);
    return new Map(
      await Promise.all(
        [...groups.keys()].map(
          async (principalArn) => [principalArn, await this.bumpVersion(principalArn)] as const,
        ),
      ),
    );
  }

  private async writeEntries(groups: ReadonlyMap<string, readonly StoredDenyEntry[]>): Promise<void> {
    // BatchWriteItem refuses a request naming one key twice (two credentials of one session).
    const items = new Map<string, Record<string, unknown>>();
    for (const [principalArn, entries] of groups) {
      for (const e of entries)
        items.set(`${principalArn} ${entryKey(e)}`, { principalArn, entryKey: entryKey(e), ...e });
    }
    await batchWriteAll(
      this.doc,
      this.tableName,
      [...items.values()].map((Item) => ({ PutRequest: { Item } })),
    );
  }

  private async bumpVersion(principalArn: string, rewriteAll = false): Promise<number> {
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { principalArn, entryKey: META },
        // rewriteAll: forget what was written, so the next render rewrites every policy (the
        // sweep restoring a deny that went missing from IAM).
        UpdateExpression: `ADD #v :one${rewriteAll ? ' REMOVE policyHashes' : ''}`,
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(res.Attributes?.version ?? 1);
  }

  async load(principalArn: string): Promise<PrincipalState> {
    const state: PrincipalState = {
      entries: [],
      version: 0,
      renderedVersion: 0,
      iamWrites: 0,
      charsUsed: 0,
      charsCapacity: 0,
      unplaced: 0,
      policyHashes: {},
      unplacedKeys: [],
    };
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'principalArn = :p',
          ExpressionAttributeValues: { ':p': principalArn },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) {
        if (item.entryKey === META) {
          state.version = Number(item.version ?? 0);
          state.renderedVersion = Number(item.renderedVersion ?? 0);
          state.iamWrites = Number(item.iamWrites ?? 0);
          state.charsUsed = Number(item.charsUsed ?? 0);
          state.charsCapacity = Number(item.charsCapacity ?? 0);
          state.unplaced = Number(item.unplaced ?? 0);
          state.policyHashes = (item.policyHashes as Record<string, string> | undefined) ?? {};
          state.unplacedKeys = (item.unplacedKeys as string[] | undefined) ?? [];
          if (typeof item.renderedAt === 'string') state.renderedAt = item.renderedAt;
        } else {
          state.entries.push(entryOf(item));
        }
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return state;
  }

  /** Records that IAM now holds `version`; ignored when a newer render already did. */
  async markRendered(principalArn: string, version: number, stats: RenderStats): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { principalArn, entryKey: META },
          UpdateExpression: `SET renderedVersion = :v, renderedAt = :at, charsUsed = :cu, charsCapacity = :cc, managedPolicies = :mp, unplaced = :un, coarsenedSeconds = :cs, metaIndex = :mi, policyHashes = :ph, unplacedKeys = :uk${stats.nextExpiry ? ', nextExpiry = :ne' : ''} ADD iamWrites :w${stats.nextExpiry ? '' : ' REMOVE nextExpiry'}`,
          ConditionExpression: 'attribute_not_exists(renderedVersion) OR renderedVersion < :v',
          ExpressionAttributeValues: {
            ':mi': META_INDEX_PARTITION,
            ...(stats.nextExpiry ? { ':ne': stats.nextExpiry } : {}),
            ':v': version,
            ':at': stats.renderedAt ?? new Date().toISOString(),
            ':cu': stats.charsUsed,
            ':cc': stats.charsCapacity,
            ':mp': stats.managedPolicies,
            ':un': stats.unplaced,
            ':cs': stats.coarsenedSeconds,
            ':w': stats.iamWrites ?? 0,
            ':ph': stats.policyHashes ?? {},
            ':uk': (stats.unplacedKeys ?? []).slice(0, MAX_STORED_UNPLACED_KEYS),
          },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * One page of principals from the {@link REVOCATIONS_BY_NEXT_EXPIRY} index, earliest next expiry
   * first; with `dueBy`, only those whose earliest entry expires at or before it (due for pruning).
   */
  async principals(options: { dueBy?: string; limit: number; cursor?: string }): Promise<MetaPage> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: REVOCATIONS_BY_NEXT_EXPIRY,
        KeyConditionExpression: options.dueBy ? 'metaIndex = :mi AND nextExpiry <= :due' : 'metaIndex = :mi',
        ExpressionAttributeValues: {
          ':mi': META_INDEX_PARTITION,
          ...(options.dueBy ? { ':due': options.dueBy } : {}),
        },
        Limit: Math.min(Math.max(options.limit, 1), 1000),
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    return { items: (res.Items ?? []).map(metaOf), cursor: encodeCursor(res.LastEvaluatedKey) };
  }

  /** Every deny entry of one session name on a principal (usually none or one). */
  async entriesOfSession(principalArn: string, sessionName: string): Promise<StoredDenyEntry[]> {
    const entries: StoredDenyEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'principalArn = :p AND begins_with(entryKey, :k)',
          // The entry key is `deny#<session>#<notAfter>`: the `#` after the name keeps `web-1` from matching `web-10`.
          ExpressionAttributeValues: { ':p': principalArn, ':k': `deny#${sessionName}#` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) entries.push(entryOf(item));
      start = res.LastEvaluatedKey;
    } while (start);
    return entries;
  }

  /** Up to `limit` deny entries of a principal after `afterEntryKey` (entry key order), for bounded checks. */
  async entriesPage(
    principalArn: string,
    afterEntryKey: string | undefined,
    limit: number,
  ): Promise<{
    entries: (StoredDenyEntry & { entryKey: string; driftReportedAt?: string })[];
    last?: string;
  }> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'principalArn = :p AND begins_with(entryKey, :deny)',
        ExpressionAttributeValues: { ':p': principalArn, ':deny': 'deny#' },
        Limit: Math.min(Math.max(limit, 1), 1000),
        ...(afterEntryKey ? { ExclusiveStartKey: { principalArn, entryKey: afterEntryKey } } : {}),
      }),
    );
    const entries = (res.Items ?? []).map((item) => ({
      entryKey: String(item.entryKey),
      ...entryOf(item),
      ...(item.driftReportedAt ? { driftReportedAt: String(item.driftReportedAt) } : {}),
    }));
    return { entries, ...(res.LastEvaluatedKey ? { last: String(res.LastEvaluatedKey.entryKey) } : {}) };
  }

  /** Notes on an entry that the sweep reported it as drift, so it is reported once. */
  async markEntryReported(principalArn: string, key: string, at: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { principalArn, entryKey: key },
          UpdateExpression: 'SET driftReportedAt = :at',
          ConditionExpression: 'attribute_exists(entryKey)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err; // pruned meanwhile
    }
  }

  /** Removes pruned entries (their credentials have all expired). */
  async deleteEntries(principalArn: string, entries: readonly DenyEntry[]): Promise<void> {
    await batchWriteAll(
      this.doc,
      this.tableName,
      entries.map((e) => ({ DeleteRequest: { Key: { principalArn, entryKey: entryKey(e) } } })),
    );
  }
}
