/**
 * The reconciliation sweep against the emulator, run through the deployed Sweeper function's
 * handler (what the schedule rule's ticks and `sundown sweep` run): a workload that ended with no
 * event at all, expiry, pruning, drift, idle access keys.
 *
 * Emulator limits (see lambdas/sweep/workload-liveness.ts): moto answers EC2, ECS and
 * Lambda lookups; its CodeBuild answers do not deserialize in the AWS SDK v3 and Batch needs Docker,
 * so those workloads read as `unknown` here, which never revokes (test/unit/workload-liveness.test.ts
 * covers their answers with a fake client).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRolePolicyCommand,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepReport } from '../../lambdas/sweep/index.ts';
import { IAM_SETTLE_MS } from '../../lambdas/sweep/model.ts';
import { ec2StateEvent, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { deniedOn } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
const ACCOUNT = '123456789012';
const HOUR = 3_600_000;

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop();
});

/** One sweep, exactly as the deployed function runs it; then the revoker's follow-up work. */
async function sweep(dryRun = false): Promise<SweepReport> {
  const handler = sd.runtime.handlerFor('ReconciliationSweeper');
  const report = (await handler(
    { dryRun },
    { functionName: 'sweeper', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 300_000 },
  )) as SweepReport;
  expect(report.errors).toEqual([]);
  await sd.drain();
  return report;
}

function busEvent(detailType: string, detail: object, time = new Date()): PutEventsRequestEntry {
  return {
    EventBusName: sd.outputs.EventBusName,
    Source: 'sundown',
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    Time: time,
  };
}

async function optedInRole(name: string): Promise<string> {
  const res = await sd.iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }],
    }),
  );
  return res.Role?.Arn as string;
}

/** Records a custom workload's role session (as a broker or pipeline would with `Credential Issued`). */
function session(roleArn: string, sessionName: string, workloadId: string, extra: object = {}) {
  return busEvent('Credential Issued', { kind: 'role-session', roleArn, sessionName, workloadId, ...extra });
}

async function meta(principalArn: string): Promise<Record<string, unknown>> {
  const res = await sd.doc.send(
    new GetCommand({ TableName: sd.outputs.RevocationsTableName, Key: { principalArn, entryKey: '#meta' } }),
  );
  return res.Item ?? {};
}

async function storedSessions(principalArn: string): Promise<string[]> {
  const res = await sd.doc.send(
    new QueryCommand({
      TableName: sd.outputs.RevocationsTableName,
      KeyConditionExpression: 'principalArn = :p AND begins_with(entryKey, :d)',
      ExpressionAttributeValues: { ':p': principalArn, ':d': 'deny#' },
    }),
  );
  return (res.Items ?? []).map((i) => String(i.sessionName)).sort();
}

/**
 * As if IAM_SETTLE_MS had passed since each role's last render: its `renderedAt` is moved back
 * (the only field the settle rule reads), instead of the test sleeping 16 s for each sweep.
 */
async function renderedBeforeSettle(principalArns: readonly string[]): Promise<void> {
  const at = new Date(Date.now() - IAM_SETTLE_MS - 1_000).toISOString();
  for (const principalArn of principalArns) {
    expect((await meta(principalArn)).renderedAt).toBeDefined();
    await sd.doc.send(
      new UpdateCommand({
        TableName: sd.outputs.RevocationsTableName,
        Key: { principalArn, entryKey: '#meta' },
        UpdateExpression: 'SET renderedAt = :at',
        ConditionExpression: 'attribute_exists(renderedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }
}

async function waitUntil(instant: number): Promise<void> {
  const ms = instant - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

describe('reconciliation sweep', () => {
  it('revokes an instance terminated with no event at all; its running neighbour keeps working', async () => {
    // Prepare: two instances whose sessions were discovered from their start events.
    await ensureDemoRole(sd.iam, 'sweep-role');
    const [gone, live] = [
      await launchInstance(sd.ec2, 'sweep-role'),
      await launchInstance(sd.ec2, 'sweep-role'),
    ];
    await sd.putEvents([
      ec2StateEvent(gone, 'running', sd.target),
      ec2StateEvent(live, 'running', sd.target),
    ]);
    await sd.drain();
    // The instance ends; its end event never arrives.
    await sd.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    const goneId = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${gone}`;

    // A dry run reports it and changes nothing.
    const preview = await sweep(true);
    expect(preview.dryRun).toBe(true);
    expect(preview.counts['missed-end']).toBe(1);
    expect((await sd.registry.forWorkload(goneId))[0]?.status).toBe('active');
    expect(await deniedOn(sd.iam, 'sweep-role')).toEqual([]);

    // Act
    const report = await sweep();

    // Assess
    expect(report.counts['missed-end']).toBe(1);
    expect(report.findings.find((f) => f.kind === 'missed-end')).toMatchObject({
      workloadId: goneId,
      action: 'revocation requested for 1 credential(s)',
    });
    expect(await deniedOn(sd.iam, 'sweep-role')).toEqual([gone]);
    const [credential] = await sd.registry.forWorkload(goneId);
    expect(credential?.status).toBe('revoked');
    expect(credential?.statusReason).toMatch(/^reconciliation: end event missed \(instance is terminated/);
    const [requested] = await sd.audit.query({ workloadId: goneId, type: 'revocation-requested' });
    expect(requested?.trigger).toMatchObject({ kind: 'reconciliation', source: 'sundown.reconciliation' });
    expect(requested?.details).toMatchObject({ endEventMissed: true });
    const [liveCredential] = await sd.registry.forWorkload(
      `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${live}`,
    );
    expect(liveCredential?.status).toBe('active');

    // Nothing is left to do on the next run.
    expect((await sweep()).counts['missed-end']).toBe(0);
  });

  it('revokes an ECS task stopped with no event, and never its running sibling, however often it sweeps', async () => {
    // Prepare: two Fargate tasks on one opted-in task role, discovered from their RUNNING events.
    const roleArn = await optedInRole('sweep-task-role');
    const ecs = new ECSClient({ endpoint: sd.target.endpoint, region: sd.target.region });
    const vpc = await sd.ec2.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }));
    const subnet = await sd.ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.7.1.0/24' }),
    );
    const sg = await sd.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'sweep-tasks',
        Description: 'tasks',
        VpcId: vpc.Vpc?.VpcId,
      }),
    );
    await ecs.send(new CreateClusterCommand({ clusterName: 'sweep-cluster' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'sweep-worker',
        taskRoleArn: roleArn,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'worker', image: 'worker:1', memory: 128 }],
      }),
    );
    const run = async () =>
      (
        await ecs.send(
          new RunTaskCommand({
            cluster: 'sweep-cluster',
            taskDefinition: 'sweep-worker',
            launchType: 'FARGATE',
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: [subnet.Subnet?.SubnetId as string],
                securityGroups: [sg.GroupId as string],
              },
            },
          }),
        )
      ).tasks?.[0]?.taskArn as string;
    const [stopped, sibling] = [await run(), await run()];
    const running = (taskArn: string): PutEventsRequestEntry => ({
      Source: 'aws.ecs',
      DetailType: 'ECS Task State Change',
      Resources: [taskArn],
      Detail: JSON.stringify({
        taskArn,
        clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/sweep-cluster`,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
      }),
      Time: new Date(),
    });
    await sd.putEvents([running(stopped), running(sibling)]);
    await sd.drain();
    await ecs.send(new StopTaskCommand({ cluster: 'sweep-cluster', task: stopped, reason: 'scaled in' }));

    // Act
    const report = await sweep();
    for (let i = 0; i < 4; i++) expect((await sweep()).counts['missed-end']).toBe(0);

    // Assess
    expect(report.counts['missed-end']).toBe(1);
    expect(await deniedOn(sd.iam, 'sweep-task-role')).toEqual([stopped.split('/').pop()]);
    expect((await sd.registry.forWorkload(stopped))[0]?.statusReason).toMatch(/task is STOPPED/);
    expect((await sd.registry.forWorkload(sibling))[0]?.status).toBe('active');
  });

  it('marks a custom workload past its expiry expired, audited, and leaves the unexpired one', async () => {
    const roleArn = await optedInRole('short-lived');
    const expiresAt = new Date(Date.now() + 2_000);
    await sd.putEvents([
      session(roleArn, 'short-1', 'ci/short-1', { expiresAt: expiresAt.toISOString() }),
      session(roleArn, 'long-1', 'ci/long-1', { expiresAt: new Date(Date.now() + HOUR).toISOString() }),
    ]);
    await sd.drain();
    await waitUntil(expiresAt.getTime() + 500);

    const report = await sweep();

    expect(report.counts.expired).toBe(1);
    const [short] = await sd.registry.forWorkload('ci/short-1');
    expect(short?.status).toBe('expired');
    const [expired] = await sd.audit.query({ workloadId: 'ci/short-1', type: 'expired' });
    expect(expired?.trigger?.kind).toBe('reconciliation');
    expect((await sd.registry.forWorkload('ci/long-1'))[0]?.status).toBe('active');
    expect(await deniedOn(sd.iam, 'short-lived')).toEqual([]); // an expired session needs no deny
  });

  it('prunes a deny entry once every session it targets has expired, freeing capacity, and keeps unexpired ones', async () => {
    // Prepare: two ended custom workloads on one role. The first ended 12 h (custom maxSessionHours)
    // minus a few seconds ago, so its entry expires a few seconds from now.
    const roleArn = await optedInRole('prune-role');
    await sd.putEvents([session(roleArn, 'old-1', 'ci/old-1'), session(roleArn, 'new-1', 'ci/new-1')]);
    await sd.drain();
    const oldEnd = new Date(Math.floor((Date.now() - 12 * HOUR + 10_000) / 1000) * 1000);
    await sd.putEvents([
      busEvent('Workload Ended', { workloadId: 'ci/old-1' }, oldEnd),
      busEvent('Workload Ended', { workloadId: 'ci/new-1' }),
    ]);
    await sd.drain();
    expect(await deniedOn(sd.iam, 'prune-role')).toEqual(['new-1', 'old-1']);
    const before = await meta(roleArn);
    expect(before.nextExpiry).toBe(new Date(oldEnd.getTime() + 12 * HOUR).toISOString());

    // Not due yet: nothing is pruned.
    expect((await sweep()).counts['prune-due']).toBe(0);
    expect(await storedSessions(roleArn)).toEqual(['new-1', 'old-1']);

    // Act: once the old entry has expired.
    await waitUntil(oldEnd.getTime() + 12 * HOUR + 1_000);
    const report = await sweep();

    // Assess
    expect(report.counts['prune-due']).toBe(1);
    expect(report.findings.find((f) => f.kind === 'prune-due')?.subject).toBe(roleArn);
    expect(await deniedOn(sd.iam, 'prune-role')).toEqual(['new-1']);
    expect(await storedSessions(roleArn)).toEqual(['new-1']);
    const after = await meta(roleArn);
    expect(Number(after.charsUsed)).toBeLessThan(Number(before.charsUsed));
    expect(after.nextExpiry).not.toBe(before.nextExpiry);
    const pruned = await sd.audit.query({ workloadId: 'ci/old-1', type: 'pruned' });
    expect(pruned).toHaveLength(1);
    expect(pruned[0]?.details).toMatchObject({ roleArn, sessionName: 'old-1' });
    expect(await sd.audit.query({ workloadId: 'ci/new-1', type: 'pruned' })).toEqual([]);
  });

  it('detects drift: restores a deny missing from IAM or from the store, and reports a deny with no credential once', async () => {
    // Prepare: one revoked session on each of two roles.
    const iamRole = await optedInRole('drift-iam');
    const storeRole = await optedInRole('drift-store');
    await sd.putEvents([
      session(iamRole, 'd-iam-1', 'ci/d-iam-1'),
      session(storeRole, 'd-store-1', 'ci/d-store-1'),
    ]);
    await sd.drain();
    await sd.putEvents([
      busEvent('Workload Ended', { workloadId: 'ci/d-iam-1' }),
      busEvent('Workload Ended', { workloadId: 'ci/d-store-1' }),
    ]);
    await sd.drain();
    expect(await deniedOn(sd.iam, 'drift-iam')).toEqual(['d-iam-1']);
    expect(await deniedOn(sd.iam, 'drift-store')).toEqual(['d-store-1']);
    // Drift: someone deletes the role's deny policy; an entry vanishes from the store; an entry
    // appears whose credential the registry never recorded.
    await sd.iam.send(
      new DeleteRolePolicyCommand({ RoleName: 'drift-iam', PolicyName: 'SundownRevokedSessions' }),
    );
    const [stored] =
      (
        await sd.doc.send(
          new QueryCommand({
            TableName: sd.outputs.RevocationsTableName,
            KeyConditionExpression: 'principalArn = :p AND begins_with(entryKey, :d)',
            ExpressionAttributeValues: { ':p': storeRole, ':d': 'deny#' },
          }),
        )
      ).Items ?? [];
    await sd.doc.send(
      new DeleteCommand({
        TableName: sd.outputs.RevocationsTableName,
        Key: { principalArn: storeRole, entryKey: stored?.entryKey },
      }),
    );
    const ghostEnd = new Date().toISOString();
    await sd.doc.send(
      new PutCommand({
        TableName: sd.outputs.RevocationsTableName,
        Item: {
          principalArn: storeRole,
          entryKey: `deny#ghost-1#${ghostEnd}`,
          sessionName: 'ghost-1',
          notAfter: ghostEnd,
          expiresAt: new Date(Date.now() + HOUR).toISOString(),
          reusableName: true,
          workloadId: 'ci/ghost-1',
        },
      }),
    );
    // IAM is eventually consistent: the sweep checks a role only once its last render has settled.
    await renderedBeforeSettle([iamRole, storeRole]);

    // Act
    const report = await sweep();

    // Assess
    expect(report.counts['missing-deny']).toBe(2);
    expect(report.counts['orphan-deny']).toBe(1);
    expect(await deniedOn(sd.iam, 'drift-iam')).toEqual(['d-iam-1']);
    expect(await storedSessions(storeRole)).toEqual(['d-store-1', 'ghost-1']);
    expect(await deniedOn(sd.iam, 'drift-store')).toEqual(['d-store-1', 'ghost-1']);
    const drift = await sd.audit.query({ type: 'drift' });
    expect(drift.map((r) => [r.workloadId, r.outcome]).sort()).toEqual([
      ['ci/d-iam-1', 'restored'],
      ['ci/d-store-1', 'restored'],
      ['ci/ghost-1', 'reported'],
    ]);

    // Restored and reported: the next run finds nothing new.
    await renderedBeforeSettle([iamRole, storeRole]);
    const again = await sweep();
    expect(again.counts['missing-deny']).toBe(0);
    expect(again.counts['orphan-deny']).toBe(0);
  });

  it('deactivates an idle access key with reason idle, and keeps a recently recorded one', async () => {
    // Prepare: two keys of an opted-in user, one recorded 40 days ago and never used since.
    await sd.iam.send(
      new CreateUserCommand({ UserName: 'idle-bot', Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }] }),
    );
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await sd.iam.send(new CreateAccessKeyCommand({ UserName: 'idle-bot' }));
      keys.push(res.AccessKey?.AccessKeyId as string);
    }
    const [idle, busy] = keys as [string, string];
    await sd.putEvents([
      busEvent('Credential Issued', {
        kind: 'access-key',
        userName: 'idle-bot',
        accessKeyId: idle,
        workloadId: 'ci/idle-runner',
        issuedAt: new Date(Date.now() - 40 * 24 * HOUR).toISOString(),
      }),
      busEvent('Credential Issued', {
        kind: 'access-key',
        userName: 'idle-bot',
        accessKeyId: busy,
        workloadId: 'ci/busy-runner',
      }),
    ]);
    await sd.drain();

    // Act
    const report = await sweep();

    // Assess
    expect(report.counts['idle-key']).toBe(1);
    const statuses = await sd.iam.send(new ListAccessKeysCommand({ UserName: 'idle-bot' }));
    expect(
      Object.fromEntries((statuses.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status])),
    ).toEqual({
      [idle]: 'Inactive',
      [busy]: 'Active',
    });
    const [credential] = await sd.registry.forWorkload('ci/idle-runner');
    expect(credential?.status).toBe('revoked');
    expect(credential?.statusReason).toMatch(/^idle: access key not used for 30 days/);
    expect((await sd.registry.forWorkload('ci/busy-runner'))[0]?.status).toBe('active');
  });

  it('runs one sweep at a time and records the last run for sundown status', async () => {
    const state = await sd.doc.send(
      new GetCommand({
        TableName: sd.outputs.RevocationsTableName,
        Key: { principalArn: '#sweep', entryKey: '#state' },
      }),
    );
    expect(state.Item?.lastSweep).toMatchObject({ dryRun: false, errors: [] });
    expect(state.Item?.leaseUntil).toBeUndefined();

    // A sweep holding the lease makes a second one skip.
    await sd.doc.send(
      new PutCommand({
        TableName: sd.outputs.RevocationsTableName,
        Item: { ...state.Item, leaseUntil: new Date(Date.now() + 60_000).toISOString(), leaseOwner: 'other' },
      }),
    );
    const report = await sweep();
    expect(report.skipped).toMatch(/another sweep is running/);
    await sd.doc.send(new PutCommand({ TableName: sd.outputs.RevocationsTableName, Item: state.Item ?? {} }));
  });
});
