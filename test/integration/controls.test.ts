/**
 * Operator controls: dry run (per event, and deployment-wide) changes nothing
 * and audits what it would have done; a role's deny set that outgrows its
 * inline budget overflows into Sundown-owned managed policies under /sundown/.
 */
import { createHash } from 'node:crypto';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PolicyDocument, policySize } from '../../lambdas/revocation/deny-policy.ts';
import { INLINE_RENDER_LIMIT } from '../../lambdas/revocation/role-sessions/policy-writer.ts';
import { RevocationStore } from '../../lambdas/revocation/store.ts';
import { credentialIdFor } from '../../lambdas/shared/domain/workload-id.ts';
import { ec2StateEvent, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { localWorkdir, runCli } from './cli.ts';
import { deniedOn, evaluateSession } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop();
});

describe('dry run per event', () => {
  it('`sundown end --dry-run` audits what would be revoked and changes nothing', async () => {
    await ensureDemoRole(sd.iam, 'dry-role');
    const id = await launchInstance(sd.ec2, 'dry-role');
    await sd.putEvents([ec2StateEvent(id, 'running', sd.target)]);
    await sd.drain();

    const res = await runCli(['end', id, '--dry-run', '--reason', 'rehearsal', '--local'], localWorkdir(sd));
    expect(res.code).toBe(0);
    await sd.drain();

    const workloadId = `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
    expect(await deniedOn(sd.iam, 'dry-role')).toEqual([]);
    expect((await sd.registry.forWorkload(workloadId)).map((c) => c.status)).toEqual(['active']);
    const dry = await sd.audit.query({ workloadId, type: 'dry-run' });
    expect(dry).toHaveLength(1);
    expect(dry[0]?.details).toMatchObject({
      roleArn: expect.stringContaining('role/dry-role'),
      sessionName: id,
    });
  });
});

describe('capacity overflow', () => {
  it('places 600 denies on one role: inline first, then managed policies under /sundown/, precise under an IAM evaluator', async () => {
    const roleArn = await ensureDemoRole(sd.iam, 'big-fleet');
    const store = new RevocationStore(sd.doc, sd.outputs.RevocationsTableName as string);
    const endedAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const expiresAt = new Date(Date.now() + 6 * 3_600_000).toISOString();
    const ids = Array.from(
      { length: 600 },
      (_, i) => `i-${createHash('sha256').update(String(i)).digest('hex').slice(0, 17)}`,
    );
    for (let i = 0; i < ids.length; i += 99) {
      await store.addEntries(
        roleArn,
        ids.slice(i, i + 99).map((sessionName) => ({
          sessionName,
          notAfter: endedAt,
          expiresAt,
          reusableName: false,
          workloadId: `arn:aws:ec2:us-east-1:123456789012:instance/${sessionName}`,
        })),
      );
    }
    // One of them is a registered credential waiting for the revoker.
    const last = ids[599] as string;
    const workloadId = `arn:aws:ec2:us-east-1:123456789012:instance/${last}`;
    const credentialId = credentialIdFor({ kind: 'role-session', roleArn, sessionName: last, workloadId });
    await sd.registry.record({
      credentialId,
      kind: 'role-session',
      workloadId,
      workloadKind: 'ec2',
      status: 'revoking',
      issuedAt: endedAt,
      expiresAt,
      issuer: 'cli',
      account: '123456789012',
      region: 'us-east-1',
      roleArn,
      roleName: 'big-fleet',
      sessionName: last,
      endedAt,
    });
    const { version } = await store.load(roleArn);
    const body = JSON.stringify({ target: 'role', roleArn, version, credentialIds: [credentialId] });

    await sd.sqs.send(
      new SendMessageCommand({
        QueueUrl: sd.outputs.RevocationQueueUrl,
        MessageBody: body,
        MessageGroupId: roleArn,
        MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
      }),
    );
    await sd.drain();

    const inline = await deniedOn(sd.iam, 'big-fleet');
    const attached = await sd.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'big-fleet' }));
    const managed = (attached.AttachedPolicies ?? []).filter((p) =>
      p.PolicyArn?.includes(':policy/sundown/'),
    );
    const inlineDoc = JSON.parse(
      decodeURIComponent(
        (
          await sd.iam.send(
            new GetRolePolicyCommand({ RoleName: 'big-fleet', PolicyName: 'SundownRevokedSessions' }),
          )
        ).PolicyDocument ?? '',
      ),
    ) as PolicyDocument;
    // Inline first, filled up to the revoker's render limit (IAM's 10,240 less 5% headroom: ~397 IDs with
    // their bound; 600 entries fit with managed overflow, so the bound stays).
    expect(policySize(inlineDoc)).toBeLessThanOrEqual(INLINE_RENDER_LIMIT);
    expect(policySize(inlineDoc)).toBeGreaterThan(INLINE_RENDER_LIMIT - 100);
    expect(inline.length).toBeGreaterThanOrEqual(390);
    expect(managed.length).toBeGreaterThanOrEqual(1);
    const managedValues: string[] = [];
    const managedDocs: unknown[] = [];
    for (const p of managed) {
      const policy = await sd.iam.send(new GetPolicyCommand({ PolicyArn: p.PolicyArn }));
      const version = await sd.iam.send(
        new GetPolicyVersionCommand({ PolicyArn: p.PolicyArn, VersionId: policy.Policy?.DefaultVersionId }),
      );
      const doc = JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '')) as {
        Statement: { Condition: { StringLike: { 'aws:userid': string[] } } }[];
      };
      managedDocs.push(doc);
      managedValues.push(...doc.Statement.flatMap((s) => s.Condition.StringLike['aws:userid']));
    }
    const all = new Set([...inline.map((n) => `*:${n}`), ...managedValues]);
    expect(all.size).toBe(600);
    expect((await sd.registry.get(credentialId))?.status).toBe('revoked');

    // The documents as IAM holds them, evaluated by an independent IAM evaluator: a session whose deny
    // sits in a managed policy is denied, and only because of it; a live session of the role is allowed.
    const inManaged = (managedValues[managedValues.length - 1] as string).slice(2);
    const issuedBefore = new Date(Date.parse(endedAt) - 60_000).toISOString().replace('.000Z', 'Z');
    const evaluate = (policies: unknown[], sessionName: string, issuedAt = issuedBefore) =>
      evaluateSession({ policies, roleName: 'big-fleet', sessionName, issuedAt });
    expect(await evaluate([inlineDoc, ...managedDocs], inManaged)).toBe('ExplicitlyDenied');
    expect(await evaluate([inlineDoc], inManaged)).toBe('Allowed');
    expect(await evaluate([inlineDoc, ...managedDocs], inline[0] as string)).toBe('ExplicitlyDenied');
    expect(await evaluate([inlineDoc, ...managedDocs], 'i-0ffffffffffffffff')).toBe('Allowed');
    // Instance IDs are never reused, so their bounds may be coarsened, by an hour at most.
    const issuedAfter = new Date(Date.parse(endedAt) + 3_600_000).toISOString().replace('.000Z', 'Z');
    expect(await evaluate([inlineDoc, ...managedDocs], inManaged, issuedAfter)).toBe('Allowed');
  });
});

describe('dry run for the whole deployment', () => {
  let dry: Sundown;
  beforeAll(async () => {
    dry = await deploySundown({ config: { dryRun: true } });
  }, 300_000);
  afterAll(async () => {
    await dry?.stop();
  });

  it('records dry-run for a terminated instance and leaves IAM untouched', async () => {
    await ensureDemoRole(dry.iam, 'prod-role');
    const id = await launchInstance(dry.ec2, 'prod-role');
    await dry.putEvents([ec2StateEvent(id, 'running', dry.target)]);
    await dry.drain();

    await dry.putEvents([ec2StateEvent(id, 'terminated', dry.target)]);
    await dry.drain();

    const workloadId = `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
    expect(await deniedOn(dry.iam, 'prod-role')).toEqual([]);
    expect(await dry.audit.query({ workloadId, type: 'dry-run' })).toHaveLength(1);
    expect(await dry.audit.query({ workloadId, type: 'revocation-requested' })).toHaveLength(0);
  });
});
