/**
 * Audit at scale in the emulator, one deployment for every case: concurrent writers append to the
 * sharded chains, the deployed Sealer function signs them with the stack's KMS key (through `sundown
 * audit seal`, as the schedule would), and `sundown audit verify` checks links and signatures from
 * the public key. Then the table is tampered with directly, one class at a time (restored after
 * each), and verify names each: modified, deleted, reordered, truncated, rewritten, forged seal,
 * missing seal; records after the last seal are reported as not yet sealed.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordHash } from '../../lambdas/audit/audit-chain.ts';
import { AuditLog } from '../../lambdas/audit/audit-log.ts';
import type { AuditRecord } from '../../lambdas/shared/schemas/audit-record.ts';
import { type CliResult, localWorkdir, runCli } from './cli.ts';
import { deploySundown, type Sundown } from './harness.ts';

const WRITERS = 4;
const PER_WRITER = 15;
let sd: Sundown;
let cwd: string;
let table: string;
let shards: number;
let writers: AuditLog[];
/** Items of the busiest shard chain, as stored after sealing. */
let chain: string;
let pristine: Record<string, unknown>[] = [];

const audit = (...args: string[]): Promise<CliResult> => runCli(['audit', ...args, '--local'], cwd);

async function items(chainId: string): Promise<Record<string, unknown>[]> {
  const res = await sd.doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'chainId = :c',
      ExpressionAttributeValues: { ':c': chainId },
      ConsistentRead: true,
    }),
  );
  return res.Items ?? [];
}

const put = (item: Record<string, unknown>) => sd.doc.send(new PutCommand({ TableName: table, Item: item }));
const record = (seq: number) => pristine.find((i) => i.seq === seq) as AuditRecord & { dayShard: string };

async function appendRound(round: number): Promise<void> {
  await Promise.all(
    writers.map(async (log, w) => {
      for (let i = 0; i < PER_WRITER; i++) {
        await log.append({
          type: 'issued',
          at: new Date().toISOString(),
          actor: { type: 'function', name: `writer-${w}` },
          workloadId: `custom/r${round}-w${w}-${i % 5}`,
          outcome: 'success',
        });
      }
    }),
  );
}

beforeAll(async () => {
  sd = await deploySundown();
  cwd = localWorkdir(sd);
  table = sd.outputs.AuditTableName as string;
  shards = Number(sd.outputs.AuditShards);
  writers = Array.from({ length: WRITERS }, () => new AuditLog(sd.doc, table, 'main', undefined, { shards }));
  await appendRound(1);
  const sealed = await audit('seal', '--json');
  expect(sealed.code, sealed.stderr).toBe(0);
  const counts = await Promise.all(
    Array.from({ length: shards }, async (_, k) => [`main#${k}`, (await items(`main#${k}`)).length] as const),
  );
  chain = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
  pristine = await items(chain);
}, 600_000); // one deploy for every case; the shared 2-core machine can make it slow
afterAll(async () => {
  await sd?.stop();
});

describe('sharded appends, sealed by the deployed sealer', () => {
  it('gives each writer its own leased shard, so no append is cancelled, and verifies links and signatures', async () => {
    const result = await audit('verify', '--json');

    const report = JSON.parse(result.stdout);
    expect(result.code, result.stderr).toBe(0);
    expect(report).toMatchObject({ ok: true, status: 'verified', count: WRITERS * PER_WRITER, findings: [] });
    expect(report.seals).toMatchObject({ count: 1, verified: 1, lastEpoch: 1 });
    expect(report.chains.filter((c: { count: number }) => c.count > 0)).toHaveLength(WRITERS);
    expect(report.chains.filter((c: { count: number }) => c.count === PER_WRITER)).toHaveLength(WRITERS);
    expect(writers.reduce((n, w) => n + w.stats.records, 0)).toBe(WRITERS * PER_WRITER);
    expect(writers.map((w) => w.stats.cancelled)).toEqual(writers.map(() => 0));
    // Each writer read no head: the lease returned it, and its own commits moved it.
    expect(writers.map((w) => w.stats.headReads)).toEqual(writers.map(() => 0));
  });

  it('lists records appended after the last seal as not yet sealed, then seals them on the next run', async () => {
    await appendRound(2);
    const before = await audit('verify');
    await audit('seal');
    const after = JSON.parse((await audit('verify', '--json')).stdout);

    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/not yet sealed: main#\d+ seq \d+-\d+/);
    expect(after).toMatchObject({ ok: true, unsealed: [], seals: { verified: 2 } });
  });

  it('verifies offline from a PEM public key given with --public-key', async () => {
    const kms = new KMSClient({ endpoint: sd.target.endpoint, region: sd.target.region });
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: sd.outputs.AuditSealKeyArn }));
    const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(PublicKey as Uint8Array).toString('base64')}\n-----END PUBLIC KEY-----\n`;
    const file = path.join(cwd, 'seal.pem');
    writeFileSync(file, pem);

    const result = await audit('verify', '--public-key', file);
    const bad = await audit('verify', '--public-key', path.join(cwd, 'missing.pem'));

    expect(result.code, result.stderr).toBe(0);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--public-key: cannot read a PEM public key/);
  });
});

describe('tampering done directly on the table', () => {
  beforeAll(async () => {
    pristine = await items(chain);
  });
  afterEach(async () => {
    const current = await items(chain);
    for (const item of current) {
      if (!pristine.some((p) => p.seq === item.seq)) {
        await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: chain, seq: item.seq } }));
      }
    }
    for (const item of pristine) await put(item);
    pristine = await items(chain);
  });

  async function expectFinding(problem: string): Promise<string> {
    const result = await audit('verify');
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`record ${problem} |: ${problem} \\(`));
    return result.stderr;
  }

  it('names a modified record', async () => {
    await put({ ...record(2), reason: 'edited' });
    expect(await expectFinding('modified')).toMatch(new RegExp(`audit chain ${chain} broken at seq 2`));
  });

  it('names a deleted record', async () => {
    await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: chain, seq: 2 } }));
    await expectFinding('deleted');
  });

  it('names reordered records', async () => {
    const [a, b] = [record(1), record(2)];
    await put({ ...b, seq: 1 });
    await put({ ...a, seq: 2 });
    await expectFinding('reordered');
  });

  it('names a truncated chain (tail and head item rolled back together)', async () => {
    const head = pristine.find((i) => i.seq === 0) as { headSeq: number };
    const last = head.headSeq;
    await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: chain, seq: last } }));
    await put({ chainId: chain, seq: 0, headSeq: last - 1, headHash: record(last - 1).hash });
    await expectFinding('truncated');
  });

  it('names a chain rewritten with every hash recomputed (caught by the signature)', async () => {
    const head = pristine.find((i) => i.seq === 0) as { headSeq: number };
    let prevHash = '0'.repeat(64);
    for (let seq = 1; seq <= head.headSeq; seq++) {
      const { dayShard, ...r } = record(seq);
      const edited = { ...r, outcome: 'rewritten', prevHash };
      edited.hash = recordHash(edited, chain, seq, prevHash);
      await put({ ...edited, dayShard });
      prevHash = edited.hash;
    }
    await put({ chainId: chain, seq: 0, headSeq: head.headSeq, headHash: prevHash });
    await expectFinding('rewritten');
  });

  it('names a forged seal and a missing seal', async () => {
    const [first, second] = await items('seal#main');
    if (!first || !second) throw new Error('expected two seals');
    await put({ ...second, body: String(second.body).replace('"epoch":2', '"epoch":2 ') });
    const forged = await expectFinding('seal-forged');
    await put(second);
    await sd.doc.send(new DeleteCommand({ TableName: table, Key: { chainId: 'seal#main', seq: 1 } }));
    const missing = await expectFinding('seal-missing');
    await put(first);

    expect(forged).toMatch(/audit seals broken at epoch 2: seal-forged/);
    expect(missing).toMatch(/audit seals broken at epoch 2: seal-missing/);
  });
});

describe('shard leases (on the emulated table, a chain of their own)', () => {
  const base = 'leases';
  const entry = (writer: string, i: number) => ({
    type: 'issued' as const,
    at: new Date().toISOString(),
    actor: { type: 'function' as const, name: writer },
    workloadId: `custom/${writer}-${i}`,
    outcome: 'success' as const,
  });
  const chainOf = async (chainId: string) => {
    const all = await items(chainId);
    const head = all.find((i) => i.seq === 0) as { headSeq: number; headHash: string; leaseOwner: string };
    return { head, records: all.filter((i) => Number(i.seq) > 0) as unknown as AuditRecord[] };
  };

  it('groups concurrent appends of one writer into one transaction (group commit)', async () => {
    const log = new AuditLog(sd.doc, table, `${base}-group`, undefined, { shards: 2 });
    const records = await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(entry('group', i))));

    // The first append commits alone; the 29 that arrived meanwhile commit together.
    expect(log.stats).toMatchObject({ transactions: 2, cancelled: 0, records: 30, headReads: 0 });
    expect(new Set(records.map((r) => r.chainId)).size).toBe(1);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('never forks a chain when an expired lease is taken over: the old holder is cancelled once and re-reads', async () => {
    const clock = { skew: 0 };
    const a = new AuditLog(sd.doc, table, base, undefined, { shards: 1, lease: { owner: 'writer-a' } });
    const b = new AuditLog(sd.doc, table, base, undefined, {
      shards: 1,
      lease: { owner: 'writer-b', now: () => Date.now() + clock.skew },
    });
    await a.append(entry('a', 1));
    // Every shard is leased to a: b falls back to hashing (reads the head, no lease).
    await b.append(entry('b', 1));
    // ...and for a while appends without probing the leased shards again (one refused write, not one per append).
    await b.append(entry('b', 2));
    expect(b.stats.lease).toMatchObject({ acquired: 0, conflicts: 1, fallbacks: 2 });
    // b's clock runs two minutes ahead: a's lease looks expired to b, which takes the shard over.
    clock.skew = 120_000;
    await b.append(entry('b', 3));
    expect((await chainOf(`${base}#0`)).head.leaseOwner).toBe('writer-b');
    // a still believes it holds the lease: its transaction is cancelled, then it falls back.
    await a.append(entry('a', 2));

    const { head, records } = await chainOf(`${base}#0`);
    expect(a.stats).toMatchObject({ cancelled: 1, records: 2 });
    expect(records.map((r) => [r.seq, r.actor.name])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'b'],
      [4, 'b'],
      [5, 'a'],
    ]);
    expect(head).toMatchObject({ headSeq: 5, headHash: records[4]?.hash, leaseOwner: 'writer-b' });
    for (const [i, r] of records.entries())
      expect(r.prevHash).toBe(i === 0 ? '0'.repeat(64) : records[i - 1]?.hash);
  });
});
