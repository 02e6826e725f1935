/**
 * The opt-in check with a fake IAM client whose roles and users can be re-tagged between calls, and a
 * fake clock: ARNs compared with their path and partition, and decisions cached for a bounded time.
 */
import { GetRoleCommand, GetUserCommand, type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { allowlistMatches, DEFAULT_OPT_IN_CACHE_TTL_MS, OptInChecker } from '../../lambdas/opt-in/index.ts';

const ACCOUNT = '123456789012';
const TAG = { Key: 'sundown:revoke', Value: 'enabled' };

interface FakePrincipal {
  Arn: string;
  Tags: { Key: string; Value: string }[];
}

/** A fake IAM that answers GetRole/GetUser from a mutable map keyed by name, counting calls. */
function fakeIam(principals: Record<string, FakePrincipal>) {
  const calls: string[] = [];
  const iam = {
    send: async (command: unknown) => {
      if (command instanceof GetRoleCommand || command instanceof GetUserCommand) {
        const name =
          command instanceof GetRoleCommand
            ? command.input.RoleName
            : (command.input as { UserName: string }).UserName;
        calls.push(`${command.constructor.name}:${name}`);
        const found = principals[name as string];
        if (!found) throw new NoSuchEntityException({ $metadata: {}, message: `${name} not found` });
        const body = { ...found, Tags: [...found.Tags] };
        return command instanceof GetRoleCommand
          ? { Role: { ...body, RoleId: 'AROAEXAMPLE000000001' } }
          : { User: { ...body, UserId: 'AIDAEXAMPLE000000001' } };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as IAMClient;
  return { iam, calls, principals };
}

describe('allowlistMatches', () => {
  const ci = `arn:aws:iam::${ACCOUNT}:user/ci/bot`;

  it('matches an ARN entry only with the same path and partition', () => {
    expect(allowlistMatches([ci], ci)).toBe(true);
    expect(allowlistMatches([ci], `arn:aws:iam::${ACCOUNT}:user/bot`)).toBe(false);
    expect(allowlistMatches([ci], `arn:aws-cn:iam::${ACCOUNT}:user/ci/bot`)).toBe(false);
    expect(
      allowlistMatches([`arn:aws-cn:iam::${ACCOUNT}:user/ci/bot`], `arn:aws-cn:iam::${ACCOUNT}:user/ci/bot`),
    ).toBe(true);
  });

  it('matches a path entry as a prefix of the principal path', () => {
    expect(allowlistMatches(['/ci/'], ci)).toBe(true);
    expect(allowlistMatches(['/ci/'], `arn:aws-us-gov:iam::${ACCOUNT}:role/ci/nightly/loader`)).toBe(true);
    expect(allowlistMatches(['/cd/'], ci)).toBe(false);
    expect(allowlistMatches(['/ci/'], `arn:aws:iam::${ACCOUNT}:user/bot`)).toBe(false);
  });

  it('matches nothing for a string that is not a role or user ARN', () => {
    expect(allowlistMatches(['/'], 'arn:aws:s3:::bucket')).toBe(false);
  });
});

describe('OptInChecker: ARNs with paths and partitions', () => {
  it('matches an allowlisted user with a path although it was asked about without the path', async () => {
    // Prepare: the caller built arn:aws:iam::<account>:user/<name>; IAM knows the user under /ci/.
    const { iam } = fakeIam({ bot: { Arn: `arn:aws:iam::${ACCOUNT}:user/ci/bot`, Tags: [] } });
    const checker = new OptInChecker(iam, [`arn:aws:iam::${ACCOUNT}:user/ci/bot`]);

    // Act
    const decision = await checker.check(`arn:aws:iam::${ACCOUNT}:user/bot`);

    // Assess
    expect(decision).toEqual({
      optedIn: true,
      via: 'allowlist',
      principalId: 'AIDAEXAMPLE000000001',
      arn: `arn:aws:iam::${ACCOUNT}:user/ci/bot`,
    });
  });

  it('matches an allowlisted role in aws-cn although the caller assumed the aws partition', async () => {
    const canonical = `arn:aws-cn:iam::${ACCOUNT}:role/etl/loader`;
    const { iam } = fakeIam({ loader: { Arn: canonical, Tags: [] } });
    const checker = new OptInChecker(iam, [canonical]);

    const decision = await checker.check(`arn:aws:iam::${ACCOUNT}:role/loader`);

    expect(decision).toMatchObject({ optedIn: true, via: 'allowlist', arn: canonical });
  });

  it('matches a path-prefix entry against the path IAM reports', async () => {
    const { iam } = fakeIam({
      loader: { Arn: `arn:aws:iam::${ACCOUNT}:role/workloads/etl/loader`, Tags: [] },
    });
    const checker = new OptInChecker(iam, ['/workloads/']);

    const decision = await checker.check(`arn:aws:iam::${ACCOUNT}:role/loader`);

    expect(decision).toMatchObject({ optedIn: true, via: 'allowlist' });
  });

  it('does not match an allowlisted ARN whose path differs from the real one', async () => {
    const { iam } = fakeIam({ bot: { Arn: `arn:aws:iam::${ACCOUNT}:user/cd/bot`, Tags: [] } });
    const checker = new OptInChecker(iam, [`arn:aws:iam::${ACCOUNT}:user/ci/bot`]);

    const decision = await checker.check(`arn:aws:iam::${ACCOUNT}:user/bot`);

    expect(decision).toEqual({
      optedIn: false,
      reason: 'user bot is not opted in: tag it sundown:revoke=enabled or add it to the allowlist',
    });
  });

  it('refuses a principal of another account, even when a same-named one here is tagged', async () => {
    const { iam } = fakeIam({ workers: { Arn: `arn:aws:iam::${ACCOUNT}:role/workers`, Tags: [TAG] } });
    const checker = new OptInChecker(iam, []);

    const decision = await checker.check('arn:aws:iam::210987654321:role/workers');

    expect(decision).toEqual({
      optedIn: false,
      reason: `role workers of account 210987654321 is not in this account (${ACCOUNT}); Sundown changes only its own account`,
    });
  });

  it('never opts in a service-linked role, and does not ask IAM about it', async () => {
    const { iam, calls } = fakeIam({});
    const checker = new OptInChecker(iam, ['/']);

    const decision = await checker.check(
      `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    );

    expect(decision).toEqual({ optedIn: false, reason: 'service-linked roles are never modified' });
    expect(calls).toEqual([]);
  });

  it('says when the principal does not exist', async () => {
    const { iam } = fakeIam({});
    const checker = new OptInChecker(iam, []);

    expect(await checker.check(`arn:aws:iam::${ACCOUNT}:user/ghost`)).toEqual({
      optedIn: false,
      reason: 'user ghost does not exist',
    });
  });
});

describe('OptInChecker: the decision cache', () => {
  const WORKERS = `arn:aws:iam::${ACCOUNT}:role/workers`;

  it('sees a role tagged after the first check once the TTL has passed', async () => {
    // Prepare: the role is not tagged when the function first checks it.
    let now = 1_000_000;
    const fake = fakeIam({ workers: { Arn: WORKERS, Tags: [] } });
    const checker = new OptInChecker(fake.iam, [], { now: () => now });
    const first = await checker.check(WORKERS);
    fake.principals.workers = { Arn: WORKERS, Tags: [TAG] };

    // Act
    now += DEFAULT_OPT_IN_CACHE_TTL_MS - 1;
    const withinTtl = await checker.check(WORKERS);
    now += 1;
    const afterTtl = await checker.check(WORKERS);

    // Assess
    expect(DEFAULT_OPT_IN_CACHE_TTL_MS).toBe(60_000);
    expect(first.optedIn).toBe(false);
    expect(withinTtl).toBe(first);
    expect(afterTtl).toMatchObject({ optedIn: true, via: 'tag' });
    expect(fake.calls).toEqual(['GetRoleCommand:workers', 'GetRoleCommand:workers']);
  });

  it('sees a role untagged after the first check once the TTL has passed', async () => {
    let now = 0;
    const fake = fakeIam({ workers: { Arn: WORKERS, Tags: [TAG] } });
    const checker = new OptInChecker(fake.iam, [], { ttlMs: 5_000, now: () => now });
    expect((await checker.check(WORKERS)).optedIn).toBe(true);
    fake.principals.workers = { Arn: WORKERS, Tags: [] };

    now += 5_000;
    const after = await checker.check(WORKERS);

    expect(after.optedIn).toBe(false);
  });

  it('asks IAM every time when the TTL is 0', async () => {
    const fake = fakeIam({ workers: { Arn: WORKERS, Tags: [TAG] } });
    const checker = new OptInChecker(fake.iam, [], { ttlMs: 0, now: () => 0 });

    await checker.check(WORKERS);
    await checker.check(WORKERS);

    expect(fake.calls).toHaveLength(2);
  });

  it('keeps at most maxEntries decisions, dropping the oldest', async () => {
    const fake = fakeIam({
      a1: { Arn: `arn:aws:iam::${ACCOUNT}:role/a1`, Tags: [TAG] },
      a2: { Arn: `arn:aws:iam::${ACCOUNT}:role/a2`, Tags: [TAG] },
      a3: { Arn: `arn:aws:iam::${ACCOUNT}:role/a3`, Tags: [TAG] },
    });
    const checker = new OptInChecker(fake.iam, [], { maxEntries: 2, now: () => 0 });

    for (const name of ['a1', 'a2', 'a3', 'a2', 'a1'])
      await checker.check(`arn:aws:iam::${ACCOUNT}:role/${name}`);

    // a1 was evicted by a3, so it is asked again; a2 was still cached.
    expect(fake.calls).toEqual([
      'GetRoleCommand:a1',
      'GetRoleCommand:a2',
      'GetRoleCommand:a3',
      'GetRoleCommand:a1',
    ]);
  });

  it('refuses a negative TTL with a clear message', () => {
    const { iam } = fakeIam({});
    expect(() => new OptInChecker(iam, [], { ttlMs: -1 })).toThrow(
      /opt-in cache option ttlMs -1 is invalid: expected a non-negative number/,
    );
  });
});
