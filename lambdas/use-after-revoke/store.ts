/**
 * Use-after-revoke state in the revocations table: the deny entries of a session (read through the
 * RevocationStore, which owns their layout) and one counter
 * item per session and aggregation window under a partition of its own
 * (`use-after-revoke#<role ARN>`), which no revocation query reads and the table's TTL removes.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RevocationStore } from '../revocation/index.ts';
import type { RevokedEntry } from './attempts.ts';

export const USE_AFTER_REVOKE_PARTITION_PREFIX = 'use-after-revoke#';

export class UseAfterRevokeStore {
  private readonly revocations: RevocationStore;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {
    this.revocations = new RevocationStore(doc, tableName);
  }

  /** The deny entries Sundown holds for `sessionName` on `roleArn` (usually none or one). */
  async revokedEntries(roleArn: string, sessionName: string): Promise<RevokedEntry[]> {
    const entries = await this.revocations.entriesOfSession(roleArn, sessionName);
    return entries.map(({ sessionName, notAfter, workloadId }) => ({ sessionName, notAfter, workloadId }));
  }

  /**
   * Counts one attempt in the session's window (one atomic ADD): how many the window holds now,
   * and whether its alert was already sent.
   */
  async countAttempt(opts: WindowKey & { at: string; expiresAtEpochSeconds: number }): Promise<{
    attempts: number;
    alerted: boolean;
  }> {
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(opts),
        UpdateExpression:
          'ADD attempts :one SET firstAt = if_not_exists(firstAt, :at), lastAt = :at, #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':at': opts.at, ':ttl': opts.expiresAtEpochSeconds },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { attempts: Number(res.Attributes?.attempts ?? 1), alerted: res.Attributes?.alerted === true };
  }

  /**
   * Claims the window's one alert (conditional: only if nobody has). False when another attempt
   * claimed it first: that one alerts, this one is only counted.
   */
  async claimAlert(key: WindowKey): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          UpdateExpression: 'SET alerted = :true',
          ConditionExpression: 'attribute_exists(attempts) AND attribute_not_exists(alerted)',
          ExpressionAttributeValues: { ':true': true },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Gives the claim back after the alert failed, so the retried message alerts. */
  async releaseAlert(key: WindowKey): Promise<void> {
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: keyOf(key), UpdateExpression: 'REMOVE alerted' }),
    );
  }
}

export interface WindowKey {
  roleArn: string;
  sessionName: string;
  windowStart: string;
}

function keyOf(k: WindowKey): Record<string, string> {
  return {
    principalArn: `${USE_AFTER_REVOKE_PARTITION_PREFIX}${k.roleArn}`,
    entryKey: `${k.sessionName}#${k.windowStart}`,
  };
}
