import { sign } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { recordHash } from '../../lambdas/audit/audit-chain.ts';
import { parseSealBody, sealBodyText, sealDigest, sealMessage } from '../../lambdas/audit/audit-seal.ts';
import { readTrail } from '../../lambdas/audit/audit-trail.ts';
import { type TrailVerifyOptions, verifyTrail } from '../../lambdas/audit/audit-trail-verify.ts';
import type { AuditRecord } from '../../lambdas/shared/schemas/audit-record.ts';
import { KEY_ID, MemoryTrail, p256 } from './audit-trail-fixture.ts';

let trail: MemoryTrail;
let chain: string;

async function check(options: Partial<TrailVerifyOptions> = {}) {
  const { chains, seals } = await readTrail(trail);
  return verifyTrail(chains, seals, {
    publicKey: trail.key.publicKey,
    keyId: KEY_ID,
    now: trail.now,
    ...options,
  });
}

function put(record: AuditRecord): void {
  trail.chains.get(record.chainId)?.set(record.seq, record);
}

/** Rewrites `chainId` from `fromSeq` on with every hash recomputed, head item moved along. */
function rehashFrom(chainId: string, fromSeq: number, edit: (r: AuditRecord) => AuditRecord): void {
  const chain = trail.chains.get(chainId) as Map<number, AuditRecord>;
  let prevHash = chain.get(fromSeq - 1)?.hash ?? '0'.repeat(64);
  for (const seq of [...chain.keys()].sort((a, b) => a - b).filter((s) => s >= fromSeq)) {
    const edited = { ...edit(chain.get(seq) as AuditRecord), prevHash };
    edited.hash = recordHash(edited, chainId, seq, prevHash);
    chain.set(seq, edited);
    prevHash = edited.hash;
    trail.heads.set(chainId, { seq, hash: edited.hash });
  }
}

beforeEach(async () => {
  // Prepare: 200 records over 4 shards, sealed twice (the second seal over 40 more records).
  trail = new MemoryTrail();
  trail.fill(160);
  await trail.seal();
  trail.fill(40);
  trail.now = new Date(trail.now.getTime() + 60_000);
  await trail.seal();
  chain = trail.busiest();
});

describe('verifyTrail: an intact trail', () => {
  it('verifies every chain and seal, and lists records after the newest seal as not yet sealed', async () => {
    trail.fill(5, 1);

    const result = await check();

    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.seals).toMatchObject({ count: 2, verified: 2, lastEpoch: 2 });
    expect(result.chains.reduce((n, c) => n + c.count, 0)).toBe(205);
    expect(result.unsealed.reduce((n, u) => n + u.count, 0)).toBe(5);
    expect(result.unsealed).toHaveLength(1);
  });
});

describe('verifyTrail: each tamper class is detected and named', () => {
  it('modified: a field edited in place', async () => {
    const r = trail.record(chain, 5);
    put({ ...r, reason: 'edited' });

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ chainId: chain, problem: 'modified', seq: 5 })]);
  });

  it('deleted: a record removed from the middle', async () => {
    trail.chains.get(chain)?.delete(6);

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ chainId: chain, problem: 'deleted', seq: 6 })]);
  });

  it('inserted: a forged record appended past the head', async () => {
    const last = trail.record(chain, trail.heads.get(chain)?.seq as number);
    const forged = { ...last, seq: last.seq + 1, prevHash: last.hash, reason: 'forged' };
    forged.hash = recordHash(forged, chain, forged.seq, forged.prevHash);
    put(forged);

    const { findings } = await check();

    expect(findings).toEqual([
      expect.objectContaining({ chainId: chain, problem: 'inserted', seq: last.seq + 1 }),
    ]);
  });

  it('reordered: two records swapped', async () => {
    const [a, b] = [trail.record(chain, 4), trail.record(chain, 5)];
    put({ ...b, seq: 4 });
    put({ ...a, seq: 5 });

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ chainId: chain, problem: 'reordered', seq: 4 })]);
  });

  it('truncated: the newest records and the head item rolled back together (links still fine)', async () => {
    const size = trail.heads.get(chain)?.seq as number;
    for (const seq of [size, size - 1]) trail.chains.get(chain)?.delete(seq);
    trail.heads.set(chain, { seq: size - 2, hash: trail.record(chain, size - 2).hash });

    const { findings } = await check();

    expect(findings).toEqual([
      expect.objectContaining({ chainId: chain, problem: 'truncated', seq: size - 1 }),
    ]);
  });

  it('rewritten: every hash recomputed after an edit (only the signed seal tells)', async () => {
    rehashFrom(chain, 3, (r) => ({ ...r, outcome: 'rewritten' }));

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ chainId: chain, problem: 'rewritten' })]);
  });

  it('rewritten: a whole chain rebuilt from seq 1, head item included', async () => {
    rehashFrom(chain, 1, (r) => ({ ...r, reason: 'history rewritten' }));

    const { findings, ok } = await check();

    expect(ok).toBe(false);
    expect(findings.map((f) => [f.chainId, f.problem])).toEqual([[chain, 'rewritten']]);
  });

  it('seal-forged: a seal body edited (digest recomputed, signature not)', async () => {
    const seal = trail.sealItems.get(2);
    const body = parseSealBody(seal?.body ?? '');
    if (!seal || !body) throw new Error('no seal 2');
    const text = sealBodyText({ ...body, chains: body.chains.map((c) => ({ ...c, size: c.size + 1 })) });
    trail.sealItems.set(2, { ...seal, body: text, digest: sealDigest(text) });

    const { findings } = await check();

    expect(findings).toContainEqual(
      expect.objectContaining({ chainId: 'seal', problem: 'seal-forged', seq: 2 }),
    );
  });

  it('seal-forged: a seal signed by another key under the trusted key ID', async () => {
    const other = p256();
    const seal = trail.sealItems.get(2);
    if (!seal) throw new Error('no seal 2');
    const signature = sign('sha256', sealMessage(seal.digest), { key: other.privateKey, dsaEncoding: 'der' });
    trail.sealItems.set(2, { ...seal, signature: signature.toString('base64') });

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ problem: 'seal-forged', seq: 2 })]);
  });

  it('seal-wrong-key: a seal naming another key is rejected, and so is a whole trail sealed by another key', async () => {
    const forger = new MemoryTrail('main', 4, p256());
    forger.fill(20);
    await forger.seal(); // same key ID, the forger's own private key
    const { chains, seals } = await readTrail(forger);
    const stolenId = seals.map((s) => ({ ...s, keyId: 'arn:aws:kms:us-east-1:999999999999:key/forger' }));

    const byKey = verifyTrail(chains, seals, {
      publicKey: trail.key.publicKey,
      keyId: KEY_ID,
      now: forger.now,
    });
    const byId = verifyTrail(chains, stolenId, {
      publicKey: trail.key.publicKey,
      keyId: KEY_ID,
      now: forger.now,
    });

    expect(byKey.findings.map((f) => f.problem)).toContain('seal-forged');
    expect(byId.findings.map((f) => f.problem)).toContain('seal-wrong-key');
  });

  it('seal-missing: a seal removed from the middle of the seal chain', async () => {
    trail.now = new Date(trail.now.getTime() + 60_000);
    await trail.seal();
    trail.sealItems.delete(2);

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ chainId: 'seal', problem: 'seal-missing', seq: 3 })]);
  });

  it('seal-missing: the newest seals removed (the newest left is older than the schedule allows)', async () => {
    trail.now = new Date(trail.now.getTime() + 3600_000);

    const { findings } = await check();

    expect(findings).toEqual([expect.objectContaining({ chainId: 'seal', problem: 'seal-missing', seq: 3 })]);
  });
});

describe('verifyTrail: legacy chain (before sharding)', () => {
  it('verifies a legacy chain next to the shards, seals it, and names its tampering as before', async () => {
    trail = new MemoryTrail();
    trail.fill(30, 4, true);
    trail.fill(30);
    await trail.seal();

    const intact = await check();
    const legacy = trail.record('main', 7);
    put({ ...legacy, reason: 'edited' });
    const broken = await check();

    expect(intact.ok).toBe(true);
    expect(intact.chains.find((c) => c.chainId === 'main')).toMatchObject({ count: 30, sealedSeq: 30 });
    expect(broken.findings).toEqual([
      expect.objectContaining({ chainId: 'main', problem: 'modified', seq: 7 }),
    ]);
  });

  it('without any seal, reports records as not yet sealed, or seal-missing with requireSeals', async () => {
    trail = new MemoryTrail();
    trail.fill(10, 2, true);

    const lenient = await check();
    const strict = await check({ requireSeals: true });

    expect(lenient.ok).toBe(true);
    expect(lenient.unsealed).toEqual([{ chainId: 'main', fromSeq: 1, toSeq: 10, count: 10 }]);
    expect(strict.findings).toEqual([expect.objectContaining({ problem: 'seal-missing' })]);
  });
});

describe('the sealer', () => {
  it('seals on schedule even when nothing changed, and refuses to advance a chain tampered before its seal', async () => {
    const quiet = await trail.seal();
    trail.fill(4, 1);
    const busy = trail.busiest();
    const head = trail.heads.get(busy)?.seq as number;
    put({ ...trail.record(busy, head), reason: 'edited before sealing' });

    const report = await trail.seal();
    const sealed = parseSealBody(trail.sealItems.get(report.epoch)?.body ?? '');

    expect(quiet).toMatchObject({ epoch: 3, newRecords: 0, raced: false, problems: [] });
    expect(report.problems).toEqual([expect.objectContaining({ chainId: busy, problem: 'modified' })]);
    expect(sealed?.chains.find((c) => c.chainId === busy)?.size).toBeLessThan(head);
  });
});
