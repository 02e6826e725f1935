/**
 * The opt-in check against real IAM API answers (moto, no stack deployed): a role tagged after the first
 * check is seen as opted in once the cache TTL has passed (the clock is injected, so no test waits a
 * minute), and an allowlisted user with an IAM path matches although it was asked about by an ARN built
 * without the path, because IAM's GetUser answer carries the real ARN.
 */
import { CreateRoleCommand, CreateUserCommand, IAMClient, TagRoleCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPT_IN_CACHE_TTL_MS, OptInChecker } from '../../lambdas/opt-in/index.ts';
import { type Emulator, startEmulator } from '../../local/emulator.ts';

const ACCOUNT = '123456789012';
let emulator: Emulator;
let iam: IAMClient;

beforeAll(async () => {
  emulator = await startEmulator();
  iam = new IAMClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
});
afterAll(async () => {
  await emulator?.stop();
});

describe('OptInChecker against IAM', () => {
  it('sees a role tagged after the first check once the TTL has passed', async () => {
    // Prepare: the role exists, untagged, when the function first checks it.
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'late-opt-in',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      }),
    );
    let now = Date.parse('2024-05-01T12:00:00Z');
    const checker = new OptInChecker(iam, [], { now: () => now });
    const arn = `arn:aws:iam::${ACCOUNT}:role/late-opt-in`;
    const before = await checker.check(arn);

    // Act: an operator opts the role in while the function keeps running.
    await iam.send(
      new TagRoleCommand({ RoleName: 'late-opt-in', Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }] }),
    );
    now += 30_000;
    const withinTtl = await checker.check(arn);
    now += DEFAULT_OPT_IN_CACHE_TTL_MS;
    const afterTtl = await checker.check(arn);

    // Assess
    expect(before).toMatchObject({ optedIn: false });
    expect(withinTtl).toEqual(before);
    expect(afterTtl).toMatchObject({ optedIn: true, via: 'tag', arn });
  });

  it('matches an allowlisted user with an IAM path when asked by an ARN without the path', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'deployer', Path: '/ci/' }));
    const checker = new OptInChecker(iam, [`arn:aws:iam::${ACCOUNT}:user/ci/deployer`]);

    const decision = await checker.check(`arn:aws:iam::${ACCOUNT}:user/deployer`);

    expect(decision).toMatchObject({
      optedIn: true,
      via: 'allowlist',
      arn: `arn:aws:iam::${ACCOUNT}:user/ci/deployer`,
    });
  });
});
