/**
 * The demo scenario `sundown local` runs: two EC2 instances and two ECS
 * tasks on one opted-in role get sessions (discovered from their start
 * events), one instance and one task end, and the role ends up denying
 * exactly those two; the live ones keep working.
 */
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import type { Target } from './aws-env.ts';

export const DEMO_ROLE = 'sundown-demo-workers';

export interface DemoResult {
  ok: boolean;
  lines: string[];
}

/** What the demo found, from which its printed lines are made (`demoLines`). */
export interface DemoFacts {
  roleName: string;
  /** Started instance IDs: the first is terminated, the second keeps running. */
  instances: [string, string];
  /** Started task IDs: the first is stopped, the second keeps running. */
  taskIds: [string, string];
  /** Session names the role's deny policy names at the end. */
  denied: string[];
}

/** Heading and verdict `sundown local` prints around the demo's lines (indented by two spaces). */
export const DEMO_HEADING = 'Demo:';
export const demoVerdict = (ok: boolean) => (ok ? 'Demo succeeded.' : 'Demo FAILED.');

/** Whether the demo succeeded: exactly the ended workloads are denied. */
export function demoSucceeded(f: DemoFacts): boolean {
  const [endedInstance, liveInstance] = f.instances;
  const [endedTaskId, liveTaskId] = f.taskIds;
  const endedDenied = f.denied.includes(endedInstance) && f.denied.includes(endedTaskId);
  return endedDenied && !f.denied.includes(liveInstance) && !f.denied.includes(liveTaskId);
}

/**
 * The demo's printed lines, in order. README.md quotes them (test/unit/readme-demo.test.ts keeps
 * the two matched), so change both together.
 */
export function demoLines(f: DemoFacts): string[] {
  const [endedInstance, liveInstance] = f.instances;
  const [endedTaskId, liveTaskId] = f.taskIds;
  const endedDenied = f.denied.includes(endedInstance) && f.denied.includes(endedTaskId);
  const liveUntouched = !f.denied.includes(liveInstance) && !f.denied.includes(liveTaskId);
  return [
    `Created role ${f.roleName}, tagged sundown:revoke=enabled.`,
    `Started ${f.instances.length} EC2 instances (${f.instances.join(', ')}) and ${f.taskIds.length} ECS tasks (${f.taskIds.join(', ')}) on that role.`,
    "Sundown saw them start and recorded each one's role session (instance ID / task ID as session name).",
    `Instance ${endedInstance} terminated and task ${endedTaskId} stopped; the others keep running.`,
    endedDenied
      ? `The role now denies sessions of ${endedInstance} and ${endedTaskId} issued before they ended.`
      : `FAILED: the role's deny policy does not name both ended workloads (it names: ${f.denied.join(', ') || 'nothing'}).`,
    liveUntouched
      ? `${liveInstance} and ${liveTaskId} are not denied: live workloads on the same role keep working.`
      : 'FAILED: a live workload is denied too.',
  ];
}

export function ec2StateEvent(instanceId: string, state: string, target: Target, time = new Date()) {
  return {
    Source: 'aws.ec2',
    DetailType: 'EC2 Instance State-change Notification',
    Resources: [`arn:aws:ec2:${target.region}:${target.accountId}:instance/${instanceId}`],
    Detail: JSON.stringify({ 'instance-id': instanceId, state }),
    Time: time,
  };
}

export async function ensureDemoRole(iam: IAMClient, roleName = DEMO_ROLE, optedIn = true): Promise<string> {
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
      Tags: optedIn ? [{ Key: 'sundown:revoke', Value: 'enabled' }] : [],
    }),
  );
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: roleName }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: roleName, RoleName: roleName }));
  return role.Role?.Arn as string;
}

/** Launches one instance per call: the emulator attaches a profile only to the first of a multi-instance launch. */
export async function launchInstance(ec2: EC2Client, profileName: string): Promise<string> {
  const res = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.micro',
      IamInstanceProfile: { Name: profileName },
    }),
  );
  const id = res.Instances?.[0]?.InstanceId as string;
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'Name', Value: 'sundown-demo' }] }));
  return id;
}

export async function deniedSessionNames(iam: IAMClient, roleName: string): Promise<string[]> {
  try {
    const res = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'SundownRevokedSessions' }),
    );
    const doc = JSON.parse(decodeURIComponent(res.PolicyDocument ?? '{}')) as {
      Statement?: { Condition?: { StringLike?: { 'aws:userid'?: string[] } } }[];
    };
    return (doc.Statement ?? [])
      .flatMap((s) => s.Condition?.StringLike?.['aws:userid'] ?? [])
      .map((v) => v.replace(/^\*:/, ''));
  } catch (err) {
    if (err instanceof NoSuchEntityException) return [];
    throw err;
  }
}

/** Runs one Fargate task of a task definition whose task role is `roleArn`; returns its ARN. */
export async function runFargateTask(
  ec2: EC2Client,
  ecs: ECSClient,
  roleArn: string,
  cluster: string,
): Promise<string> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.42.1.0/24' }),
  );
  const sg = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${cluster}-tasks`,
      Description: 'demo tasks',
      VpcId: vpc.Vpc?.VpcId,
    }),
  );
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${cluster}-worker`,
      taskRoleArn: roleArn,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: 'worker', image: 'public.ecr.aws/docker/library/busybox:latest', memory: 128 },
      ],
    }),
  );
  const res = await ecs.send(
    new RunTaskCommand({
      cluster,
      taskDefinition: `${cluster}-worker`,
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [subnet.Subnet?.SubnetId as string],
          securityGroups: [sg.GroupId as string],
        },
      },
    }),
  );
  return res.tasks?.[0]?.taskArn as string;
}

export function ecsTaskEvent(taskArn: string, lastStatus: 'RUNNING' | 'STOPPED', target: Target) {
  const cluster = taskArn.split('/')[1] ?? 'default';
  return {
    Source: 'aws.ecs',
    DetailType: 'ECS Task State Change',
    Resources: [taskArn],
    Detail: JSON.stringify({
      taskArn,
      clusterArn: `arn:aws:ecs:${target.region}:${target.accountId}:cluster/${cluster}`,
      lastStatus,
      desiredStatus: lastStatus,
      ...(lastStatus === 'STOPPED'
        ? { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container exited' }
        : {}),
    }),
    Time: new Date(),
  };
}

export async function runDemo(target: Target, drain: () => Promise<void>): Promise<DemoResult> {
  const config = { endpoint: target.endpoint, region: target.region };
  const iam = new IAMClient(config);
  const ec2 = new EC2Client(config);
  const ecs = new ECSClient(config);
  const events = new EventBridgeClient(config);
  const put = async (entries: PutEventsRequestEntry[]) => {
    const res = await events.send(new PutEventsCommand({ Entries: entries }));
    if (res.FailedEntryCount) throw new Error('the emulator refused the demo events');
  };

  const roleName = `${DEMO_ROLE}-${Date.now().toString(36)}`;
  const roleArn = await ensureDemoRole(iam, roleName);
  const instances: [string, string] = [
    await launchInstance(ec2, roleName),
    await launchInstance(ec2, roleName),
  ];
  const cluster = `demo-${Date.now().toString(36)}`;
  const tasks = [
    await runFargateTask(ec2, ecs, roleArn, cluster),
    await runFargateTask(ec2, ecs, roleArn, cluster),
  ] as [string, string];
  const taskIds = tasks.map((arn) => arn.split('/').pop() as string) as [string, string];

  // Both start, Sundown records their sessions; then one instance and one task end.
  await put([
    ...instances.map((id) => ec2StateEvent(id, 'running', target)),
    ...tasks.map((arn) => ecsTaskEvent(arn, 'RUNNING', target)),
  ]);
  await drain();
  await put([ec2StateEvent(instances[0], 'terminated', target), ecsTaskEvent(tasks[0], 'STOPPED', target)]);
  await drain();

  const facts: DemoFacts = { roleName, instances, taskIds, denied: await deniedSessionNames(iam, roleName) };
  return { ok: demoSucceeded(facts), lines: demoLines(facts) };
}
