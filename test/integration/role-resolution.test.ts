/**
 * Role resolution when the platform can no longer describe the workload, against moto:
 * - an ECS task whose (ephemeral CI) cluster was deleted right after it stopped: DescribeTasks fails with
 *   ClusterNotFoundException, but the events name the task definition, which can still be read;
 * - an EC2 instance whose start was never seen: its role is resolved at `shutting-down`, while the
 *   instance profile is still attached; `terminated` (moto drops the profile at once) then finds the
 *   session already recorded and revoked.
 */
import { randomUUID } from 'node:crypto';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  ClusterNotFoundException,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyEvent } from '../../lambdas/triggers/classify.ts';
import { AwsWorkloadRoleResolver } from '../../lambdas/workload-roles/index.ts';
import { ec2StateEvent, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { deniedOn } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
let ecs: ECSClient;

beforeAll(async () => {
  sd = await deploySundown();
  ecs = new ECSClient({ endpoint: sd.target.endpoint, region: sd.target.region });
});
afterAll(async () => {
  await sd?.stop();
});

/** An ECS task state change as EventBridge delivers it: it names the task definition, no override here. */
function ecsEvent(taskArn: string, taskDefinitionArn: string, lastStatus: 'RUNNING' | 'STOPPED') {
  const cluster = taskArn.split('/')[1] as string;
  return {
    Source: 'aws.ecs',
    DetailType: 'ECS Task State Change',
    Resources: [taskArn],
    Detail: JSON.stringify({
      taskArn,
      taskDefinitionArn,
      clusterArn: `arn:aws:ecs:${sd.target.region}:${sd.target.accountId}:cluster/${cluster}`,
      lastStatus,
      desiredStatus: lastStatus,
      overrides: { containerOverrides: [{ name: 'worker' }] },
      ...(lastStatus === 'STOPPED' ? { stopCode: 'EssentialContainerExited' } : {}),
    }),
    Time: new Date(),
  };
}

/**
 * A task of a registered task definition on a cluster that no longer exists. moto's DeleteCluster only
 * marks a cluster INACTIVE and keeps describing its tasks, so the task names a cluster moto never had:
 * DescribeTasks then fails with ClusterNotFoundException, as it does once an ephemeral cluster is gone,
 * while the task definition stays readable (task definitions outlive clusters).
 */
async function taskOnDeletedCluster(roleArn: string, cluster: string) {
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${cluster}-worker`,
      taskRoleArn: roleArn,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'worker', image: 'public.ecr.aws/docker/library/busybox:latest' }],
    }),
  );
  const taskDefinitionArn = registered.taskDefinition?.taskDefinitionArn as string;
  const taskId = randomUUID().replaceAll('-', '');
  const taskArn = `arn:aws:ecs:${sd.target.region}:${sd.target.accountId}:task/${cluster}/${taskId}`;
  // The precondition: the emulator cannot describe the task.
  await expect(ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).rejects.toBeInstanceOf(
    ClusterNotFoundException,
  );
  return { taskArn, taskDefinitionArn, taskId };
}

describe('an ECS task whose cluster was deleted right after it stopped', () => {
  it('is still revoked: its role comes from the task definition the events name', async () => {
    // Prepare: the task's events are handled only after its CI cluster was torn down.
    const roleArn = await ensureDemoRole(sd.iam, 'ci-task-role');
    const { taskArn, taskDefinitionArn, taskId } = await taskOnDeletedCluster(roleArn, 'ci-7f3a');

    // Act
    await sd.putEvents([ecsEvent(taskArn, taskDefinitionArn, 'RUNNING')]);
    await sd.drain();
    await sd.putEvents([ecsEvent(taskArn, taskDefinitionArn, 'STOPPED')]);
    await sd.drain();

    // Assess
    const records = await sd.registry.forWorkload(taskArn);
    expect(records.map((r) => [r.roleArn, r.sessionName, r.status])).toEqual([[roleArn, taskId, 'revoked']]);
    expect(await deniedOn(sd.iam, 'ci-task-role')).toEqual([taskId]);
  });

  it('is revoked from its STOPPED event alone when its start was never seen', async () => {
    // Prepare
    const roleArn = await ensureDemoRole(sd.iam, 'ci-task-role-3');
    const { taskArn, taskDefinitionArn, taskId } = await taskOnDeletedCluster(roleArn, 'ci-9d5e');

    // Act
    await sd.putEvents([ecsEvent(taskArn, taskDefinitionArn, 'STOPPED')]);
    await sd.drain();

    // Assess
    const records = await sd.registry.forWorkload(taskArn);
    expect(records.map((r) => [r.roleArn, r.sessionName, r.issuer, r.status])).toEqual([
      [roleArn, taskId, 'discovery', 'revoked'],
    ]);
    expect(await deniedOn(sd.iam, 'ci-task-role-3')).toEqual([taskId]);
  });

  it('resolves the role from the STOPPED event alone, without describing the task', async () => {
    // Prepare: the start was never seen; only the STOPPED event is left to go on.
    const roleArn = await ensureDemoRole(sd.iam, 'ci-task-role-2');
    const { taskArn, taskDefinitionArn } = await taskOnDeletedCluster(roleArn, 'ci-8b4c');
    const stopped = ecsEvent(taskArn, taskDefinitionArn, 'STOPPED');
    const classification = classifyEvent({
      version: '0',
      id: 'e-stopped',
      'detail-type': stopped.DetailType,
      source: stopped.Source,
      account: sd.target.accountId,
      time: stopped.Time.toISOString(),
      region: sd.target.region,
      resources: stopped.Resources,
      detail: JSON.parse(stopped.Detail),
    });
    if (classification.kind !== 'workload-ended') throw new Error(JSON.stringify(classification));
    const resolver = new AwsWorkloadRoleResolver({ ec2: sd.ec2, ecs, iam: sd.iam });

    // Act
    const withEventData = await resolver.resolveRole(classification.workload, classification.roleHint);
    const byDescribingOnly = await resolver.resolveRole(classification.workload);

    // Assess
    expect(classification.roleHint).toEqual({ taskDefinitionArn });
    expect(withEventData).toBe(roleArn);
    expect(byDescribingOnly).toBeUndefined();
  });
});

describe('an EC2 instance whose start was never seen', () => {
  it('is resolved and revoked at shutting-down; terminated then changes nothing', async () => {
    // Prepare
    await ensureDemoRole(sd.iam, 'short-lived');
    const id = await launchInstance(sd.ec2, 'short-lived');
    const workloadId = `arn:aws:ec2:${sd.target.region}:${sd.target.accountId}:instance/${id}`;
    const shuttingDownAt = new Date(Math.floor(Date.now() / 1000) * 1000);

    // Act: shutting-down while the profile is attached; then the instance terminates and loses it.
    await sd.putEvents([ec2StateEvent(id, 'shutting-down', sd.target, shuttingDownAt)]);
    await sd.drain();
    await sd.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const described = await sd.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    await sd.putEvents([
      ec2StateEvent(id, 'terminated', sd.target, new Date(shuttingDownAt.getTime() + 30_000)),
    ]);
    await sd.drain();

    // Assess
    expect(described.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile).toBeUndefined();
    const records = await sd.registry.forWorkload(workloadId);
    expect(records.map((r) => [r.roleName, r.status, r.endedAt])).toEqual([
      ['short-lived', 'revoked', shuttingDownAt.toISOString()],
    ]);
    expect(await deniedOn(sd.iam, 'short-lived')).toEqual([id]);
    const audit = await sd.audit.query({ workloadId });
    expect(audit.filter((r) => r.type === 'skipped')).toEqual([]);
    expect(audit.filter((r) => r.type === 'revoked')).toHaveLength(1);
  });
});
