/**
 * The audit chain in the emulator's DynamoDB: concurrent writers never fork it, and every kind of
 * tampering done directly on the table (modify, delete, insert, reorder) makes `sundown audit
 * verify` exit non-zero naming the seq. Export prints the chain as JSON Lines.
 */
import { spawn } from 'node:child_process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordHash } from '../../lambdas/audit/audit-chain.ts';
import { verifyChain } from '../../lambdas/audit/audit-chain-verify.ts';
import { AuditLog } from '../../lambdas/audit/audit-log.ts';
import { fromItem } from '../../lambdas/audit/audit-query.ts';
import type { AuditRecord } from '../../lambdas/shared/schemas/audit-record.ts';
import { PROJECT_ROOT } from '../../local/deploy.ts';
import { deploySundown, type Sundown } from './harness.ts';

const WRITERS = 8;
const PER_WRITER = 20;
const TOTAL = WRITERS * PER_WRITER;
const BASE_MS = Date.UTC(2024, 4, 1, 12);

let sd: Sundown;
let table: string;
/** Every item of chain `main` (head at seq 0 included) once the concurrent writers are done. */
let pristine: Record<string, unknown>[] = [];

let appendMs = 0;
let lostRaces = 0;

beforeAll(async () => {
  sd = await deploySundown();
  table = sd.outputs.AuditTableName as string;
  // Independent clients, as separate Lambda instances would have, appending at the same time.
  const writers = Array.from({ length: WRITERS }, (_, w) => {
    const client = new DynamoDBClient({ endpoint: sd.target.endpoint, region: sd.target.region });
    // Counts lost races (a cancelled transaction makes AuditLog re-read the head and retry).
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if ((err as Error).name === 'TransactionCanceledException') lostRaces++;
          throw err;
        }
      },
      { step: 'initialize' },
    );
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    return { w, log: new AuditLog(doc, table, 'main') };
  });
  const started = performance.now();
  await Promise.all(
    writers.map(async ({ w, log }) => {
      for (let i = 0; i < PER_WRITER; i++) {
        await log.append({
          type: i % 2 === 0 ? 'issued' : 'revoked',
          // Time advances with i, so the --since windows below are well defined.
          at: new Date(BASE_MS + i * 1000 + w).toISOString(),
          actor: { type: 'function', name: `writer-${w}` },
          workloadId: `custom/writer-${w}`,
          outcome: 'success',
          details: { writer: w, index: i },
        });
      }
    }),
  );
  appendMs = performance.now() - started;
  pristine = await items();
});
afterAll(async () => {
  await sd?.stop();
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  const target = ['--endpoint', sd.target.endpoint, '--region', sd.target.region, '--stack', 'Sundown'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/sundown.mjs', 'audit', ...args, ...target], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function items(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await sd.doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'chainId = :c',
        ExpressionAttributeValues: { ':c': 'main' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

const record = (seq: number) => pristine.find((item) => item.seq === seq) as AuditRecord;

/** Puts the table back exactly as it was before a tampering test. */
async function restore(): Promise<void> {
  const current = await items();
  for (let i = 0; i < current.length; i += 25) {
    await sd.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: current.slice(i, i + 25).map((item) => ({
            DeleteRequest: { Key: { chainId: item.chainId, seq: item.seq } },
          })),
        },
      }),
    );
  }
  for (let i = 0; i < pristine.length; i += 25) {
    await sd.doc.send(
      new BatchWriteCommand({
        RequestItems: { [table]: pristine.slice(i, i + 25).map((item) => ({ PutRequest: { Item: item } })) },
      }),
    );
  }
}

/** The one stderr line of `audit verify`, checked for shape; returns it. */
function brokenLine(result: CliResult, seq: number, problem: string): string {
  expect(result.code).toBe(1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(`^sundown: audit chain broken at seq ${seq}: record ${problem} \\(.+\\)$`),
  );
  return lines[0] as string;
}

describe('concurrent writers', () => {
  it(`${WRITERS} writers appending ${PER_WRITER} records each keep one contiguous, verifiable chain`, async () => {
    // Act (the writers ran in beforeAll)
    const [verify, verifyJson] = await Promise.all([cli('verify'), cli('verify', '--json')]);

    // Assess
    const records = pristine.filter((item) => item.seq !== 0) as AuditRecord[];
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    const written = records.map((r) => `${r.details?.writer}/${r.details?.index}`).sort();
    const expected = Array.from(
      { length: TOTAL },
      (_, n) => `${Math.floor(n / PER_WRITER)}/${n % PER_WRITER}`,
    ).sort();
    expect(written).toEqual(expected);
    expect(pristine.find((item) => item.seq === 0)).toMatchObject({ headSeq: TOTAL });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      new RegExp(`intact: ${TOTAL} records verified \\(seq 1-${TOTAL}\\), head at seq ${TOTAL}`),
    );
    expect(JSON.parse(verifyJson.stdout)).toMatchObject({
      ok: true,
      count: TOTAL,
      lastSeq: TOTAL,
      headSeq: TOTAL,
    });
    console.info(
      `${TOTAL} concurrent appends by ${WRITERS} writers: ${Math.round(appendMs)} ms, ${lostRaces} lost races retried`,
    );
  });
});

describe('tampering done directly on the table', () => {
  afterEach(async () => {
    await restore();
  });

  it('detects a modified field and names its seq', async () => {
    await sd.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { chainId: 'main', seq: 7 },
        UpdateExpression: 'SET outcome = :o',
        ExpressionAttributeValues: { ':o': 'nothing happened' },
      }),
    );

    const result = await cli('verify');

    expect(brokenLine(result, 7, 'modified')).toMatch(/hash does not match its content/);
    expect(result.stdout).toBe('');
  });

  it('detects a modified and re-hashed record by the link its successor committed to', async () => {
    const original = record(7);
    const edited = { ...original, workloadId: 'custom/someone-else' };
    edited.hash = recordHash(edited, edited.chainId, edited.seq, edited.prevHash);
    await sd.doc.send(new PutCommand({ TableName: table, Item: edited }));

    brokenLine(await cli('verify'), 7, 'modified');
  });

  it('detects a deleted record', async () => {
    await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: 'main', seq: 7 } }));

    const result = await cli('verify', '--json');

    brokenLine(result, 7, 'deleted');
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      chainId: 'main',
      problem: 'deleted',
      seq: 7,
      message: expect.stringMatching(/seq 7 is missing/),
      count: 6,
      headSeq: TOTAL,
    });
  });

  it('detects a deleted tail through the head item', async () => {
    await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: 'main', seq: TOTAL } }));

    brokenLine(await cli('verify'), TOTAL, 'deleted');
  });

  it('detects a record inserted mid-chain (later records renumbered, head moved along)', async () => {
    // Prepare: a well-formed forgery at seq 7 linking to seq 6; 7.. shift to 8..
    const forged = { ...record(7), reason: 'forged', seq: 7, prevHash: record(6).hash };
    forged.hash = recordHash(forged, forged.chainId, 7, forged.prevHash);
    const shifted = pristine
      .filter((item) => (item.seq as number) >= 7)
      .map((item) => ({ ...item, seq: (item.seq as number) + 1 }));
    for (const item of [...shifted].reverse())
      await sd.doc.send(new PutCommand({ TableName: table, Item: item }));
    await sd.doc.send(new PutCommand({ TableName: table, Item: forged }));
    await sd.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { chainId: 'main', seq: 0 },
        UpdateExpression: 'SET headSeq = :s',
        ExpressionAttributeValues: { ':s': TOTAL + 1 },
      }),
    );

    brokenLine(await cli('verify'), 7, 'inserted');
  });

  it('detects a record appended past the head', async () => {
    const last = record(TOTAL);
    const forged = { ...last, reason: 'forged', seq: TOTAL + 1, prevHash: last.hash };
    forged.hash = recordHash(forged, forged.chainId, TOTAL + 1, forged.prevHash);
    await sd.doc.send(new PutCommand({ TableName: table, Item: forged }));

    brokenLine(await cli('verify'), TOTAL + 1, 'inserted');
  });

  it('detects two swapped records', async () => {
    const [four, five] = [record(4), record(5)];
    await sd.doc.send(new PutCommand({ TableName: table, Item: { ...five, seq: 4 } }));
    await sd.doc.send(new PutCommand({ TableName: table, Item: { ...four, seq: 5 } }));

    brokenLine(await cli('verify'), 4, 'reordered');
  });

  it('detects a deleted head item', async () => {
    await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: 'main', seq: 0 } }));

    expect(brokenLine(await cli('verify'), 0, 'deleted')).toMatch(/head item \(seq 0\) is missing/);
  });

  it('with --since, verifies only the window and the record that anchors it', async () => {
    // Prepare: seq 3 is long before the window; the window starts at the first record of index 15.
    const since = new Date(BASE_MS + 15 * 1000).toISOString();
    const firstInWindow = Math.min(
      ...pristine
        .filter((item) => item.seq !== 0 && (item.at as string) >= since)
        .map((item) => item.seq as number),
    );
    await sd.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { chainId: 'main', seq: 3 },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': 'edited long ago' },
      }),
    );

    // Act
    const [windowed, whole] = await Promise.all([cli('verify', '--since', since, '--json'), cli('verify')]);
    await sd.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { chainId: 'main', seq: firstInWindow + 2 },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': 'edited in the window' },
      }),
    );
    const windowBroken = await cli('verify', '--since', since);

    // Assess
    expect(windowed.code).toBe(0);
    expect(JSON.parse(windowed.stdout)).toMatchObject({
      ok: true,
      count: TOTAL - firstInWindow + 1,
      fromSeq: firstInWindow,
      lastSeq: TOTAL,
      since,
    });
    brokenLine(whole, 3, 'modified');
    brokenLine(windowBroken, firstInWindow + 2, 'modified');
  });

  it('accepts a duration for --since and rejects a bad time with one line', async () => {
    const [recent, bad] = await Promise.all([
      cli('verify', '--since', '2h'),
      cli('verify', '--since', 'last tuesday'),
    ]);

    expect(recent.code).toBe(0);
    expect(recent.stdout).toMatch(/intact: 0 records verified since .* \(no records\), head at seq 160/);
    expect(bad.code).toBe(2); // could not check: exit 2 (0 verified, 1 tampered)
    expect(bad.stderr).toBe(
      'sundown: --since must be an ISO time like 2024-05-01T12:00:00Z or a duration like 30m, 2h or 7d, got "last tuesday"\n',
    );
  });
});

describe('audit export', () => {
  it('prints every record as one JSON line, in chain order, exactly as stored', async () => {
    const result = await cli('export');

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    const exported = lines.map((line) => JSON.parse(line) as AuditRecord);
    expect(exported.map((r) => r.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(exported).toEqual(
      pristine.filter((item) => item.seq !== 0).sort((a, b) => (a.seq as number) - (b.seq as number)),
    );
    const head = pristine.find((item) => item.seq === 0) as { headSeq: number; headHash: string };
    expect(verifyChain(exported, { seq: head.headSeq, hash: head.headHash })).toMatchObject({
      ok: true,
      count: TOTAL,
    });
  });

  it('with --since, starts at the first record of the window and runs to the end of the chain', async () => {
    const since = new Date(BASE_MS + 18 * 1000).toISOString();
    const firstInWindow = Math.min(
      ...pristine
        .filter((item) => item.seq !== 0 && (item.at as string) >= since)
        .map((item) => item.seq as number),
    );

    const result = await cli('export', '--since', since);

    const seqs = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as AuditRecord).seq);
    expect(seqs).toEqual(Array.from({ length: TOTAL - firstInWindow + 1 }, (_, i) => firstInWindow + i));
    expect(verifyChain(seqs.map(record), undefined, { startSeq: firstInWindow })).toMatchObject({ ok: true });
  });
});

// Last in this file: its chain is not part of the chain `main` the tests above export and verify.
describe('the account of each record', () => {
  it('stamps records without one with the account they are about, and keeps a given one', async () => {
    // Prepare
    const home = '123456789012';
    const spoke = '222222222222';
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: sd.target.endpoint, region: sd.target.region }),
    );
    const log = new AuditLog(doc, table, 'accounts', undefined, { account: home });
    const base = {
      type: 'drift',
      at: new Date(BASE_MS).toISOString(),
      actor: { type: 'system', name: 't' },
      outcome: 'reported',
    } as const;

    // Act
    const records = await log.appendMany([
      base,
      { ...base, details: { roleArn: `arn:aws:iam::${spoke}:role/app` } },
      { ...base, workloadId: `arn:aws:ec2:us-east-1:${spoke}:instance/i-0123456789abcdef0` },
      {
        ...base,
        account: '333333333333',
        workloadId: `arn:aws:ec2:us-east-1:${spoke}:instance/i-0123456789abcdef0`,
      },
    ]);

    // Assess: stored as stamped, and the chain still verifies with the field hashed in.
    expect(records.map((r) => r.account)).toEqual([home, spoke, spoke, '333333333333']);
    const stored =
      (
        await doc.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'chainId = :c AND seq > :zero',
            ExpressionAttributeValues: { ':c': 'accounts', ':zero': 0 },
          }),
        )
      ).Items?.map((item) => fromItem(item)) ?? [];
    expect(stored.map((r) => r.account)).toEqual([home, spoke, spoke, '333333333333']);
    expect(verifyChain(stored)).toMatchObject({ ok: true, count: 4 });
  });
});

describe('deferred publication', () => {
  it('puts nothing on the bus until the caller settles, then every record, a few PutEvents at a time', async () => {
    // Prepare: real PutEvents to the stack's bus, counted (and their overlap) at the client.
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: sd.target.endpoint, region: sd.target.region }),
    );
    const events = new EventBridgeClient({ endpoint: sd.target.endpoint, region: sd.target.region });
    let puts = 0;
    let entries = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    events.middlewareStack.add(
      (next) => async (args) => {
        puts++;
        entries += ((args.input as { Entries?: unknown[] }).Entries ?? []).length;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize' },
    );
    const errors: unknown[] = [];
    const log = new AuditLog(
      doc,
      table,
      'deferred',
      { events, busName: sd.outputs.EventBusName as string, onError: (err) => errors.push(err) },
      { deferPublish: true },
    );
    const base = { type: 'drift', actor: { type: 'system', name: 't' }, outcome: 'reported' } as const;

    // Act
    const records = await log.appendMany(
      Array.from({ length: 45 }, (_, i) => ({ ...base, at: new Date(BASE_MS + i).toISOString() })),
    );
    const putsBeforeSettle = puts;
    await log.settle();

    // Assess: committed first, published only on settle, all 45 in 5 calls, at most 4 at once.
    expect(records).toHaveLength(45);
    expect(putsBeforeSettle).toBe(0);
    expect({ puts, entries, errors }).toEqual({ puts: 5, entries: 45, errors: [] });
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    await log.settle();
    expect(puts).toBe(5);
  });
});
