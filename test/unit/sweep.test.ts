/**
 * The reconciliation sweep's pure decisions: when a credential has expired, when a workload's
 * liveness answer revokes, when a key is idle, and when a deny is missing from IAM.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPEN_ENDED } from '../../lambdas/registration/index.ts';
import { deniedSessionsIn } from '../../lambdas/revocation/role-sessions/policy-reader.ts';
import type { StoredDenyEntry } from '../../lambdas/revocation/store.ts';
import type { KeyUsage } from '../../lambdas/shared/adapters/access-key-usage.ts';
import { credentialIdFor } from '../../lambdas/shared/domain/workload-id.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';
import {
  credentialIdOfEntry,
  deniedInIam,
  entriesMissingFromIam,
  hasExpired,
  idleDecision,
  type Liveness,
  MISSED_END_REASON,
  reconcileDecision,
} from '../../lambdas/sweep/index.ts';

const NOW = new Date('2024-05-01T12:00:00.000Z');
const DAY = 86_400_000;
const ROLE = 'arn:aws:iam::123456789012:role/workers';

function credential(overrides: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    credentialId: 'rs-000000000000000000000001',
    kind: 'role-session',
    workloadId: 'ci/build-1',
    workloadKind: 'custom',
    status: 'active',
    issuedAt: '2024-05-01T10:00:00.000Z',
    expiresAt: '2024-05-01T11:00:00.000Z',
    issuer: 'broker',
    account: '123456789012',
    region: 'us-east-1',
    roleArn: ROLE,
    sessionName: 'build-1',
    ...overrides,
  };
}

function entry(overrides: Partial<StoredDenyEntry> = {}): StoredDenyEntry {
  return {
    sessionName: 'i-0123456789abcdef0',
    notAfter: '2024-05-01T11:00:00.000Z',
    expiresAt: '2024-05-01T17:00:00.000Z',
    reusableName: false,
    workloadId: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0',
    ...overrides,
  };
}

describe('hasExpired', () => {
  it('expires role sessions and certificates past expiresAt, not before', () => {
    expect(hasExpired(credential(), NOW)).toBe(true);
    expect(hasExpired(credential({ expiresAt: '2024-05-01T12:00:00.000Z' }), NOW)).toBe(true);
    expect(hasExpired(credential({ expiresAt: '2024-05-01T12:00:00.001Z' }), NOW)).toBe(false);
    expect(
      hasExpired(credential({ kind: 'certificate', credentialId: 'ct-000000000000000000000001' }), NOW),
    ).toBe(true);
  });

  it('never expires an access key by time (it works until deactivated) or an open-ended discovered session', () => {
    expect(
      hasExpired(
        credential({
          kind: 'access-key',
          credentialId: 'ak-000000000000000000000001',
          expiresAt: '2000-01-01T00:00:00.000Z',
        }),
        NOW,
      ),
    ).toBe(false);
    expect(hasExpired(credential({ expiresAt: OPEN_ENDED }), NOW)).toBe(false);
  });
});

describe('reconcileDecision', () => {
  it('revokes an ended or gone workload, saying the end event was missed', () => {
    const ended = reconcileDecision({
      state: 'ended',
      endedAt: '2024-05-01T11:00:00.000Z',
      detail: 'instance is terminated',
    });
    const gone = reconcileDecision({ state: 'gone', detail: 'EC2 no longer knows the instance' });

    expect(ended).toEqual({
      revoke: true,
      reason: `${MISSED_END_REASON} (instance is terminated since 2024-05-01T11:00:00.000Z)`,
    });
    expect(gone.revoke).toBe(true);
    expect(gone.reason.startsWith(MISSED_END_REASON)).toBe(true);
  });

  it('never revokes a live workload or on an uncertain answer', () => {
    expect(reconcileDecision({ state: 'live', detail: 'instance is running' })).toMatchObject({
      revoke: false,
      uncertain: false,
    });
    expect(reconcileDecision({ state: 'unknown', detail: 'DescribeJobs failed' })).toMatchObject({
      revoke: false,
      uncertain: true,
    });
    expect(reconcileDecision(undefined)).toMatchObject({ revoke: false, uncertain: true });
  });

  it('revokes exactly when the platform answered ended or gone (property)', () => {
    const liveness = fc.oneof(
      fc.record({ state: fc.constant('live' as const), detail: fc.string() }),
      fc.record({ state: fc.constant('ended' as const), detail: fc.string() }),
      fc.record({ state: fc.constant('gone' as const), detail: fc.string() }),
      fc.record({ state: fc.constant('unknown' as const), detail: fc.string() }),
    );
    fc.assert(
      fc.property(liveness, (l: Liveness) => {
        expect(reconcileDecision(l).revoke).toBe(l.state === 'ended' || l.state === 'gone');
      }),
    );
  });
});

describe('idleDecision', () => {
  const issued40DaysAgo = new Date(NOW.getTime() - 40 * DAY).toISOString();

  it('calls a key idle when its last use is older than the period', () => {
    const usage: KeyUsage = { state: 'found', lastUsedAt: new Date(NOW.getTime() - 31 * DAY).toISOString() };

    const decision = idleDecision(usage, issued40DaysAgo, NOW, 30);

    expect(decision.idle).toBe(true);
    expect(decision.reason).toMatch(/^idle: access key not used for 30 days \(last used /);
  });

  it('counts from the registration when the key was never used', () => {
    expect(idleDecision({ state: 'found' }, issued40DaysAgo, NOW, 30)).toMatchObject({
      idle: true,
      since: issued40DaysAgo,
    });
    expect(
      idleDecision({ state: 'found' }, new Date(NOW.getTime() - 2 * DAY).toISOString(), NOW, 30).idle,
    ).toBe(false);
  });

  it('keeps a recently used key, and never calls a key idle on a failed or empty lookup', () => {
    const recent: KeyUsage = { state: 'found', lastUsedAt: new Date(NOW.getTime() - DAY).toISOString() };
    expect(idleDecision(recent, issued40DaysAgo, NOW, 30).idle).toBe(false);
    expect(idleDecision({ state: 'not-found' }, issued40DaysAgo, NOW, 30).idle).toBe(false);
    expect(idleDecision({ state: 'unknown', detail: 'Throttling' }, issued40DaysAgo, NOW, 30).idle).toBe(
      false,
    );
  });

  it('is monotonic: a key idle for a period is idle for every shorter one (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 365 }), (ageDays, days) => {
        const lastUsedAt = new Date(NOW.getTime() - ageDays * DAY).toISOString();
        const idle = idleDecision({ state: 'found', lastUsedAt }, lastUsedAt, NOW, days).idle;
        expect(idle).toBe(ageDays >= days);
        if (idle && days > 1)
          expect(idleDecision({ state: 'found', lastUsedAt }, lastUsedAt, NOW, days - 1).idle).toBe(true);
      }),
    );
  });
});

describe('drift checks', () => {
  it('derives the credential a deny entry was written for', () => {
    const e = entry();
    expect(credentialIdOfEntry(ROLE, e)).toBe(
      credentialIdFor({
        kind: 'role-session',
        roleArn: ROLE,
        sessionName: e.sessionName,
        workloadId: e.workloadId,
      }),
    );
    const userArn = 'arn:aws:iam::123456789012:user/ci/ci-bot';
    expect(credentialIdOfEntry(userArn, entry({ sessionName: 'key-AKIAEXAMPLEKEY00001' }))).toBe(
      credentialIdFor({ kind: 'access-key', userName: 'ci-bot', accessKeyId: 'AKIAEXAMPLEKEY00001' }),
    );
    expect(credentialIdOfEntry(userArn, entry({ sessionName: 'not-a-key-entry' }))).toBeUndefined();
  });

  it('reads the denied session names and their bounds from rendered policies', () => {
    const doc = (bound: string, names: string[]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: {
              StringLike: { 'aws:userid': names.map((n) => `*:${n}`) },
              DateLessThan: { 'aws:TokenIssueTime': bound },
            },
          },
        ],
      });

    const denied = deniedSessionsIn([
      doc('2024-05-01T11:00:01Z', ['i-1', 'i-2']),
      doc('2024-05-01T11:30:00Z', ['i-2']),
      'not json',
    ]);

    expect(denied).toEqual(
      new Map([
        ['i-1', Date.parse('2024-05-01T11:00:01Z')],
        ['i-2', Date.parse('2024-05-01T11:30:00Z')],
      ]),
    );
  });

  it('reads a statement without a date condition as denying its names at any issue time', () => {
    const unbounded = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringLike: { 'aws:userid': ['*:i-3'] } },
        },
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringLike: { 'aws:userid': ['*:i-4'] },
            DateLessThan: { 'aws:TokenIssueTime': 'soon' },
          },
        },
      ],
    });

    const denied = deniedSessionsIn([unbounded]);

    // An unreadable bound is not taken as a deny: the sweep then restores it.
    expect(denied).toEqual(new Map([['i-3', Number.POSITIVE_INFINITY]]));
    expect(deniedInIam(entry({ sessionName: 'i-3' }), denied)).toBe(true);
  });

  it('finds an unexpired entry IAM does not deny, or denies with an earlier bound', () => {
    const e = entry();
    const state = { entries: [e], version: 3, renderedVersion: 3, unplaced: 0 };

    expect(entriesMissingFromIam(state, new Map(), NOW)).toEqual([e]);
    expect(
      entriesMissingFromIam(state, new Map([[e.sessionName, Date.parse('2024-05-01T10:59:59Z')]]), NOW),
    ).toEqual([e]);
    expect(
      entriesMissingFromIam(state, new Map([[e.sessionName, Date.parse('2024-05-01T11:00:00Z')]]), NOW),
    ).toEqual([]);
    expect(deniedInIam(e, new Map([[e.sessionName, Date.parse('2024-05-01T11:00:01Z')]]))).toBe(true);
  });

  it('checks nothing while a render is pending, when capacity is exhausted, or for expired entries', () => {
    const e = entry();
    expect(
      entriesMissingFromIam({ entries: [e], version: 4, renderedVersion: 3, unplaced: 0 }, new Map(), NOW),
    ).toEqual([]);
    expect(
      entriesMissingFromIam({ entries: [e], version: 3, renderedVersion: 3, unplaced: 2 }, new Map(), NOW),
    ).toEqual([]);
    const expired = entry({ expiresAt: '2024-05-01T11:59:59.000Z' });
    expect(
      entriesMissingFromIam(
        { entries: [expired], version: 3, renderedVersion: 3, unplaced: 0 },
        new Map(),
        NOW,
      ),
    ).toEqual([]);
  });
});
