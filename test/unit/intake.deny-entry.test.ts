/**
 * The deny entry the intake stores for a role session: an end that may have a live successor under
 * the same session name (a GuardDuty finding on a running instance, a stopped instance) keeps its
 * exact bound even when the credential was recorded at start as never reused.
 */
import { describe, expect, it } from 'vitest';
import { denyBoundFor, roleDenyEntryFor } from '../../lambdas/revocation/intake.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';

const HOURS = { ec2: 6, ecs: 6, lambda: 12, batch: 6, codebuild: 8, custom: 12, accessKeySessions: 36 };
const credential = (reusableSessionName?: boolean): CredentialRecord => ({
  credentialId: 'rs-000000000000000000000001',
  kind: 'role-session',
  workloadId: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0',
  workloadKind: 'ec2',
  status: 'active',
  issuedAt: '2024-05-01T11:00:00.000Z',
  expiresAt: '9999-12-31T00:00:00.000Z',
  issuer: 'discovery',
  account: '123456789012',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::123456789012:role/fleet',
  sessionName: 'i-0123456789abcdef0',
  ...(reusableSessionName === undefined ? {} : { reusableSessionName }),
});

describe('roleDenyEntryFor', () => {
  it.each([
    [false, true, true],
    [undefined, true, true],
    [true, false, true],
    [false, false, false],
    [undefined, false, false],
  ])('recorded reusable=%s, end reusable=%s -> entry reusable=%s', (recorded, end, expected) => {
    const entry = roleDenyEntryFor(credential(recorded), '2024-05-01T12:00:00.500Z', HOURS as never, end);
    expect(entry?.reusableName).toBe(expected);
    expect(entry?.notAfter).toBe('2024-05-01T12:00:01.000Z');
    expect(entry?.expiresAt).toBe('2024-05-01T18:00:00.500Z');
  });
});

describe('denyBoundFor', () => {
  it('covers the whole second an end is stamped in: EventBridge truncates event times to seconds', () => {
    // An instance stamped as terminated at 12:00:27 ended in [12:00:27, 12:00:28): a session it got at
    // 12:00:27.3 (aws:TokenIssueTime 12:00:27) must be denied, so the bound is 12:00:28.
    expect(denyBoundFor('2024-05-01T12:00:27.000Z')).toBe('2024-05-01T12:00:28.000Z');
    expect(denyBoundFor('2024-05-01T12:00:27Z')).toBe('2024-05-01T12:00:28.000Z');
    expect(denyBoundFor('2024-05-01T12:00:27.999Z')).toBe('2024-05-01T12:00:28.000Z');
  });
});
