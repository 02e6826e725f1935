import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2StateEvent, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop();
});

async function inlineDeny(roleName: string) {
  const res = await sd.iam.send(
    new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'SundownRevokedSessions' }),
  );
  return JSON.parse(decodeURIComponent(res.PolicyDocument ?? '')) as {
    Statement: {
      Condition: { StringLike: { 'aws:userid': string[] }; DateLessThan: { 'aws:TokenIssueTime': string } };
    }[];
  };
}

describe('EC2 instances on one role', () => {
  it('discovers sessions on running, and denies exactly the terminated instances', async () => {
    // Prepare
    await ensureDemoRole(sd.iam, 'web');
    const ids = [
      await launchInstance(sd.ec2, 'web'),
      await launchInstance(sd.ec2, 'web'),
      await launchInstance(sd.ec2, 'web'),
    ];
    await sd.putEvents(ids.map((id) => ec2StateEvent(id, 'running', sd.target)));
    await sd.drain();
    const endedAt = new Date(Math.floor(Date.now() / 1000) * 1000);

    // Act
    await sd.putEvents([ec2StateEvent(ids[0] as string, 'terminated', sd.target, endedAt)]);
    await sd.putEvents([ec2StateEvent(ids[1] as string, 'shutting-down', sd.target, endedAt)]);
    await sd.drain();

    // Assess
    const policy = await inlineDeny('web');
    const denied = policy.Statement.flatMap((s) => s.Condition.StringLike['aws:userid']);
    expect(denied.sort()).toEqual([`*:${ids[0]}`, `*:${ids[1]}`].sort());
    // Sessions issued before the end's second was over: EventBridge stamps whole seconds, truncated.
    expect(policy.Statement.map((s) => s.Condition.DateLessThan['aws:TokenIssueTime'])).toEqual([
      new Date(endedAt.getTime() + 1000).toISOString().replace('.000Z', 'Z'),
    ]);
    const records = await Promise.all(
      ids.map((id) => sd.registry.forWorkload(`arn:aws:ec2:us-east-1:123456789012:instance/${id}`)),
    );
    expect(records.map((r) => r.map((c) => c.status))).toEqual([['revoked'], ['revoked'], ['active']]);
    const revoked = records[0]?.[0];
    const revokedAt = Date.parse(revoked?.revokedAt ?? '');
    expect(revokedAt).toBeGreaterThanOrEqual(endedAt.getTime());
    expect(revokedAt).toBeLessThanOrEqual(Date.now());
    expect(revoked?.endedAt).toBe(endedAt.toISOString());
  });

  it('revokes an instance whose start was never seen, resolving its role at the end', async () => {
    await ensureDemoRole(sd.iam, 'batchy');
    const id = await launchInstance(sd.ec2, 'batchy');

    await sd.putEvents([ec2StateEvent(id, 'terminated', sd.target)]);
    await sd.drain();

    const denied = (await inlineDeny('batchy')).Statement.flatMap(
      (s) => s.Condition.StringLike['aws:userid'],
    );
    expect(denied).toEqual([`*:${id}`]);
  });

  it('ignores a duplicated end event: one revoked state, one revoked audit record', async () => {
    await ensureDemoRole(sd.iam, 'dupes');
    const id = await launchInstance(sd.ec2, 'dupes');
    await sd.putEvents([ec2StateEvent(id, 'running', sd.target)]);
    await sd.drain();
    const end = ec2StateEvent(id, 'terminated', sd.target);

    await sd.putEvents([end, end, end]);
    await sd.drain();

    const workloadId = `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
    const audit = await sd.audit.query({ workloadId });
    expect(audit.filter((r) => r.type === 'revoked')).toHaveLength(1);
    expect(audit.filter((r) => r.type === 'revocation-requested')).toHaveLength(1);
    expect((await sd.registry.forWorkload(workloadId)).map((c) => c.status)).toEqual(['revoked']);
  });

  it('skips a role that is not opted in, leaves it unmodified, and audits the skip', async () => {
    await ensureDemoRole(sd.iam, 'not-opted', false);
    const id = await launchInstance(sd.ec2, 'not-opted');
    await sd.putEvents([ec2StateEvent(id, 'running', sd.target)]);
    await sd.drain();

    await sd.putEvents([ec2StateEvent(id, 'terminated', sd.target)]);
    await sd.drain();

    await expect(inlineDeny('not-opted')).rejects.toThrow(/not attached/);
    const workloadId = `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
    const [credential] = await sd.registry.forWorkload(workloadId);
    expect(credential?.status).toBe('skipped');
    expect(credential?.statusReason).toMatch(/not opted in/);
    const audit = await sd.audit.query({ workloadId, type: 'skipped' });
    expect(audit).toHaveLength(1);
  });

  it('rejects and audits an event that is not JSON-shaped like an AWS event, without retrying it', async () => {
    await sd.putEvents([
      {
        Source: 'aws.ec2',
        DetailType: 'EC2 Instance State-change Notification',
        Detail: JSON.stringify({ state: 'terminated', 'instance-id': 'i-*' }),
      },
    ]);
    await sd.drain();

    const rejected = await sd.audit.query({ type: 'rejected' });
    expect(rejected.some((r) => /instance/i.test(r.reason ?? ''))).toBe(true);
    // Not retried: no record failed, no handler error, nothing in a DLQ.
    await sd.assertQuiet();
  });
});
