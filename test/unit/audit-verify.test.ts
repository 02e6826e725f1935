import { describe, expect, it } from 'vitest';
import { buildRecord, type ChainHead, chainHeadOf } from '../../lambdas/audit/audit-chain.ts';
import { type AuditChainReader, verifyAuditChain } from '../../lambdas/audit/audit-verify.ts';
import type { AuditRecord } from '../../lambdas/shared/schemas/audit-record.ts';

/** An in-memory stand-in for the DynamoDB table: `records` by seq, and the head item. */
class FakeChain implements AuditChainReader {
  readonly chainId = 'main';
  records = new Map<number, AuditRecord>();
  headItem: ChainHead | null = null;
  append(count: number, startMs = Date.UTC(2024, 4, 1, 12)): this {
    for (let made = 0; made < count; made++) {
      const record = buildRecord(
        {
          type: 'issued',
          at: new Date(startMs + this.records.size * 60_000).toISOString(),
          actor: { type: 'function', name: 'test' },
          outcome: 'recorded',
          credentialId: `rs-${this.records.size}`,
        },
        this.headItem,
        this.chainId,
      );
      this.records.set(record.seq, record);
      this.headItem = chainHeadOf(record);
    }
    return this;
  }

  async head() {
    return this.headItem;
  }

  async *scanChain(fromSeq = 1) {
    const sorted = [...this.records.values()].filter((r) => r.seq >= fromSeq).sort((a, b) => a.seq - b.seq);
    for (const record of sorted) yield record;
  }

  async firstSeqSince(at: string) {
    const seqs = [...this.records.values()].filter((r) => r.at >= at).map((r) => r.seq);
    return seqs.length ? Math.min(...seqs) : undefined;
  }
}

describe('verifyAuditChain', () => {
  it('reports an empty chain as intact with count 0', async () => {
    expect(await verifyAuditChain(new FakeChain())).toMatchObject({
      ok: true,
      count: 0,
      headSeq: 0,
      lastSeq: 0,
    });
  });

  it('verifies the whole chain against the head', async () => {
    const chain = new FakeChain().append(12);

    const result = await verifyAuditChain(chain);

    expect(result).toMatchObject({ ok: true, count: 12, fromSeq: 1, lastSeq: 12, headSeq: 12 });
  });

  it('with since, counts the window only but checks the record before it as an anchor', async () => {
    // Prepare: record seq n is stamped 12:00 + (n-1) minutes.
    const chain = new FakeChain().append(10);
    const since = '2024-05-01T12:06:30.000Z'; // first record in the window: seq 8

    // Act
    const intact = await verifyAuditChain(chain, { since });
    chain.records.delete(8);
    const firstDeleted = await verifyAuditChain(chain, { since });

    // Assess
    expect(intact).toMatchObject({ ok: true, count: 3, fromSeq: 8, lastSeq: 10, since });
    expect(firstDeleted).toMatchObject({ ok: false, problem: 'deleted', seq: 8 });
  });

  it('with since, ignores tampering before the anchor and reports it inside the window', async () => {
    const chain = new FakeChain().append(10);
    const since = '2024-05-01T12:06:30.000Z';
    const early = chain.records.get(3) as AuditRecord;
    chain.records.set(3, { ...early, reason: 'edited' });

    expect(await verifyAuditChain(chain, { since })).toMatchObject({ ok: true, count: 3 });
    expect(await verifyAuditChain(chain)).toMatchObject({ ok: false, problem: 'modified', seq: 3 });
  });

  it('with a since after the last record, still checks the last record against the head', async () => {
    const chain = new FakeChain().append(4);

    const intact = await verifyAuditChain(chain, { since: '2030-01-01T00:00:00.000Z' });
    chain.records.delete(4);
    const tailDeleted = await verifyAuditChain(chain, { since: '2030-01-01T00:00:00.000Z' });

    expect(intact).toMatchObject({ ok: true, count: 0, fromSeq: 5, headSeq: 4 });
    expect(tailDeleted).toMatchObject({ ok: false, problem: 'deleted', seq: 4 });
  });

  it('does not mistake a record appended during the scan for an insertion past the head', async () => {
    const chain = new FakeChain().append(5);
    const headBefore = chain.headItem;
    chain.append(1); // seq 6 is in the table when the records are read ...
    let reads = 0;
    chain.head = async () => (reads++ === 0 ? headBefore : chain.headItem); // ... but the first head read predates it

    const result = await verifyAuditChain(chain);

    expect(result).toMatchObject({ ok: true, count: 5, lastSeq: 5, concurrentAppends: true });
  });

  it('reports a record beyond an unchanged head as inserted', async () => {
    const chain = new FakeChain().append(5);
    const head = chain.headItem;
    chain.append(1);
    chain.headItem = head;

    expect(await verifyAuditChain(chain)).toMatchObject({ ok: false, problem: 'inserted', seq: 6 });
  });

  it('reports a missing head item at seq 0 when records exist', async () => {
    const chain = new FakeChain().append(3);
    chain.headItem = null;

    expect(await verifyAuditChain(chain)).toMatchObject({ ok: false, problem: 'deleted', seq: 0 });
  });

  it('reports a head item without a valid seq and hash at seq 0', async () => {
    const chain = new FakeChain().append(3);
    chain.headItem = { seq: Number.NaN, hash: 'undefined' };

    const result = await verifyAuditChain(chain);

    expect(result).toMatchObject({ ok: false, problem: 'modified', seq: 0 });
    expect(result.ok === false && result.message).toMatch(/chain head item \(seq 0\) was modified/);
  });
});
