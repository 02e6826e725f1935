/**
 * Sundown's user policy (`SundownRevokedSessions` on an IAM user): a pure rendering of the user's deny
 * entries, checked for shape and, with a real IAM policy evaluator, for reach: temporary sessions issued
 * before the bound are denied, the user's long-term keys and later sessions are not.
 */
import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { USER_INLINE_POLICY_LIMIT } from '../../lambdas/revocation/access-keys/policy-writer.ts';
import {
  renderUserSessionsPolicy,
  type UserSessionsPolicy,
} from '../../lambdas/revocation/access-keys/revoke.ts';
import { type DenyEntry, InvalidDenyEntryError } from '../../lambdas/revocation/deny-policy.ts';

const ACCOUNT = '123456789012';

function entry(notAfter: string, expiresAt: string, sessionName = 'key-AKIAEXAMPLEKEY00001'): DenyEntry {
  return { sessionName, notAfter, expiresAt, reusableName: false };
}

function boundOf(policy: UserSessionsPolicy | null): string | undefined {
  return policy?.Statement[0].Condition.DateLessThan['aws:TokenIssueTime'];
}

describe('renderUserSessionsPolicy', () => {
  const now = new Date('2024-05-01T13:00:00Z');

  it('renders nothing for no entries, so the policy is deleted', () => {
    expect(renderUserSessionsPolicy([], now)).toBeNull();
  });

  it('renders nothing when every entry has expired', () => {
    // Prepare
    const entries = [entry('2024-04-29T10:00:00Z', '2024-04-30T22:00:00Z')];

    // Act
    const policy = renderUserSessionsPolicy(entries, now);

    // Assess
    expect(policy).toBeNull();
  });

  it('renders one Deny * on * before the bound, with no other condition', () => {
    // Act
    const policy = renderUserSessionsPolicy([entry('2024-05-01T12:00:00Z', '2024-05-03T00:00:00Z')], now);

    // Assess
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenySessionsIssuedBeforeRevocation',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2024-05-01T12:00:00Z' } },
        },
      ],
    });
    expect(JSON.stringify(policy).length).toBeLessThan(USER_INLINE_POLICY_LIMIT / 10);
  });

  it('rounds a fractional end up to the next second (IAM compares whole seconds)', () => {
    const policy = renderUserSessionsPolicy([entry('2024-05-01T12:00:00.001Z', '2024-05-03T00:00:00Z')], now);

    expect(boundOf(policy)).toBe('2024-05-01T12:00:01Z');
  });

  it('takes the latest bound among unexpired entries only', () => {
    // Prepare: the later entry expires first (a shorter lifetime), the earlier one lasts longer.
    const entries = [
      entry('2024-05-01T10:00:00Z', '2024-05-02T22:00:00Z'),
      entry('2024-05-01T12:00:00Z', '2024-05-01T14:00:00Z', 'key-AKIAEXAMPLEKEY00002'),
    ];

    // Act
    const before = renderUserSessionsPolicy(entries, new Date('2024-05-01T13:59:59Z'));
    const after = renderUserSessionsPolicy(entries, new Date('2024-05-01T14:00:00Z'));
    const allExpired = renderUserSessionsPolicy(entries, new Date('2024-05-02T22:00:00Z'));

    // Assess
    expect(boundOf(before)).toBe('2024-05-01T12:00:00Z');
    expect(boundOf(after)).toBe('2024-05-01T10:00:00Z');
    expect(allExpired).toBeNull();
  });

  it('depends only on the set of entries, not their order', () => {
    const instant = fc
      .integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2024-12-31T00:00:00Z') })
      .map((ms) => new Date(ms).toISOString());
    const anEntry = fc
      .tuple(instant, fc.integer({ min: 1, max: 36 * 3_600_000 }))
      .map(([notAfter, life]) => entry(notAfter, new Date(Date.parse(notAfter) + life).toISOString()));
    fc.assert(
      fc.property(fc.array(anEntry, { maxLength: 8 }), instant, (entries, at) => {
        const when = new Date(at);
        expect(renderUserSessionsPolicy([...entries].reverse(), when)).toEqual(
          renderUserSessionsPolicy(entries, when),
        );
      }),
    );
  });

  it('refuses an entry whose end time cannot be read, rather than guessing', () => {
    expect(() => renderUserSessionsPolicy([entry('yesterday', '2024-05-03T00:00:00Z')], now)).toThrow(
      InvalidDenyEntryError,
    );
  });
});

/** s3:GetObject by the user, with an allow plus Sundown's policy; `issuedAt` undefined = long-term key. */
async function evaluate(policy: UserSessionsPolicy, issuedAt: string | undefined): Promise<EvaluationResult> {
  const response = await runSimulation(
    {
      identityPolicies: [
        {
          name: 'user-permissions',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
          },
        },
        { name: 'SundownRevokedSessions', policy },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:user/ci-bot`,
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::workload-bucket/data.csv', accountId: ACCOUNT },
        contextVariables: issuedAt ? { 'aws:TokenIssueTime': issuedAt } : {},
      },
    },
    {},
  );
  if (response.resultType === 'error')
    throw new Error(`simulation rejected its input: ${response.errors.message}`);
  return response.overallResult;
}

describe('the user policy, evaluated by an IAM simulator', () => {
  const policy = renderUserSessionsPolicy(
    [entry('2024-05-01T12:00:00.250Z', '2024-05-03T00:00:00Z')],
    new Date('2024-05-01T13:00:00Z'),
  ) as UserSessionsPolicy;

  it('denies a temporary session issued before the end', async () => {
    expect(await evaluate(policy, '2024-05-01T11:00:00Z')).toBe('ExplicitlyDenied');
  });

  it('denies a temporary session issued in the same second as the end', async () => {
    expect(await evaluate(policy, '2024-05-01T12:00:00Z')).toBe('ExplicitlyDenied');
  });

  it('allows a temporary session issued after the bound', async () => {
    expect(await evaluate(policy, '2024-05-01T12:00:01Z')).toBe('Allowed');
  });

  it('allows requests signed with a long-term key (they carry no aws:TokenIssueTime)', async () => {
    expect(await evaluate(policy, undefined)).toBe('Allowed');
  });
});
