/**
 * 200 instances on one role terminate together: all 200 are denied, no
 * update is lost, IAM is written once per batch at most, and the policy that
 * actually landed in IAM is precise when evaluated by an IAM policy evaluator.
 * The phases' durations are printed (the drain deadline is a safety net, not
 * a timing assertion: speed is measured by `npm run bench`).
 */
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2StateEvent, ensureDemoRole } from '../../local/demo.ts';
import { sundownEvent } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
const ACCOUNT = '123456789012';
const N = Number(process.env.BURST_N ?? 200);
const instanceId = (i: number) => `i-${(0x0a000000000000000n + BigInt(i)).toString(16).padStart(17, '0')}`;
const instanceArn = (id: string) => `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${id}`;

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop();
});

async function simulate(policy: unknown, roleId: string, sessionName: string, issuedAt: string) {
  const res = await runSimulation(
    {
      identityPolicies: [
        {
          name: 'allow',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
          },
        },
        { name: 'sundown', policy: policy as Record<string, unknown> },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/fleet/${sessionName}`,
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::bucket/key', accountId: ACCOUNT },
        contextVariables: { 'aws:userid': `${roleId}:${sessionName}`, 'aws:TokenIssueTime': issuedAt },
      },
    },
    {},
  );
  if (res.resultType === 'error') throw new Error(res.errors.message);
  return res.overallResult;
}

describe(`${N} instances on one role terminated together`, () => {
  it('denies all of them with a handful of IAM writes, and only them', async () => {
    // Prepare: N+1 instance sessions recorded on the role (the last one stays alive).
    const roleArn = await ensureDemoRole(sd.iam, 'fleet');
    const bus = sd.outputs.EventBusName as string;
    const ids = Array.from({ length: N + 1 }, (_, i) => instanceId(i));
    const registering = Date.now();
    await sd.putEvents(
      ids.map((id) =>
        sundownEvent(bus, 'Credential Issued', {
          kind: 'role-session',
          roleArn,
          sessionName: id,
          workloadId: instanceArn(id),
        }),
      ),
    );
    await sd.drain(120_000);
    console.info(`registered ${ids.length} sessions in ${Date.now() - registering} ms`);
    const endedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const ended = ids.slice(0, N);
    const live = ids[N] as string;

    // Act
    const ending = Date.now();
    await sd.putEvents(ended.map((id) => ec2StateEvent(id, 'terminated', sd.target, endedAt)));
    await sd.drain(300_000);
    console.info(`${N} terminations revoked and drained in ${Date.now() - ending} ms`);

    // Assess: registry, IAM writes, the rendered policy.
    const statuses = await Promise.all(
      ids.map(async (id) => (await sd.registry.forWorkload(instanceArn(id)))[0]?.status),
    );
    const histogram: Record<string, number> = {};
    for (const s of statuses) histogram[String(s)] = (histogram[String(s)] ?? 0) + 1;
    console.info('statuses', JSON.stringify(histogram));
    console.info(
      'rejected',
      JSON.stringify((await sd.audit.query({ type: 'rejected', limit: 3 })).map((r) => r.reason)),
    );
    expect(statuses.slice(0, N).every((s) => s === 'revoked')).toBe(true);
    expect(statuses[N]).toBe('active');
    const meta = await sd.doc.send(
      new GetCommand({
        TableName: sd.outputs.RevocationsTableName,
        Key: { principalArn: roleArn, entryKey: '#meta' },
      }),
    );
    const iamWrites = Number(meta.Item?.iamWrites);
    console.info(`${N} terminations on one role cost ${iamWrites} IAM writes`);
    expect(iamWrites).toBeGreaterThan(0);
    // Batching: one revocation message per role per WorkloadEnded batch (up to 100 ends gathered
    // for up to 1 s), one render per role per revoker batch: a few writes, never one per end.
    expect(iamWrites).toBeLessThanOrEqual(Math.ceil(N / 10));

    const res = await sd.iam.send(
      new GetRolePolicyCommand({ RoleName: 'fleet', PolicyName: 'SundownRevokedSessions' }),
    );
    const policy = JSON.parse(decodeURIComponent(res.PolicyDocument ?? '')) as {
      Statement: { Condition: { StringLike: { 'aws:userid': string[] } } }[];
    };
    const denied = new Set(policy.Statement.flatMap((s) => s.Condition.StringLike['aws:userid']));
    expect(denied.size).toBe(N);
    for (const id of ended) expect(denied.has(`*:${id}`)).toBe(true);

    const roleId = 'AROAFLEETROLEID00001';
    const before = new Date(endedAt.getTime() - 60_000).toISOString().replace('.000Z', 'Z');
    const after = new Date(endedAt.getTime() + 1_000).toISOString().replace('.000Z', 'Z');
    expect(await simulate(policy, roleId, ended[0] as string, before)).toBe('ExplicitlyDenied');
    expect(await simulate(policy, roleId, ended[N - 1] as string, before)).toBe('ExplicitlyDenied');
    expect(await simulate(policy, roleId, live, before)).toBe('Allowed');
    // A new session with an ended name, issued after the end, is not denied.
    expect(await simulate(policy, roleId, ended[0] as string, after)).toBe('Allowed');
    await sd.assertQuiet();
  }, 600_000);
});
