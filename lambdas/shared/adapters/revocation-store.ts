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
import type { DenyEntry } from '../domain/deny-policy.ts';
import { batchWriteAll } from './dynamo-batch.ts';

const META = '#meta';

export interface StoredDenyEntry extends DenyEntry {
  /** The workload whose sessions this entry denies. */
  workloadId: string;
}

export interface PrincipalState {
  entries: StoredDenyEntry[];
  version: number;
  renderedVersion: number;
  /** IAM writes made for this principal so far, and the last render's capacity use. */
  iamWrites: number;
  charsUsed: number;
  charsCapacity: number;
}

export interface RenderStats {
  /** Mutating IAM calls this render made (kept as a running total per principal). */
  iamWrites?: number;
  charsUsed: number;
  charsCapacity: number;
  managedPolicies: number;
  unplaced: number;
  coarsenedSeconds: number;
}

export function entryKey(entry: Pick<DenyEntry, 'sessionName' | 'notAfter'>): string {
  return `deny#${entry.sessionName}#${entry.notAfter}`;
}

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
  async addEntries(principalArn: string, entries: readonly StoredDenyEntry[]): Promise<number> {
    // Entries first, version second: a render that reads version V (the #meta
    // item sorts first in the query) is then sure to see every entry of <= V.
    await batchWriteAll(
      this.doc,
      this.tableName,
      entries.map((e) => ({ PutRequest: { Item: { principalArn, entryKey: entryKey(e), ...e } } })),
    );
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { principalArn, entryKey: META },
        UpdateExpression: 'ADD #v :one',
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
        } else {
          state.entries.push({
            sessionName: String(item.sessionName),
            notAfter: String(item.notAfter),
            expiresAt: String(item.expiresAt),
            reusableName: Boolean(item.reusableName),
            workloadId: String(item.workloadId),
          });
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
          UpdateExpression:
            'SET renderedVersion = :v, renderedAt = :at, charsUsed = :cu, charsCapacity = :cc, managedPolicies = :mp, unplaced = :un, coarsenedSeconds = :cs ADD iamWrites :w',
          ConditionExpression: 'attribute_not_exists(renderedVersion) OR renderedVersion < :v',
          ExpressionAttributeValues: {
            ':v': version,
            ':at': new Date().toISOString(),
            ':cu': stats.charsUsed,
            ':cc': stats.charsCapacity,
            ':mp': stats.managedPolicies,
            ':un': stats.unplaced,
            ':cs': stats.coarsenedSeconds,
            ':w': stats.iamWrites ?? 0,
          },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
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
