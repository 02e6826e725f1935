/**
 * The reconciliation sweep's own state: one item in the revocations table (principalArn `#sweep`,
 * entryKey `#state`, so it can never collide with an IAM principal's items). It holds
 *
 * - a lease, so two sweeps (the schedule and `sundown sweep`) never run at once;
 * - the cursors of the sweep's bounded passes, so successive runs cover everything;
 * - a summary of the last run, for `sundown status`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const SWEEP_STATE_KEY = { principalArn: '#sweep', entryKey: '#state' } as const;

/** Where each bounded pass continues on the next run (absent: from the start). */
export interface SweepCursors {
  expiry?: string;
  active?: string;
  revoked?: string;
  principals?: string;
}

export interface LastSweep {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  counts: Record<string, number>;
  /** Up to 20 findings of that run, for a first look (`sundown audit` has the rest). */
  findings: { kind: string; subject: string; action: string }[];
  errors: string[];
  /** When each pass last reached the end of what it walks. */
  completedPasses: Record<string, string>;
}

export interface SweepState {
  cursors: SweepCursors;
  lastSweep?: LastSweep;
  leaseUntil?: string;
}

export class SweepStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async read(): Promise<SweepState> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: SWEEP_STATE_KEY, ConsistentRead: true }),
    );
    return {
      cursors: (res.Item?.cursors as SweepCursors | undefined) ?? {},
      ...(res.Item?.lastSweep ? { lastSweep: res.Item.lastSweep as LastSweep } : {}),
      ...(res.Item?.leaseUntil ? { leaseUntil: String(res.Item.leaseUntil) } : {}),
    };
  }

  /** Takes the lease until `now + leaseMs`; undefined when another sweep holds it. */
  async acquire(owner: string, now: Date, leaseMs: number): Promise<SweepState | undefined> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SWEEP_STATE_KEY,
          UpdateExpression: 'SET leaseUntil = :until, leaseOwner = :owner',
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
          ExpressionAttributeValues: {
            ':until': new Date(now.getTime() + leaseMs).toISOString(),
            ':owner': owner,
            ':now': now.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return {
        cursors: (res.Attributes?.cursors as SweepCursors | undefined) ?? {},
        ...(res.Attributes?.lastSweep ? { lastSweep: res.Attributes.lastSweep as LastSweep } : {}),
      };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /** Saves the run's cursors and summary (when given) and gives the lease back. */
  async release(owner: string, update: { cursors?: SweepCursors; lastSweep?: LastSweep }): Promise<void> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { ':owner': owner };
    if (update.cursors) {
      sets.push('cursors = :cursors');
      values[':cursors'] = update.cursors;
    }
    if (update.lastSweep) {
      sets.push('lastSweep = :last');
      values[':last'] = update.lastSweep;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SWEEP_STATE_KEY,
          UpdateExpression: `${sets.length ? `SET ${sets.join(', ')} ` : ''}REMOVE leaseUntil, leaseOwner`,
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      // The lease ran out and another sweep took it: its cursors win.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}
