import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildRecord,
  type ChainHead,
  canonicalJson,
  chainHeadOf,
  recordHash,
} from '../../lambdas/audit/audit-chain.ts';
import { verifyChain } from '../../lambdas/audit/audit-chain-verify.ts';
import { findSecretMaterial } from '../../lambdas/audit/audit-secrets.ts';
import {
  ACTOR_TYPES,
  AUDIT_RECORD_TYPES,
  type AuditRecord,
  type AuditRecordInput,
  CREDENTIAL_KINDS,
} from '../../lambdas/shared/schemas/audit-record.ts';

// Strings stay under 40 characters so no generated value can look like a secret key.
const text = fc.string({ minLength: 1, maxLength: 30 });

const detailValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.maxSafeInteger(),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
);

const inputArb: fc.Arbitrary<AuditRecordInput> = fc.record(
  {
    type: fc.constantFrom(...AUDIT_RECORD_TYPES),
    at: fc
      .date({
        min: new Date('2000-01-01T00:00:00.000Z'),
        max: new Date('2099-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      })
      .map((date) => date.toISOString()),
    workloadId: text,
    credentialId: text,
    credentialKind: fc.constantFrom(...CREDENTIAL_KINDS),
    trigger: fc.record(
      {
        eventId: text,
        source: text,
        detailType: text,
        kind: fc.constantFrom('event', 'cli', 'reconciliation', 'broker'),
      },
      { requiredKeys: [] },
    ),
    actor: fc.record(
      { type: fc.constantFrom(...ACTOR_TYPES), name: text, requestId: text },
      { requiredKeys: ['type', 'name'] },
    ),
    outcome: fc.constantFrom('success', 'error', 'skipped'),
    reason: fc.string({ maxLength: 39 }),
    details: fc.dictionary(
      fc.constantFrom('roleArn', 'caArn', 'serial', 'timeToRevokeMs', 'note'),
      detailValue,
      {
        maxKeys: 4,
      },
    ),
  },
  { requiredKeys: ['type', 'at', 'actor', 'outcome'] },
);

function buildChain(inputs: AuditRecordInput[], chainId: string): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const input of inputs) {
    const last = records.at(-1);
    records.push(buildRecord(input, last ? chainHeadOf(last) : null, chainId));
  }
  return records;
}

const chainArb = fc
  .tuple(fc.array(inputArb, { minLength: 1, maxLength: 10 }), fc.string({ minLength: 1, maxLength: 20 }))
  .map(([inputs, chainId]) => buildChain(inputs, chainId));

/** A chain plus a valid 0-based index into it. */
const chainWithIndex = chainArb.chain((records) =>
  fc.tuple(fc.constant(records), fc.integer({ min: 0, max: records.length - 1 })),
);

function headOf(records: AuditRecord[]): ChainHead {
  return chainHeadOf(records.at(-1) as AuditRecord);
}

function replaceAt(records: AuditRecord[], index: number, record: AuditRecord): AuditRecord[] {
  return records.map((original, at) => (at === index ? record : original));
}

const flipHex = (hash: string) => (hash.startsWith('0') ? `1${hash.slice(1)}` : `0${hash.slice(1)}`);

/** One edit per stored field, each guaranteed to change the field's canonical JSON. */
const MUTATIONS: Record<string, (record: AuditRecord) => AuditRecord> = {
  type: (r) => ({ ...r, type: AUDIT_RECORD_TYPES.find((type) => type !== r.type) ?? 'issued' }),
  at: (r) => ({ ...r, at: new Date(Date.parse(r.at) + 1).toISOString() }),
  workloadId: (r) => ({ ...r, workloadId: `${r.workloadId ?? ''}~` }),
  credentialId: (r) => ({ ...r, credentialId: `${r.credentialId ?? ''}~` }),
  credentialKind: (r) => ({
    ...r,
    credentialKind: CREDENTIAL_KINDS.find((kind) => kind !== r.credentialKind),
  }),
  trigger: (r) => ({ ...r, trigger: { ...r.trigger, eventId: `${r.trigger?.eventId ?? ''}~` } }),
  actor: (r) => ({ ...r, actor: { ...r.actor, name: `${r.actor.name}~` } }),
  outcome: (r) => ({ ...r, outcome: `${r.outcome}~` }),
  reason: (r) => ({ ...r, reason: `${r.reason ?? ''}~` }),
  details: (r) => ({ ...r, details: { ...r.details, tampered: true } }),
  chainId: (r) => ({ ...r, chainId: `${r.chainId}~` }),
  prevHash: (r) => ({ ...r, prevHash: flipHex(r.prevHash) }),
  hash: (r) => ({ ...r, hash: flipHex(r.hash) }),
};

describe('audit chain properties', () => {
  it('verifies every chain it builds, also after a JSON round trip through storage', () => {
    fc.assert(
      fc.property(chainArb, (records) => {
        const expected = {
          ok: true,
          count: records.length,
          lastSeq: records.length,
          lastHash: headOf(records).hash,
        };
        const stored = JSON.parse(JSON.stringify(records)) as AuditRecord[];
        expect(verifyChain(records)).toEqual(expected);
        expect(verifyChain(stored, headOf(records))).toEqual(expected);
      }),
    );
  });

  it('detects a single edited field of any record as modified at exactly that seq', () => {
    fc.assert(
      fc.property(chainWithIndex, fc.constantFrom(...Object.keys(MUTATIONS)), ([records, index], field) => {
        const mutate = MUTATIONS[field] as (record: AuditRecord) => AuditRecord;
        const tampered = replaceAt(records, index, mutate(records[index] as AuditRecord));
        expect(verifyChain(tampered, headOf(records))).toMatchObject({
          ok: false,
          problem: 'modified',
          seq: index + 1,
        });
      }),
    );
  });

  it('detects a record rewritten and re-hashed as modified at exactly that seq', () => {
    fc.assert(
      fc.property(chainWithIndex, ([records, index]) => {
        const original = records[index] as AuditRecord;
        const rewritten = { ...original, outcome: `${original.outcome}~` };
        const rehashed = {
          ...rewritten,
          hash: recordHash(rewritten, rewritten.chainId, rewritten.seq, rewritten.prevHash),
        };
        const result = verifyChain(replaceAt(records, index, rehashed), headOf(records));
        expect(result).toMatchObject({ ok: false, problem: 'modified', seq: index + 1 });
      }),
    );
  });

  it('detects any one deleted record at its seq', () => {
    fc.assert(
      fc.property(chainWithIndex, ([records, index]) => {
        const tampered = records.filter((_record, at) => at !== index);
        expect(verifyChain(tampered, headOf(records))).toMatchObject({
          ok: false,
          problem: 'deleted',
          seq: index + 1,
        });
      }),
    );
  });

  it('detects a forged record inserted anywhere, later seqs rewritten', () => {
    const arb = chainArb.chain((records) =>
      fc.tuple(fc.constant(records), fc.integer({ min: 0, max: records.length }), inputArb),
    );
    fc.assert(
      fc.property(arb, ([records, position, input]) => {
        const before = records[position - 1];
        const forged = buildRecord(input, before ? chainHeadOf(before) : null, records[0]?.chainId ?? 'x');
        const shifted = records.slice(position).map((record) => ({ ...record, seq: record.seq + 1 }));
        const tampered = [...records.slice(0, position), forged, ...shifted];
        const result = verifyChain(tampered, headOf(records));
        expect(result).toMatchObject({ ok: false, problem: 'inserted', seq: position + 1 });
      }),
    );
  });

  it('detects any two swapped records as reordered at the earlier seq', () => {
    const arb = chainArb
      .filter((records) => records.length >= 2)
      .chain((records) =>
        fc.tuple(
          fc.constant(records),
          fc.uniqueArray(fc.integer({ min: 0, max: records.length - 1 }), { minLength: 2, maxLength: 2 }),
          fc.boolean(),
        ),
      );
    fc.assert(
      fc.property(arb, ([records, pair, swapSeqFields]) => {
        const [a, b] = [Math.min(...pair), Math.max(...pair)];
        const tampered = [...records];
        const [first, second] = [records[a] as AuditRecord, records[b] as AuditRecord];
        tampered[a] = swapSeqFields ? { ...second, seq: first.seq } : second;
        tampered[b] = swapSeqFields ? { ...first, seq: second.seq } : first;
        expect(verifyChain(tampered, headOf(records))).toMatchObject({
          ok: false,
          problem: 'reordered',
          seq: a + 1,
        });
      }),
    );
  });
});

describe('canonicalJson properties', () => {
  it('is a fixed point of parse-then-encode', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const encoded = canonicalJson(value);
        expect(canonicalJson(JSON.parse(encoded))).toBe(encoded);
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
      }),
    );
  });
});

describe('secret detection properties', () => {
  it('never flags identifiers that are not secret', () => {
    const identifier = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.uuid(),
      fc
        .date({ noInvalidDate: true, min: new Date(0), max: new Date('2999-12-31T00:00:00.000Z') })
        .map((d) => d.toISOString()),
      fc.stringMatching(/^A[KS]IA[A-Z2-7]{16}$/),
      fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{1,64}$/).map((name) => `arn:aws:iam::123456789012:role/${name}`),
    );
    fc.assert(
      fc.property(fc.array(identifier, { maxLength: 5 }), (identifiers) => {
        expect(findSecretMaterial(JSON.stringify(identifiers))).toEqual([]);
      }),
    );
  });
});
