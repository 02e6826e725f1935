import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isServiceLinkedRole,
  parseIamArn,
  partitionOf,
  roleArn,
  sameIamPrincipal,
  userArn,
} from '../../lambdas/shared/domain/iam-arn.ts';

const partition = fc.constantFrom('aws', 'aws-cn', 'aws-us-gov');
const account = fc.stringMatching(/^\d{12}$/);
const name = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
/** Path segments of printable ASCII without `/`, joined into `/a/b/`, at most 512 characters. */
const path = fc
  .array(fc.stringMatching(/^[\x21-\x2e\x30-\x7e]{1,20}$/), { maxLength: 5 })
  .map((segments) => (segments.length === 0 ? '/' : `/${segments.join('/')}/`));

describe('partitionOf', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
  ])('maps %s to %s', (region, expected) => {
    expect(partitionOf(region)).toBe(expected);
  });
});

describe('roleArn and userArn', () => {
  it('keeps the partition and the path', () => {
    expect(roleArn('aws-cn', '123456789012', '/workloads/etl/', 'loader')).toBe(
      'arn:aws-cn:iam::123456789012:role/workloads/etl/loader',
    );
    expect(userArn('aws-us-gov', '123456789012', '/ci/', 'bot')).toBe(
      'arn:aws-us-gov:iam::123456789012:user/ci/bot',
    );
    expect(userArn('aws', '123456789012', '/', 'bot')).toBe('arn:aws:iam::123456789012:user/bot');
  });

  it.each([
    [['aws-iso', '123456789012', '/', 'r'], /partition "aws-iso" is invalid/],
    [['aws', '12345', '/', 'r'], /account "12345" is invalid/],
    [['aws', '123456789012', 'ci/', 'r'], /IAM path "ci\/" is invalid/],
    [['aws', '123456789012', '/ci', 'r'], /IAM path "\/ci" is invalid/],
    [['aws', '123456789012', '/', 'bad*name'], /role name "bad\*name" is invalid/],
    [['aws', '123456789012', '/', ''], /role name "" is invalid/],
  ] as [[string, string, string, string], RegExp][])('rejects %j', ([p, a, pa, n], message) => {
    expect(() => roleArn(p, a, pa, n)).toThrow(message);
  });

  it('round-trips through parseIamArn for every valid input', () => {
    fc.assert(
      fc.property(partition, account, path, name, fc.constantFrom('role', 'user'), (p, a, pa, n, kind) => {
        const arn = kind === 'role' ? roleArn(p, a, pa, n) : userArn(p, a, pa, n);
        expect(parseIamArn(arn)).toEqual({ partition: p, account: a, kind, path: pa, name: n });
      }),
    );
  });
});

describe('parseIamArn', () => {
  it('splits the path from the name at the last slash', () => {
    expect(parseIamArn('arn:aws:iam::123456789012:user/ci/team-a/bot')).toEqual({
      partition: 'aws',
      account: '123456789012',
      kind: 'user',
      path: '/ci/team-a/',
      name: 'bot',
    });
  });

  it.each([
    'arn:aws:iam::123456789012:instance-profile/p',
    'arn:aws:sts::123456789012:assumed-role/r/s',
    'arn:aws-iso:iam::123456789012:role/r',
    'arn:aws:iam::12345678901:role/r',
    'arn:aws:iam::123456789012:role/',
    'arn:aws:iam::123456789012:role/a b/r',
    'arn:aws:iam::123456789012:role/r*',
    'arn:aws:iam::123456789012:role',
    'role/r',
  ])('refuses %s', (arn) => {
    expect(parseIamArn(arn)).toBeUndefined();
  });
});

describe('sameIamPrincipal', () => {
  const base = 'arn:aws:iam::123456789012:user/ci/bot';

  it('is true only when partition, account, kind, path and name all agree', () => {
    expect(sameIamPrincipal(base, 'arn:aws:iam::123456789012:user/ci/bot')).toBe(true);
    expect(sameIamPrincipal(base, 'arn:aws:iam::123456789012:user/bot')).toBe(false);
    expect(sameIamPrincipal(base, 'arn:aws-cn:iam::123456789012:user/ci/bot')).toBe(false);
    expect(sameIamPrincipal(base, 'arn:aws:iam::210987654321:user/ci/bot')).toBe(false);
    expect(sameIamPrincipal(base, 'arn:aws:iam::123456789012:role/ci/bot')).toBe(false);
    expect(sameIamPrincipal(base, 'arn:aws:iam::123456789012:user/ci/Bot')).toBe(false);
    expect(sameIamPrincipal(base, 'not an arn')).toBe(false);
  });

  it('is reflexive and symmetric on generated ARNs', () => {
    const arn = fc
      .tuple(partition, account, path, name, fc.constantFrom('role', 'user'))
      .map(([p, a, pa, n, kind]) => (kind === 'role' ? roleArn(p, a, pa, n) : userArn(p, a, pa, n)));
    fc.assert(
      fc.property(arn, arn, (a, b) => {
        expect(sameIamPrincipal(a, a)).toBe(true);
        expect(sameIamPrincipal(a, b)).toBe(sameIamPrincipal(b, a));
        expect(sameIamPrincipal(a, b)).toBe(a === b);
      }),
    );
  });
});

describe('isServiceLinkedRole', () => {
  it('recognises roles under /aws-service-role/ only', () => {
    const linked = parseIamArn(
      'arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS',
    );
    const plain = parseIamArn('arn:aws:iam::123456789012:role/workers');
    const user = parseIamArn('arn:aws:iam::123456789012:user/aws-service-role/x');

    expect(linked && isServiceLinkedRole(linked)).toBe(true);
    expect(plain && isServiceLinkedRole(plain)).toBe(false);
    expect(user && isServiceLinkedRole(user)).toBe(false);
  });
});
