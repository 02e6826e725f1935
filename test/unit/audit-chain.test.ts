import { describe, expect, it } from 'vitest';
import {
  buildRecord,
  type ChainHead,
  canonicalJson,
  chainHeadOf,
  GENESIS_HASH,
  InvalidAuditRecordError,
  recordHash,
} from '../../lambdas/audit/audit-chain.ts';
import { verifyChain } from '../../lambdas/audit/audit-chain-verify.ts';
import {
  assertNoSecretMaterial,
  findSecretMaterial,
  SecretMaterialError,
} from '../../lambdas/audit/audit-secrets.ts';
import type { AuditRecord, AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';

const CHAIN = 'workload-chain';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/SundownWorkloadRoleForProductionBatch1';
const FAKE_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const FAKE_SESSION_TOKEN = `IQoJb3JpZ2luX2VjEHUaCXVzLWVhc3QtMSJHMEUCIQD${'Ab3/Zx9+'.repeat(30)}EXAMPLE==`;
const FAKE_PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAexample\n-----END RSA PRIVATE KEY-----';

function input(index: number): AuditRecordInput {
  return {
    type: index % 2 === 0 ? 'issued' : 'revoked',
    at: new Date(Date.UTC(2024, 4, 1, 12, 0, index)).toISOString(),
    workloadId: `task-${index}`,
    credentialKind: 'role-session',
    actor: { type: 'function', name: 'revoker', requestId: `req-${index}` },
    outcome: 'success',
    details: { roleArn: ROLE_ARN, timeToRevokeMs: 1200 + index },
  };
}

function chainOf(length: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let index = 0; index < length; index++) {
    const last = records.at(-1);
    records.push(buildRecord(input(index), last ? chainHeadOf(last) : null, CHAIN));
  }
  return records;
}

function headOf(records: AuditRecord[]): ChainHead {
  return chainHeadOf(records.at(-1) as AuditRecord);
}

/** What an attacker who re-hashes a record they rewrote produces. */
function rehash(record: AuditRecord): AuditRecord {
  return { ...record, hash: recordHash(record, record.chainId, record.seq, record.prevHash) };
}

function at(records: AuditRecord[], seq: number): AuditRecord {
  return records[seq - 1] as AuditRecord;
}

/** Swap the seq fields of two records and re-sort by seq, as a storage query would return them. */
function swapSeqs(records: AuditRecord[], a: number, b: number): AuditRecord[] {
  return records
    .map((record) =>
      record.seq === a ? { ...record, seq: b } : record.seq === b ? { ...record, seq: a } : record,
    )
    .sort((left, right) => left.seq - right.seq);
}

describe('canonicalJson', () => {
  it('ignores key order at every depth and drops undefined members', () => {
    // Prepare
    const left = { b: 1, a: { d: [3, { y: true, x: null }], c: 'z' }, skip: undefined };
    const right = { a: { c: 'z', d: [3, { x: null, y: true }] }, b: 1 };

    // Act
    const encoded = canonicalJson(left);

    // Assess
    expect(encoded).toBe(canonicalJson(right));
    expect(encoded).toBe('{"a":{"c":"z","d":[3,{"x":null,"y":true}]},"b":1}');
  });

  it('keeps array order and writes undefined array items as null, like JSON', () => {
    expect(canonicalJson([3, 1, undefined, 2])).toBe('[3,1,null,2]');
  });

  it('escapes strings exactly as JSON.stringify does', () => {
    const tricky = 'quote " backslash \\ newline \n emoji 😀 lone \ud800';
    expect(canonicalJson({ tricky })).toBe(`{"tricky":${JSON.stringify(tricky)}}`);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 1n],
    ['a function', () => 1],
    ['a Date', new Date(0)],
  ])('throws on %s', (_name, value) => {
    expect(() => canonicalJson({ value })).toThrow(TypeError);
  });

  it('throws on a bare undefined, which has no JSON form', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });

  it('throws on circular references', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
  });
});

describe('buildRecord', () => {
  it('starts a chain at seq 1 from the genesis hash and links each record to the previous one', () => {
    // Act
    const records = chainOf(3);

    // Assess
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(at(records, 1).prevHash).toBe(GENESIS_HASH);
    expect(at(records, 2).prevHash).toBe(at(records, 1).hash);
    expect(at(records, 3).prevHash).toBe(at(records, 2).hash);
    for (const record of records) {
      expect(record.hash).toBe(recordHash(record, CHAIN, record.seq, record.prevHash));
      expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('stores no undefined members, so the stored item re-hashes to the same value', () => {
    // Prepare
    const withUndefined = { ...input(0), reason: undefined, trigger: { kind: 'event', eventId: undefined } };

    // Act
    const record = buildRecord(withUndefined, null, CHAIN);

    // Assess
    expect('reason' in record).toBe(false);
    expect(record.trigger).toEqual({ kind: 'event' });
    const reread = JSON.parse(JSON.stringify(record)) as AuditRecord;
    expect(verifyChain([reread])).toEqual({ ok: true, count: 1, lastSeq: 1, lastHash: record.hash });
  });

  it.each([
    ['an unknown type', { type: 'deleted' }, /type/],
    ['a timestamp without milliseconds', { at: '2024-05-01T12:00:00Z' }, /at: must be an ISO-8601/],
    ['a non-UTC timestamp', { at: '2024-05-01T12:00:00.000+02:00' }, /at:/],
    ['an impossible date', { at: '2024-02-30T12:00:00.000Z' }, /real calendar date/],
    ['an unknown field', { extra: 'x' }, /extra/],
    ['a reason over 1000 characters', { reason: 'x'.repeat(1001) }, /reason/],
    ['an unknown credential kind', { credentialKind: 'password' }, /credentialKind/],
    ['a nested detail object', { details: { nested: { a: 1 } } }, /details/],
    ['an empty outcome', { outcome: '' }, /outcome/],
    ['a fractional detail number', { details: { seconds: 1.5 } }, /details\.seconds/],
    ['a detail number beyond safe integers', { details: { big: 2 ** 60 } }, /details\.big/],
    ['a lone surrogate', { workloadId: 'task-\ud800' }, /workloadId: must be well-formed unicode/],
    ['an actor without a name', { actor: { type: 'cli' } }, /actor\.name/],
    ['an account that is not 12 digits', { account: '12345' }, /account: must be a 12-digit AWS account ID/],
  ])('rejects %s with InvalidAuditRecordError', (_name, patch, message) => {
    // Prepare
    const bad = { ...input(0), ...patch } as unknown as AuditRecordInput;

    // Act
    const build = () => buildRecord(bad, null, CHAIN);

    // Assess
    expect(build).toThrow(InvalidAuditRecordError);
    expect(build).toThrow(message);
    expect(build).toThrow(/^invalid audit record: /);
  });

  it('stores the account a record is about and covers it with the hash', () => {
    const record = buildRecord({ ...input(0), account: '222222222222' }, null, CHAIN);
    expect(record.account).toBe('222222222222');
    expect(verifyChain([record])).toMatchObject({ ok: true });
    expect(verifyChain([{ ...record, account: '333333333333' }])).toMatchObject({ ok: false });
  });

  it('rejects an empty chain id and a malformed head', () => {
    expect(() => buildRecord(input(0), null, '')).toThrow(/invalid chain id/);
    expect(() => buildRecord(input(0), { seq: 0, hash: GENESIS_HASH }, CHAIN)).toThrow(/invalid chain head/);
    expect(() => buildRecord(input(0), { seq: 1, hash: 'abc' }, CHAIN)).toThrow(InvalidAuditRecordError);
  });

  it.each([
    ['a secret access key in details', { details: { note: FAKE_SECRET_KEY } }, 'aws-secret-access-key'],
    ['a session token in the reason', { reason: FAKE_SESSION_TOKEN }, 'sts-session-token'],
    ['a PEM private key in details', { details: { key: FAKE_PEM } }, 'pem-private-key'],
    ['a secret-named field', { details: { sessionToken: 'x' } }, 'secret-field-name'],
  ])('refuses %s without echoing the secret', (_name, patch, kind) => {
    // Prepare
    const bad = { ...input(0), ...patch } as AuditRecordInput;

    // Act
    let caught: unknown;
    try {
      buildRecord(bad, null, CHAIN);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(SecretMaterialError);
    const message = (caught as Error).message;
    expect(message).toContain(kind);
    expect(message).not.toContain(FAKE_SECRET_KEY);
    expect(message).not.toContain('MIIEpAIBAAKCAQEA');
    expect(findSecretMaterial(message)).toEqual([]);
  });
});

describe('verifyChain on intact chains', () => {
  it('accepts an empty chain with no head', () => {
    expect(verifyChain([], null)).toEqual({ ok: true, count: 0, lastSeq: 0, lastHash: GENESIS_HASH });
  });

  it('accepts an intact chain, with and without its head', () => {
    // Prepare
    const records = chainOf(5);
    const expected = { ok: true, count: 5, lastSeq: 5, lastHash: at(records, 5).hash };

    // Act / Assess
    expect(verifyChain(records)).toEqual(expected);
    expect(verifyChain(records, headOf(records))).toEqual(expected);
  });

  it('reports a stored head with no records as deleted records', () => {
    const records = chainOf(2);
    expect(verifyChain([], headOf(records))).toMatchObject({
      ok: false,
      problem: 'deleted',
      seq: 1,
      count: 0,
    });
  });
});

describe('verifyChain classifies tampering at the first bad record', () => {
  const records = chainOf(8);
  const head = headOf(records);

  function expectProblem(tampered: AuditRecord[], problem: string, seq: number, withHead = true): void {
    const result = verifyChain(tampered, withHead ? head : undefined);
    expect(result).toMatchObject({ ok: false, problem, seq });
    if (!result.ok) {
      expect(result.message).toMatch(/^[a-z]/);
      expect(result.message).toContain(`seq ${seq}`);
    }
  }

  it('detects a field modified in place', () => {
    // Prepare
    const tampered = records.map((record) => (record.seq === 4 ? { ...record, outcome: 'error' } : record));

    // Act
    const result = verifyChain(tampered, head);

    // Assess
    expect(result).toEqual({
      ok: false,
      problem: 'modified',
      seq: 4,
      count: 3,
      message: 'record seq 4 was modified: its hash does not match its content',
    });
  });

  it('detects an edited hash or prevHash field as a modification of that record', () => {
    const flip = (hash: string) => (hash.startsWith('0') ? `1${hash.slice(1)}` : `0${hash.slice(1)}`);
    const hashEdited = records.map((record) =>
      record.seq === 3 ? { ...record, hash: flip(record.hash) } : record,
    );
    const prevEdited = records.map((record) =>
      record.seq === 3 ? { ...record, prevHash: flip(record.prevHash) } : record,
    );
    expectProblem(hashEdited, 'modified', 3);
    expectProblem(prevEdited, 'modified', 3);
  });

  it('detects a seq field edited in place as a modification', () => {
    const tampered = records.map((record) => (record.seq === 5 ? { ...record, seq: 50 } : record));
    expectProblem(tampered, 'modified', 5);
  });

  it('blames a middle record that was rewritten and re-hashed, through its successor', () => {
    const tampered = records.map((record) =>
      record.seq === 4 ? rehash({ ...record, outcome: 'skipped' }) : record,
    );
    expectProblem(tampered, 'modified', 4);
  });

  it('detects a re-hashed last record only through the head', () => {
    // Prepare
    const tampered = records.map((record) =>
      record.seq === 8 ? rehash({ ...record, reason: 'x' }) : record,
    );

    // Act / Assess
    expectProblem(tampered, 'modified', 8);
    expect(verifyChain(tampered).ok).toBe(true);
  });

  it.each([
    ['first', [1], 1],
    ['middle', [5], 5],
    ['two consecutive middle', [4, 5], 4],
    ['last', [8], 8],
    ['last two', [7, 8], 7],
  ])('detects deleting the %s record(s)', (_name, deleted, seq) => {
    const tampered = records.filter((record) => !deleted.includes(record.seq));
    expectProblem(tampered, 'deleted', seq);
  });

  it('detects a middle deletion whose later records were renumbered, with or without re-hashing', () => {
    const renumbered = records
      .filter((record) => record.seq !== 3)
      .map((record, index) => ({ ...record, seq: index + 1 }));
    expectProblem(renumbered, 'deleted', 3);
    expectProblem(renumbered.map(rehash), 'deleted', 3);
  });

  it('cannot see a deleted last record without the head', () => {
    expect(verifyChain(records.slice(0, -1))).toMatchObject({ ok: true, lastSeq: 7 });
  });

  describe('insertions', () => {
    /** A forged record that links correctly to the record before it and has a valid hash. */
    function forgedAfter(seq: number): AuditRecord {
      const before = seq === 0 ? null : chainHeadOf(at(records, seq));
      return buildRecord({ ...input(99), outcome: 'forged' }, before, CHAIN);
    }

    it('detects a record inserted in the middle with later seqs rewritten', () => {
      // Prepare
      const shifted = records.map((record) => (record.seq > 4 ? { ...record, seq: record.seq + 1 } : record));
      const tampered = [...shifted.slice(0, 4), forgedAfter(4), ...shifted.slice(4)];

      // Act / Assess
      expectProblem(tampered, 'inserted', 5);
      expectProblem(
        tampered.map((record) => (record.seq > 5 ? rehash(record) : record)),
        'inserted',
        5,
      );
    });

    it('detects a record inserted before the first one', () => {
      const shifted = records.map((record) => ({ ...record, seq: record.seq + 1 }));
      expectProblem([forgedAfter(0), ...shifted], 'inserted', 1);
    });

    it('detects a forged record that duplicates an existing seq, wherever it sorts', () => {
      const forged = forgedAfter(4);
      expectProblem([...records.slice(0, 4), forged, ...records.slice(4)], 'inserted', 5);
      expectProblem([...records.slice(0, 5), forged, ...records.slice(5)], 'inserted', 5);
    });

    it('detects a forged record that does not even link', () => {
      const forged = rehash({ ...forgedAfter(4), prevHash: 'a'.repeat(64) });
      const shifted = records.map((record) => (record.seq > 4 ? { ...record, seq: record.seq + 1 } : record));
      expectProblem([...shifted.slice(0, 4), forged, ...shifted.slice(4)], 'inserted', 5);
    });

    it('detects a record appended after the head', () => {
      // Prepare
      const tampered = [...records, forgedAfter(8)];

      // Act
      const result = verifyChain(tampered, head);

      // Assess
      expect(result).toMatchObject({ ok: false, problem: 'inserted', seq: 9, count: 8 });
      expect(verifyChain(tampered).ok).toBe(true);
    });
  });

  describe('reordering', () => {
    it.each([
      ['adjacent', 3, 4],
      ['distant', 2, 7],
      ['first and last', 1, 8],
    ])('detects two %s records whose seq fields were swapped', (_name, a, b) => {
      expectProblem(swapSeqs(records, a, b), 'reordered', a);
    });

    it.each([
      ['adjacent', 3, 4],
      ['distant', 2, 7],
    ])('detects two %s records swapped and re-hashed', (_name, a, b) => {
      const tampered = swapSeqs(records, a, b).map((record) =>
        record.seq === a || record.seq === b ? rehash(record) : record,
      );
      expectProblem(tampered, 'reordered', a);
    });

    it('detects two records swapped in position without touching their fields', () => {
      const tampered = [...records];
      [tampered[1], tampered[5]] = [tampered[5] as AuditRecord, tampered[1] as AuditRecord];
      expectProblem(tampered, 'reordered', 2);
    });
  });

  it('reports the number of records verified before the problem', () => {
    expect(
      verifyChain(
        records.filter((record) => record.seq !== 6),
        head,
      ),
    ).toMatchObject({ count: 5 });
    const rewritten = records.map((record) =>
      record.seq === 6 ? rehash({ ...record, outcome: 'x' }) : record,
    );
    expect(verifyChain(rewritten, head)).toMatchObject({ seq: 6, count: 5 });
  });
});

describe('verifyChain on a suffix (--since)', () => {
  const records = chainOf(6);
  const head = headOf(records);
  const suffix = records.slice(3);

  it('accepts a suffix anchored on the hash of the record before it', () => {
    const result = verifyChain(suffix, head, { startSeq: 4, startPrevHash: at(records, 3).hash });
    expect(result).toEqual({ ok: true, count: 3, lastSeq: 6, lastHash: head.hash });
  });

  it('trusts the first prevHash (and seq) when no anchor hash is given', () => {
    expect(verifyChain(suffix, head, { startSeq: 4 })).toMatchObject({ ok: true, count: 3 });
    expect(verifyChain(suffix, head, {})).toMatchObject({ ok: false, problem: 'deleted', seq: 1 });
  });

  it('rejects a suffix that does not start where it should', () => {
    const wrongAnchor = verifyChain(suffix, head, { startSeq: 4, startPrevHash: at(records, 2).hash });
    expect(wrongAnchor).toMatchObject({ ok: false, problem: 'modified', seq: 4, count: 0 });
    expect(verifyChain(records.slice(4), head, { startSeq: 4 })).toMatchObject({
      problem: 'deleted',
      seq: 4,
    });
  });

  it('detects tampering inside the suffix', () => {
    const tampered = suffix.map((record) => (record.seq === 5 ? { ...record, outcome: 'x' } : record));
    expect(verifyChain(tampered, head, { startSeq: 4 })).toMatchObject({
      ok: false,
      problem: 'modified',
      seq: 5,
    });
  });

  it('accepts an empty suffix at the head', () => {
    const result = verifyChain([], head, { startSeq: 7, startPrevHash: head.hash });
    expect(result).toEqual({ ok: true, count: 0, lastSeq: 6, lastHash: head.hash });
  });
});

describe('secret detection', () => {
  it.each([
    ['a 40-character secret access key', `"SecretAccessKey":"${FAKE_SECRET_KEY}"`, 'aws-secret-access-key'],
    [
      'a secret key after an equals sign',
      `aws_secret_access_key=${FAKE_SECRET_KEY}`,
      'aws-secret-access-key',
    ],
    ['an STS session token', `token ${FAKE_SESSION_TOKEN} end`, 'sts-session-token'],
    ['a PEM private key', JSON.stringify({ pem: FAKE_PEM }), 'pem-private-key'],
    ['an EC private key header', '-----BEGIN EC PRIVATE KEY-----', 'pem-private-key'],
  ])('finds %s', (_name, text, kind) => {
    expect(findSecretMaterial(text)).toEqual([kind]);
  });

  it.each([
    ['a role ARN', ROLE_ARN],
    [
      'an assumed-role ARN',
      'arn:aws:sts::123456789012:assumed-role/SundownWorkloadRole/i0123456789abcdefABCD',
    ],
    [
      'a CA ARN',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718',
    ],
    ['an AKIA access key id', 'AKIAIOSFODNN7EXAMPLE'],
    ['an ASIA access key id', 'ASIAY34FZKBOKMUTVV7A'],
    ['a sha256 hex digest', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['two concatenated digests', 'ab'.repeat(64)],
    ['a SHA-1 hex digest', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['an ISO date', '2024-05-01T12:34:56.789Z'],
    ['a UUID', '0f8fad5b-d9cb-469f-a165-70867728950e'],
    ['a certificate serial', '7a:3f:91:00:4c:2b:de:11:98:aa:01:5f:62:c3:77:e0'],
    ['a prose note', 'IAM changes propagate within seconds; the session was denied at 12:00.'],
    ['a 40-letter camel-case word', 'SundownRevokerFunctionServiceRoleDefault'],
  ])('ignores %s', (_name, text) => {
    expect(findSecretMaterial(text)).toEqual([]);
  });

  it('walks nested objects, arrays and keys, and names the path but never the value', () => {
    // Prepare
    const value = { a: [{ b: FAKE_SECRET_KEY }], [FAKE_SECRET_KEY]: 1, c: { SecretAccessKey: 'redacted' } };

    // Act
    let caught: unknown;
    try {
      assertNoSecretMaterial(value);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(SecretMaterialError);
    expect((caught as SecretMaterialError).findings).toEqual([
      { path: '$.a[0].b', kind: 'aws-secret-access-key' },
      { path: '$.<redacted key>', kind: 'aws-secret-access-key' },
      { path: '$.c.SecretAccessKey', kind: 'secret-field-name' },
    ]);
    expect((caught as Error).message).not.toContain(FAKE_SECRET_KEY);
  });

  it('accepts a realistic record payload', () => {
    expect(() => assertNoSecretMaterial({ ...input(0), credentialId: 'ASIAY34FZKBOKMUTVV7A' })).not.toThrow();
  });
});
