/**
 * Hub and spoke at runtime (issue 19): which accounts Sundown acts in, how it enters a spoke, and
 * what a spoke's events may name. Pure logic and adapters with a recording STS double; the emulator
 * test (test/integration/hub-spoke.test.ts) runs the same code against real, multi-account moto.
 */
import type { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { parseAccount } from '../../cli/account-filter.ts';
import { recordAccount } from '../../lambdas/audit/index.ts';
import { AccountNotServed, Accounts, SpokeAccessError } from '../../lambdas/shared/adapters/accounts.ts';
import { normalizeWorkloadId, workloadAccount } from '../../lambdas/shared/domain/workload-id.ts';
import { untrustedReason } from '../../lambdas/shared/handlers/event-trust.ts';
import { AccountRoutedLiveness } from '../../lambdas/sweep/account-routed-liveness.ts';
import type { WorkloadLiveness } from '../../lambdas/sweep/workload-liveness.ts';
import { classifyEvent } from '../../lambdas/triggers/classify.ts';

const HUB = '111111111111';
const SPOKE_A = '222222222222';
const SPOKE_B = '333333333333';
const OUTSIDER = '444444444444';

function recordingSts(fail?: Error) {
  const calls: Record<string, unknown>[] = [];
  const sts = {
    send: async (command: { input: Record<string, unknown> }) => {
      calls.push(command.input);
      if (fail) throw fail;
      return {
        Credentials: {
          AccessKeyId: 'ASIAEXAMPLE',
          SecretAccessKey: 'secret-never-logged',
          SessionToken: 'token-never-logged',
          Expiration: new Date(Date.now() + 3_600_000),
        },
      };
    },
  } as unknown as STSClient;
  return { sts, calls };
}

function hub(spokes: readonly string[] | 'organization' = [SPOKE_A, SPOKE_B], externalId?: string) {
  const { sts, calls } = recordingSts();
  const accounts = new Accounts({ home: HUB, spokes, externalId, sessionName: 'sundown-revoker', sts });
  return { accounts, calls };
}

describe('Accounts: where Sundown acts', () => {
  it('serves its own account, the listed spokes, and nothing else', () => {
    const { accounts } = hub();
    expect(accounts.isHub).toBe(true);
    expect([HUB, SPOKE_A, SPOKE_B, OUTSIDER].map((a) => accounts.serves(a))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const single = new Accounts({ home: HUB, sessionName: 's', sts: recordingSts().sts });
    expect(single.isHub).toBe(false);
    expect(single.serves(SPOKE_A)).toBe(false);
  });

  it('with an organization serves any well-formed account (the hub bus admits only the organization)', () => {
    const { accounts } = hub('organization');
    expect(accounts.serves(OUTSIDER)).toBe(true);
    expect(accounts.serves('not-an-account')).toBe(false);
  });

  it('acts at home with its own role and refuses an account it does not serve, without calling STS', () => {
    const { accounts, calls } = hub();
    expect(accounts.credentials(HUB, 'aws', 'revoke')).toBeUndefined();
    expect(() => accounts.credentials(OUTSIDER, 'aws', 'revoke')).toThrow(AccountNotServed);
    expect(calls).toHaveLength(0);
  });

  it("enters a spoke through the spoke's role for the purpose, with the external ID", async () => {
    const { accounts, calls } = hub([SPOKE_A], 'ext-id-42');
    const revoke = accounts.credentials(SPOKE_A, 'aws', 'revoke');
    const read = accounts.credentials(SPOKE_A, 'aws', 'read');
    await revoke?.();
    await read?.();
    expect(calls).toEqual([
      expect.objectContaining({
        RoleArn: `arn:aws:iam::${SPOKE_A}:role/sundown/SundownSpokeRevoker`,
        RoleSessionName: 'sundown-revoker',
        ExternalId: 'ext-id-42',
      }),
      expect.objectContaining({ RoleArn: `arn:aws:iam::${SPOKE_A}:role/sundown/SundownSpokeReader` }),
    ]);
  });

  it('assumes a spoke role once for every client and call that uses it', async () => {
    const { accounts, calls } = hub([SPOKE_A]);
    const session = accounts.credentials(SPOKE_A, 'aws', 'revoke');
    const [first, second] = await Promise.all([session?.(), session?.()]);
    await accounts.credentials(SPOKE_A, 'aws', 'revoke')?.();
    expect(calls).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it('makes one client per account and purpose', () => {
    const { accounts } = hub();
    let made = 0;
    const iamIn = accounts.perAccount('iam', 'revoke', (c, account) => ({
      n: ++made,
      account,
      spoke: !!c.credentials,
    }));
    expect(iamIn(HUB, 'aws')).toEqual({ n: 1, account: HUB, spoke: false });
    expect(iamIn(SPOKE_A, 'aws')).toEqual({ n: 2, account: SPOKE_A, spoke: true });
    expect(iamIn(SPOKE_A, 'aws').n).toBe(2);
    expect(() => iamIn(OUTSIDER, 'aws')).toThrow(/444444444444 is not one this Sundown deployment serves/);
  });

  it('reports a spoke role it cannot assume clearly, naming the role and never the credentials', async () => {
    const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
      name: 'AccessDenied',
    });
    const { sts } = recordingSts(denied);
    const accounts = new Accounts({ home: HUB, spokes: [SPOKE_A], sessionName: 's', sts });
    const err = await accounts
      .credentials(SPOKE_A, 'aws', 'revoke')?.()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpokeAccessError);
    expect((err as Error).message).toMatch(
      /cannot assume arn:aws:iam::222222222222:role\/sundown\/SundownSpokeRevoker .*AccessDenied/,
    );
  });
});

describe('AccountRoutedLiveness', () => {
  it("asks each workload's own account and answers unknown where it may not ask", async () => {
    const asked: string[] = [];
    const { accounts } = hub([SPOKE_A]);
    const livenessIn = accounts.perAccount(
      'liveness',
      'read',
      (_c, account): WorkloadLiveness => ({
        check: async (ws) => {
          asked.push(`${account}:${ws.length}`);
          return new Map(ws.map((w) => [w.id, { state: 'gone', detail: 'terminated' } as const]));
        },
      }),
    );
    const routed = new AccountRoutedLiveness(livenessIn, { account: HUB, partition: 'aws' });
    const ids = [HUB, SPOKE_A, SPOKE_A, OUTSIDER].map(
      (a, i) => normalizeWorkloadId(`arn:aws:ec2:us-east-1:${a}:instance/i-0000000000000000${i}`).id,
    );
    const answers = await routed.check(ids.map((id) => normalizeWorkloadId(id)));
    expect(asked.sort()).toEqual([`${HUB}:1`, `${SPOKE_A}:2`]);
    expect(answers.get(ids[3] as string)).toMatchObject({
      state: 'unknown',
      detail: expect.stringMatching(/not one/),
    });
    expect(answers.get(ids[1] as string)?.state).toBe('gone');
  });
});

const ec2End = (account: string, instanceAccount = account) => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account,
  time: '2026-12-02T12:00:00Z',
  region: 'us-east-1',
  resources: [`arn:aws:ec2:us-east-1:${instanceAccount}:instance/i-0123456789abcdef0`],
  detail: { 'instance-id': 'i-0123456789abcdef0', state: 'terminated' },
});

const customEnd = (account: string, workloadId: string) => ({
  version: '0',
  id: 'e-2',
  'detail-type': 'Workload Ended',
  source: 'sundown',
  account,
  time: '2026-12-02T12:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { workloadId, reason: 'job finished' },
});

describe("classification: what a spoke's event may name", () => {
  const { accounts } = hub([SPOKE_A, SPOKE_B]);
  const ctx = { account: HUB, region: 'us-east-1', serves: (a: string) => accounts.serves(a) };

  it("accepts a spoke's end of its own instance", () => {
    const c = classifyEvent(ec2End(SPOKE_A), ctx);
    expect(c).toMatchObject({
      kind: 'workload-ended',
      workload: { id: expect.stringContaining(`:${SPOKE_A}:`) },
    });
  });

  it("rejects a spoke's event that names another account's workload", () => {
    const c = classifyEvent(ec2End(SPOKE_A, SPOKE_B), ctx);
    expect(c).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/belongs to account 333333333333/),
    });
    const custom = classifyEvent(
      customEnd(SPOKE_A, `arn:aws:ec2:us-east-1:${SPOKE_B}:instance/i-0123456789abcdef0`),
      ctx,
    );
    expect(custom.kind).toBe('rejected');
  });

  it('rejects a workload in an account it does not serve, even from its own account', () => {
    const c = classifyEvent(ec2End(HUB, OUTSIDER), ctx);
    expect(c).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/444444444444, which this Sundown deployment does not serve/),
    });
    const custom = classifyEvent(
      customEnd(HUB, `arn:aws:ec2:us-east-1:${OUTSIDER}:instance/i-0123456789abcdef0`),
      ctx,
    );
    expect(custom.kind).toBe('rejected');
  });

  it("lets the hub's own operators end a spoke's workload", () => {
    const c = classifyEvent(
      customEnd(HUB, `arn:aws:ec2:us-east-1:${SPOKE_A}:instance/i-0123456789abcdef0`),
      ctx,
    );
    expect(c.kind).toBe('workload-ended');
  });

  it("holds Sundown's own events and AWS events to the same account rule, with the same reason", () => {
    const instance = `arn:aws:ec2:us-east-1:${SPOKE_B}:instance/i-0123456789abcdef0`;
    const rejected = {
      kind: 'rejected',
      reason: `"${instance}" belongs to account ${SPOKE_B}, but the event came from account ${SPOKE_A}: an account may only name its own workloads and roles`,
    };
    expect(classifyEvent(ec2End(SPOKE_A, SPOKE_B), ctx)).toMatchObject(rejected);
    expect(classifyEvent(customEnd(SPOKE_A, instance), ctx)).toMatchObject(rejected);
  });

  it("puts a spoke's custom workload IDs in the spoke's namespace, and keeps the hub's bare", () => {
    const fromSpoke = classifyEvent(customEnd(SPOKE_A, 'job-42'), ctx);
    const fromHub = classifyEvent(customEnd(HUB, 'job-42'), ctx);
    expect(fromSpoke).toMatchObject({ kind: 'workload-ended', workload: { id: `${SPOKE_A}/job-42` } });
    expect(fromHub).toMatchObject({ kind: 'workload-ended', workload: { id: 'job-42' } });
    expect(workloadAccount(`${SPOKE_A}/job-42`)).toBe(SPOKE_A);
    expect(workloadAccount('job-42')).toBeUndefined();
  });
});

describe('event trust in a hub', () => {
  const { accounts } = hub([SPOKE_A]);
  const ctx = { fromSundownBus: false, account: HUB, serves: (a: string) => accounts.serves(a) };

  it('accepts its spokes and rejects an outsider, naming it', () => {
    expect(untrustedReason({ source: 'aws.ec2', account: SPOKE_A }, ctx)).toBeUndefined();
    expect(untrustedReason({ source: 'aws.ec2', account: OUTSIDER }, ctx)).toMatch(
      /account "444444444444", which is neither this hub's \(111111111111\) nor one of its spoke accounts/,
    );
  });
});

describe('--account', () => {
  it('takes a 12-digit account and refuses anything else', () => {
    expect(parseAccount(undefined)).toBeUndefined();
    expect(parseAccount(' 222222222222 ')).toBe(SPOKE_A);
    expect(() => parseAccount('2222')).toThrow(/12-digit AWS account ID/);
  });

  it("attributes an audit record to its workload's account, else its principal's, else the hub's", () => {
    expect(recordAccount({ workloadId: `arn:aws:ecs:us-east-1:${SPOKE_A}:task/c/abc` }, HUB)).toBe(SPOKE_A);
    expect(recordAccount({ workloadId: `${SPOKE_B}/job-1` }, HUB)).toBe(SPOKE_B);
    expect(recordAccount({ details: { roleArn: `arn:aws:iam::${SPOKE_B}:role/app` } }, HUB)).toBe(SPOKE_B);
    expect(recordAccount({ workloadId: 'job-1' }, HUB)).toBe(HUB);
  });

  it('prefers the account stored in the record (stamped since it was added) over any derivation', () => {
    expect(
      recordAccount({ account: SPOKE_B, workloadId: `arn:aws:ecs:us-east-1:${SPOKE_A}:task/c/abc` }, HUB),
    ).toBe(SPOKE_B);
    expect(recordAccount({ account: SPOKE_A }, HUB)).toBe(SPOKE_A);
  });
});
