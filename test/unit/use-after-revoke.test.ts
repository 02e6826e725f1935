import { describe, expect, it } from 'vitest';
import { useAfterRevokeStatus } from '../../cli/commands/status.ts';
import { CloudTrailErrorDetailSchema } from '../../lambdas/shared/schemas/use-after-revoke.ts';
import {
  attemptOf,
  handleAccessDenied,
  revokedEntryFor,
  type UseAfterRevokeDeps,
  windowStart,
} from '../../lambdas/use-after-revoke/index.ts';

const ROLE = 'arn:aws:iam::123456789012:role/team/workers';
const ROLE_ID = 'AROAEXAMPLEROLEID0001';

function detail(overrides: Record<string, unknown> = {}) {
  return {
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    eventTime: '2026-12-02T07:10:00Z',
    errorCode: 'AccessDenied',
    sourceIPAddress: '198.51.100.4',
    userAgent: 'aws-sdk-js/3',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `${ROLE_ID}:i-0abc`,
      arn: 'arn:aws:sts::123456789012:assumed-role/workers/i-0abc',
      sessionContext: {
        sessionIssuer: { type: 'Role', arn: ROLE },
        attributes: { creationDate: '2026-12-02T06:00:00Z' },
      },
    },
    ...overrides,
  };
}

const envelope = (d: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'ev-1',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.s3',
  account: '123456789012',
  time: '2026-12-02T07:10:01Z',
  region: 'us-east-1',
  detail: d,
  ...extra,
});

describe('attemptOf', () => {
  it('reads role ARN (with path), session name and the API from a role session', () => {
    const parsed = attemptOf(CloudTrailErrorDetailSchema.parse(detail()), '2026-12-02T07:10:01Z');
    expect(parsed).toMatchObject({
      kind: 'attempt',
      attempt: { roleArn: ROLE, sessionName: 'i-0abc', roleId: ROLE_ID, api: 's3.amazonaws.com:ListBuckets' },
    });
  });

  it('ignores identities that are not role sessions, and refuses a principalId that is not AROA…:name', () => {
    const user = detail({ userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE' } });
    expect(attemptOf(CloudTrailErrorDetailSchema.parse(user), 'x').kind).toBe('not-a-session');
    const bad = detail();
    bad.userIdentity.principalId = `${ROLE_ID}:*`;
    expect(attemptOf(CloudTrailErrorDetailSchema.parse(bad), 'x').kind).toBe('invalid');
  });
});

describe('revokedEntryFor', () => {
  const attempt = { sessionName: 'i-0abc', issuedAt: '2026-12-02T06:00:00.000Z' } as Parameters<
    typeof revokedEntryFor
  >[0];
  it('matches only an entry whose bound is after the session was issued', () => {
    const before = { sessionName: 'i-0abc', notAfter: '2026-12-02T05:00:00Z', workloadId: 'a' };
    const after = { sessionName: 'i-0abc', notAfter: '2026-12-02T06:30:00Z', workloadId: 'b' };
    expect(revokedEntryFor(attempt, [before])).toBeUndefined();
    expect(revokedEntryFor(attempt, [before, after])?.workloadId).toBe('b');
    expect(revokedEntryFor(attempt, [{ ...after, sessionName: 'i-0other' }])).toBeUndefined();
  });
});

describe('windowStart', () => {
  it('aligns windows to the epoch', () => {
    expect(windowStart('2026-12-02T07:59:59.999Z', 3600)).toBe('2026-12-02T07:00:00.000Z');
    expect(windowStart('2026-12-02T08:00:00.000Z', 3600)).toBe('2026-12-02T08:00:00.000Z');
  });
});

function fakeDeps(entries: { sessionName: string; notAfter: string; workloadId: string }[]) {
  const counters = new Map<string, { attempts: number; alerted: boolean }>();
  const audited: unknown[] = [];
  const published: unknown[] = [];
  const metrics: string[] = [];
  const deps: UseAfterRevokeDeps = {
    store: {
      revokedEntries: async () => entries,
      countAttempt: async (k) => {
        const key = `${k.roleArn}|${k.sessionName}|${k.windowStart}`;
        const c = counters.get(key) ?? { attempts: 0, alerted: false };
        c.attempts++;
        counters.set(key, c);
        return { ...c };
      },
      claimAlert: async (k) => {
        const c = counters.get(`${k.roleArn}|${k.sessionName}|${k.windowStart}`);
        if (!c || c.alerted) return false;
        c.alerted = true;
        return true;
      },
      releaseAlert: async (k) => {
        const c = counters.get(`${k.roleArn}|${k.sessionName}|${k.windowStart}`);
        if (c) c.alerted = false;
      },
    },
    audit: {
      append: async (input) => {
        audited.push(input);
        return input as never;
      },
    },
    alerts: { publish: async (d) => void published.push(d) },
    metric: (name) => void metrics.push(name),
    actor: { type: 'function', name: 'test' },
    account: '123456789012',
    windowSeconds: 3600,
    now: () => new Date('2026-12-02T07:10:02.000Z'),
  };
  return { deps, audited, published, metrics, counters };
}

describe('handleAccessDenied', () => {
  const revoked = [{ sessionName: 'i-0abc', notAfter: '2026-12-02T07:00:00Z', workloadId: 'i-0abc' }];

  it('alerts on the first attempt of a window and only counts the later ones', async () => {
    const f = fakeDeps(revoked);
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await handleAccessDenied(f.deps, envelope(detail())));
    expect(outcomes).toEqual(['alerted', 'aggregated', 'aggregated']);
    expect(f.audited).toHaveLength(1);
    expect(f.published).toHaveLength(1);
    expect(f.metrics.filter((m) => m === 'UseAfterRevoke')).toHaveLength(1);
    expect(f.metrics.filter((m) => m === 'UseAfterRevokeAttempts')).toHaveLength(3);
  });

  it('gives the alert back when publishing fails, so the retry alerts', async () => {
    const f = fakeDeps(revoked);
    f.deps.alerts = { publish: async () => Promise.reject(new Error('sns down')) };
    await expect(handleAccessDenied(f.deps, envelope(detail()))).rejects.toThrow('sns down');
    f.deps.alerts = { publish: async (d) => void f.published.push(d) };
    expect(await handleAccessDenied(f.deps, envelope(detail()))).toBe('alerted');
  });

  it('does nothing for a session Sundown never revoked', async () => {
    const f = fakeDeps([]);
    expect(await handleAccessDenied(f.deps, envelope(detail()))).toBe('not-revoked');
    expect([f.audited, f.published, f.metrics]).toEqual([[], [], []]);
  });

  it('audits malformed and untrusted input as rejected, without alerting', async () => {
    const f = fakeDeps(revoked);
    expect(await handleAccessDenied(f.deps, envelope({ errorCode: 'AccessDenied' }))).toBe('rejected');
    expect(await handleAccessDenied(f.deps, envelope(detail(), { account: '999999999999' }))).toBe(
      'rejected',
    );
    expect(await handleAccessDenied(f.deps, { nope: true })).toBe('rejected');
    expect(f.audited.map((r) => (r as { type: string }).type)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(f.published).toEqual([]);
  });
});

describe('useAfterRevokeStatus', () => {
  it('is active only with a logging trail and a stack that has the detection', () => {
    const logging = { state: 'logging' as const, region: 'us-east-1', trails: ['t'] };
    expect(useAfterRevokeStatus(logging, true).active).toBe(true);
    expect(useAfterRevokeStatus(logging, false).active).toBe(false);
    const missing = { state: 'missing', region: 'us-east-1', detail: 'none' } as const;
    expect(useAfterRevokeStatus(missing, true)).toMatchObject({ active: false, detail: /inactive/ });
  });
});
