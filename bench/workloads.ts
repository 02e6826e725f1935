/**
 * Workload setup shared by the Sundown and baseline runs: opted-in roles,
 * real EC2 instances launched in the emulator (in batches), and the
 * EventBridge events that end them.
 */
import { randomBytes } from 'node:crypto';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import type { Target } from '../local/aws-env.ts';
import { ec2StateEvent } from '../local/demo.ts';
import type { BenchClients } from './env.ts';

export interface Scenario {
  /** e.g. `1000x10`. */
  name: string;
  instances: number;
  /** Opted-in roles (per account when `accounts` > 1). */
  roles: number;
  /** Accounts the instances are spread over (a hub and its spokes); 1 when omitted. */
  accounts?: number;
  /** IAM writes rationed to this many a second while the systems run (moto never throttles). */
  iamWritesPerSecond?: number;
}

/** `1000x10`, `1000x10x3` over 3 accounts, `100x10@iam5` with IAM writes rationed to 5 a second. */
export function scenarioName(instances: number, roles: number, accounts = 1, iamWritesPerSecond = 0): string {
  const base = accounts > 1 ? `${instances}x${roles}x${accounts}` : `${instances}x${roles}`;
  return iamWritesPerSecond > 0 ? `${base}@iam${iamWritesPerSecond}` : base;
}

/** Creates `count` roles tagged `sundown:revoke=enabled`; returns their names and ARNs. */
export async function createRoles(
  clients: BenchClients,
  prefix: string,
  count: number,
): Promise<{ name: string; arn: string }[]> {
  const roles: { name: string; arn: string }[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-r${i}`;
    const res = await clients.iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
        Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }],
      }),
    );
    roles.push({ name, arn: res.Role?.Arn as string });
  }
  return roles;
}

/**
 * Launches `count` instances, up to 100 per RunInstances call. Falls back to
 * synthetic instance IDs (same format) when the emulator cannot launch: once a
 * session is recorded, Sundown's end path never describes the instance, so
 * the measured work is the same. `launched` says which happened.
 */
export async function launchInstances(
  clients: BenchClients,
  count: number,
): Promise<{ ids: string[]; launched: boolean; error?: string }> {
  const ids: string[] = [];
  try {
    while (ids.length < count) {
      const n = Math.min(100, count - ids.length);
      const res = await clients.ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          MinCount: n,
          MaxCount: n,
          InstanceType: 't3.micro',
        }),
      );
      for (const instance of res.Instances ?? []) ids.push(instance.InstanceId as string);
    }
    return { ids, launched: true };
  } catch (err) {
    const synthetic = Array.from({ length: count }, () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`);
    return { ids: synthetic, launched: false, error: (err as Error).message.split('\n')[0]?.slice(0, 200) };
  }
}

export async function terminateInstances(clients: BenchClients, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids.slice(i, i + 100) }));
  }
}

export function instanceArn(target: Target, id: string): string {
  return `arn:aws:ec2:${target.region}:${target.accountId}:instance/${id}`;
}

/** Instance i runs on role i mod roles: an even spread. */
export function roleIndexOf(i: number, roles: number): number {
  return i % roles;
}

export function terminatedEvents(
  target: Target,
  ids: readonly string[],
  time: Date,
): PutEventsRequestEntry[] {
  return ids.map((id) => ec2StateEvent(id, 'terminated', target, time));
}

/**
 * Puts entries 10 per PutEvents call (the API's limit), one call after
 * another, as fast as the emulator answers. Returns when the first call was
 * sent, when the last one returned, and per entry when the call that carried
 * it returned (the moment EventBridge had accepted that workload's end event).
 */
export async function putAll(
  clients: BenchClients,
  entries: readonly PutEventsRequestEntry[],
): Promise<{ firstPutAt: number; lastPutAt: number; acceptedAt: number[] }> {
  const firstPutAt = Date.now();
  const acceptedAt: number[] = [];
  for (let i = 0; i < entries.length; i += 10) {
    const chunk = entries.slice(i, i + 10);
    const res = await clients.events.send(new PutEventsCommand({ Entries: chunk }));
    if (res.FailedEntryCount) throw new Error(`PutEvents refused ${res.FailedEntryCount} entries`);
    const at = Date.now();
    for (const _ of chunk) acceptedAt.push(at);
  }
  return { firstPutAt, lastPutAt: Date.now(), acceptedAt };
}

/** Whole seconds, as IAM compares aws:TokenIssueTime: `YYYY-MM-DDTHH:MM:SSZ`, rounded up. */
export function ceilToSecondIso(ms: number): string {
  return `${new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
