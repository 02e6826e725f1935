/**
 * RevocationStore.addEntriesMany over a STRICT DYNAMODB SEMANTICS ADAPTER: an in-memory
 * BatchWriteItem that refuses what DynamoDB refuses (more than 25 requests, one key named twice
 * in a request) and an UpdateItem with ADD, so the intake's one-call-per-25-entries write is
 * checked against the rules moto would let slide.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RevocationStore, type StoredDenyEntry } from '../../lambdas/revocation/store.ts';

function strictDynamo() {
  const items = new Map<string, Record<string, unknown>>();
  const calls: string[] = [];
  const send = async (command: unknown) => {
    if (command instanceof BatchWriteCommand) {
      const requests = Object.values(command.input.RequestItems ?? {}).flat();
      if (requests.length > 25) throw new Error('ValidationException: more than 25 requests');
      const keys = requests.map((r) => `${r.PutRequest?.Item?.principalArn} ${r.PutRequest?.Item?.entryKey}`);
      if (new Set(keys).size !== keys.length)
        throw new Error('ValidationException: Provided list of item keys contains duplicates');
      for (const [i, r] of requests.entries()) items.set(keys[i] as string, r.PutRequest?.Item ?? {});
      calls.push(`BatchWriteItem ${requests.length}`);
      return {};
    }
    if (command instanceof UpdateCommand) {
      const key = `${command.input.Key?.principalArn} ${command.input.Key?.entryKey}`;
      const item = items.get(key) ?? { ...command.input.Key };
      item.version = Number(item.version ?? 0) + 1;
      items.set(key, item);
      calls.push('UpdateItem');
      return { Attributes: { version: item.version } };
    }
    throw new Error(`strict DynamoDB adapter: ${(command as object).constructor.name} is not modelled`);
  };
  return { doc: { send } as unknown as DynamoDBDocumentClient, items, calls };
}

const entry = (session: string): StoredDenyEntry => ({
  sessionName: session,
  notAfter: '2024-05-01T12:00:00.000Z',
  expiresAt: '2024-05-01T18:00:00.000Z',
  reusableName: false,
  workloadId: `arn:aws:ec2:us-east-1:123456789012:instance/${session}`,
});

describe('RevocationStore.addEntriesMany, on a strict DynamoDB semantics adapter', () => {
  it("writes every principal's entries 25 a call, then bumps each principal's version once", async () => {
    // Prepare: 60 entries over 3 roles.
    const db = strictDynamo();
    const store = new RevocationStore(db.doc, 'revocations');
    const groups = new Map(
      [0, 1, 2].map((r) => [
        `arn:aws:iam::123456789012:role/r${r}`,
        Array.from({ length: 20 }, (_, i) => entry(`i-${r}${String(i).padStart(16, '0')}`)),
      ]),
    );

    // Act
    const versions = await store.addEntriesMany(groups);

    // Assess: 3 BatchWriteItem calls (25 + 25 + 10), one version bump per role.
    expect(db.calls.filter((c) => c.startsWith('BatchWriteItem'))).toEqual([
      'BatchWriteItem 25',
      'BatchWriteItem 25',
      'BatchWriteItem 10',
    ]);
    expect(db.calls.filter((c) => c === 'UpdateItem')).toHaveLength(3);
    expect([...versions.values()]).toEqual([1, 1, 1]);
    expect([...db.items.keys()].filter((k) => k.includes(' deny#'))).toHaveLength(60);
  });

  it('names a session once when two credentials of one role share it (DynamoDB would refuse the batch)', async () => {
    // Prepare: the same session twice on one role, and once on another role.
    const db = strictDynamo();
    const store = new RevocationStore(db.doc, 'revocations');
    const same = entry('i-0123456789abcdef0');

    // Act
    const versions = await store.addEntriesMany(
      new Map([
        ['arn:aws:iam::123456789012:role/a', [same, { ...same }]],
        ['arn:aws:iam::123456789012:role/b', [same]],
      ]),
    );

    // Assess
    expect(db.calls).toContain('BatchWriteItem 2');
    expect(versions.get('arn:aws:iam::123456789012:role/a')).toBe(1);
    expect(versions.get('arn:aws:iam::123456789012:role/b')).toBe(1);
  });
});
