/**
 * The demo scenario `sundown local` runs: three EC2 instances on one opted-in
 * role get sessions (discovered from their `running` events), two of them
 * terminate, and the role ends up denying exactly those two.
 */
import { CreateTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
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

export async function runDemo(target: Target, drain: () => Promise<void>): Promise<DemoResult> {
  const iam = new IAMClient({ endpoint: target.endpoint, region: target.region });
  const ec2 = new EC2Client({ endpoint: target.endpoint, region: target.region });
  const events = new EventBridgeClient({ endpoint: target.endpoint, region: target.region });
  const lines: string[] = [];
  const say = (line: string) => lines.push(line);

  const roleName = `${DEMO_ROLE}-${Date.now().toString(36)}`;
  await ensureDemoRole(iam, roleName);
  say(`Created role ${roleName}, tagged sundown:revoke=enabled, with an instance profile.`);
  const instances = [
    await launchInstance(ec2, roleName),
    await launchInstance(ec2, roleName),
    await launchInstance(ec2, roleName),
  ];
  say(`Launched 3 instances on that role: ${instances.join(', ')}.`);

  const running = await events.send(
    new PutEventsCommand({ Entries: instances.map((id) => ec2StateEvent(id, 'running', target)) }),
  );
  if (running.FailedEntryCount) throw new Error('the emulator refused the running events');
  await drain();
  say("Sundown saw them start and recorded each instance's role session (session name = instance ID).");

  const [ended1, ended2, live] = instances as [string, string, string];
  await events.send(
    new PutEventsCommand({
      Entries: [ec2StateEvent(ended1, 'terminated', target), ec2StateEvent(ended2, 'shutting-down', target)],
    }),
  );
  say(`Terminated ${ended1} and ${ended2}; ${live} keeps running.`);
  await drain();

  const denied = await deniedSessionNames(iam, roleName);
  const endedDenied = denied.includes(ended1) && denied.includes(ended2);
  const liveUntouched = !denied.includes(live);
  say(
    endedDenied
      ? `The role now denies sessions of ${ended1} and ${ended2} issued before they ended.`
      : `FAILED: the role's deny policy does not name both ended instances (it names: ${denied.join(', ') || 'nothing'}).`,
  );
  say(
    liveUntouched
      ? `${live} is not denied: live workloads on the role keep working.`
      : `FAILED: ${live} is denied too.`,
  );
  return { ok: endedDenied && liveUntouched, lines };
}
