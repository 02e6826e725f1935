import { sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  nextSealBody,
  publicKeyFrom,
  sealBodyText,
  sealDigest,
  sealMessage,
  verifySealSignature,
} from '../../lambdas/audit/audit-seal.ts';
import {
  auditChainIds,
  compareByTime,
  dayShardKey,
  mergeByTime,
  shardChainId,
  shardNumberOf,
  shardOf,
} from '../../lambdas/audit/audit-shards.ts';
import type { AuditRecord } from '../../lambdas/shared/schemas/audit-record.ts';
import { p256 } from './audit-trail-fixture.ts';

const shards = fc.integer({ min: 1, max: 256 });
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const chain = fc.record({
  chainId: fc.string({ minLength: 1, maxLength: 12 }),
  size: fc.nat(),
  headHash: hex64,
});

describe('shard assignment', () => {
  it('is deterministic and always a shard of the trail', () => {
    fc.assert(
      fc.property(fc.string(), shards, (key, n) => {
        const k = shardOf(key, n);
        expect(shardOf(key, n)).toBe(k);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(k).toBeLessThan(n);
        expect(auditChainIds('main', n)).toContain(shardChainId('main', k));
        expect(shardNumberOf(shardChainId('main', k), 'main')).toBe(k);
        expect(dayShardKey('2026-12-02T10:00:00.000Z', k)).toBe(`2026-12-02#${k}`);
      }),
    );
  });

  it('spreads workloads over every shard (no shard takes more than twice its share of 16,000 IDs)', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++)
      counts[shardOf(`arn:aws:ec2:us-east-1:123456789012:instance/i-${i}`, 16)]++;
    expect(Math.max(...counts)).toBeLessThan(2000);
    expect(Math.min(...counts)).toBeGreaterThan(500);
  });

  it('never treats the legacy chain or another base as a shard', () => {
    fc.assert(
      fc.property(fc.string(), (suffix) => {
        expect(shardNumberOf('main', 'main')).toBeUndefined();
        expect(shardNumberOf(`other#${suffix}`, 'main')).toBeUndefined();
      }),
    );
  });
});

describe('seal digest', () => {
  it('is a function of the content only: chain order and key order do not change it', () => {
    fc.assert(
      fc.property(fc.array(chain, { maxLength: 20 }), hex64, fc.nat({ max: 1000 }), (chains, prev, epoch) => {
        const unique = [...new Map(chains.map((c) => [c.chainId, c])).values()];
        const a = nextSealBody({ epoch, digest: prev }, unique, '2026-12-02T10:00:00.000Z', 'o', 300);
        const b = nextSealBody(
          { epoch, digest: prev },
          [...unique].reverse(),
          '2026-12-02T10:00:00.000Z',
          'o',
          300,
        );
        const reordered = {
          ...Object.fromEntries(Object.entries(b).reverse()),
          chains: b.chains.map((c) => Object.fromEntries(Object.entries(c).reverse())),
        } as typeof b;
        expect(sealDigest(sealBodyText(a))).toBe(sealDigest(sealBodyText(b)));
        expect(sealBodyText(reordered)).toBe(sealBodyText(a));
        expect(a.epoch).toBe(epoch + 1);
      }),
    );
  });

  it('changes with any chain size, head hash or previous digest', () => {
    fc.assert(
      fc.property(fc.array(chain, { minLength: 1, maxLength: 8 }), hex64, (chains, prev) => {
        const unique = [...new Map(chains.map((c) => [c.chainId, c])).values()];
        const base = sealDigest(
          sealBodyText(nextSealBody({ epoch: 1, digest: prev }, unique, 't', 'o', 300)),
        );
        const grown = unique.map((c, i) => (i === 0 ? { ...c, size: c.size + 1 } : c));
        expect(
          sealDigest(sealBodyText(nextSealBody({ epoch: 1, digest: prev }, grown, 't', 'o', 300))),
        ).not.toBe(base);
        const otherPrev = prev.replace(/^./, (d) => (d === '0' ? '1' : '0'));
        expect(
          sealDigest(sealBodyText(nextSealBody({ epoch: 1, digest: otherPrev }, unique, 't', 'o', 300))),
        ).not.toBe(base);
      }),
    );
  });

  it('verifies a DER signature from the SPKI public key, and no other digest or key', () => {
    const key = p256();
    const other = p256();
    const spki = key.publicKey.export({ format: 'der', type: 'spki' });
    fc.assert(
      fc.property(hex64, hex64, (digest, another) => {
        fc.pre(digest !== another);
        const signature = sign('sha256', sealMessage(digest), {
          key: key.privateKey,
          dsaEncoding: 'der',
        }).toString('base64');
        expect(verifySealSignature(digest, signature, publicKeyFrom(new Uint8Array(spki)))).toBe(true);
        expect(verifySealSignature(another, signature, key.publicKey)).toBe(false);
        expect(verifySealSignature(digest, signature, other.publicKey)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });
});

describe('mergeByTime', () => {
  it('yields every record of every stream, in time order', async () => {
    const stamp = fc
      .integer({ min: 0, max: 10_000 })
      .map((n) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString());
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(stamp, { maxLength: 20 }), { maxLength: 6 }), async (lists) => {
        const streams = lists.map((ats, s) =>
          ats.sort().map((at, i) => ({ at, chainId: `main#${s}`, seq: i + 1 }) as AuditRecord),
        );
        async function* of(records: AuditRecord[]) {
          yield* records;
        }
        const merged: AuditRecord[] = [];
        for await (const r of mergeByTime(streams.map(of))) merged.push(r);
        expect(merged).toEqual(streams.flat().sort(compareByTime));
      }),
    );
  });
});
