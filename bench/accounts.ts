/**
 * The accounts of the multi-account scenarios (issue 19): one moto server serving a hub (the local
 * account, where Sundown is deployed with `hub.accounts`) and its spoke accounts, each with the real
 * spoke template (SundownSpokeStack, asset-free) created through CloudFormation with that account's
 * own credentials, as test/integration/hub-spoke.test.ts does.
 *
 * End events reach the hub by SQS, not PutEvents: moto's cross-account bus delivery drops the
 * envelope's `account` (../shared/reference/multi-account-and-packaging.md, section 4), so every
 * end event is sent as EventBridge delivers it to the hub's queue on AWS: a real-shaped envelope
 * carrying its account, 10 per SendMessageBatch, straight to the hub's ServiceEvents queue.
 */
import { randomUUID } from 'node:crypto';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { spokeTemplateBody } from '../lib/spoke/stack-set.ts';
import type { Target } from '../local/aws-env.ts';
import { type BenchClients, type BenchEnvironment, benchClients } from './env.ts';
import { BENCH_USER_AGENT } from './proxy.ts';
import { createRoles, launchInstances, terminateInstances } from './workloads.ts';

/** The hub's spoke accounts (CDK context `sundown.hub.accounts`); the hub is the local account. */
export const SPOKE_ACCOUNTS = ['222222222222', '333333333333'] as const;

/** How the multi-account scenarios deliver end events (recorded with their results). */
export const MULTI_ACCOUNT_DELIVERY =
  "end events sent with SQS SendMessageBatch (10 per call) straight to the hub's ServiceEvents queue (the baseline: to its own queue), as EventBridge-shaped envelopes carrying each workload's account; not PutEvents, because moto's cross-account bus delivery drops the envelope's account";

/** The accounts `n` workloads are spread over: the hub first, then its spokes. */
export function accountsOf(target: Target, n: number): string[] {
  const all = [target.accountId, ...SPOKE_ACCOUNTS];
  if (n > all.length) throw new Error(`the bench hub has ${all.length} accounts, ${n} were asked for`);
  return all.slice(0, n);
}

export interface AccountCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials that act in `account` (the hub's own: the default ones). */
export async function credentialsIn(
  target: Target,
  account: string,
  userAgent = BENCH_USER_AGENT,
  roleName = 'bench-admin',
): Promise<AccountCredentials | undefined> {
  if (account === target.accountId) return undefined;
  const sts = new STSClient({ endpoint: target.endpoint, region: target.region, customUserAgent: userAgent });
  const res = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/${roleName}`,
      RoleSessionName: 'sundown-bench',
    }),
  );
  const c = res.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey)
    throw new Error(`AssumeRole into ${account} gave no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** The bench's clients signed as `account`. */
export async function clientsIn(
  target: Target,
  account: string,
  userAgent = BENCH_USER_AGENT,
): Promise<BenchClients> {
  return benchClients(target, userAgent, await credentialsIn(target, account, userAgent));
}

/** Creates the spoke stack (the real asset-free spoke template) in `account`, with its credentials. */
export async function deploySpoke(target: Target, account: string): Promise<void> {
  const cfn = new CloudFormationClient({
    endpoint: target.endpoint,
    region: target.region,
    customUserAgent: BENCH_USER_AGENT,
    credentials: await credentialsIn(target, account),
  });
  await cfn.send(
    new CreateStackCommand({
      StackName: 'SundownSpoke',
      TemplateBody: spokeTemplateBody({ hubAccount: target.accountId, hubRegion: target.region }),
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }),
  );
  for (let i = 0; i < 600; i++) {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: 'SundownSpoke' }));
    const status = res.Stacks?.[0]?.StackStatus ?? '';
    if (status === 'CREATE_COMPLETE') return;
    if (/FAILED|ROLLBACK/.test(status)) throw new Error(`spoke stack in ${account}: ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the spoke stack in ${account} did not complete`);
}

/** The hub's ServiceEvents queue (where its rules deliver EC2 state changes), by logical ID. */
export async function serviceEventsQueueUrl(env: BenchEnvironment): Promise<string> {
  const logicalId = Object.keys(env.stack.template.Resources).find((id) =>
    /^ServiceEventsQueue[0-9A-F]{8}$/.test(id),
  );
  const cfn = new CloudFormationClient({
    endpoint: env.target.endpoint,
    region: env.target.region,
    customUserAgent: BENCH_USER_AGENT,
  });
  let token: string | undefined;
  do {
    const res = await cfn.send(
      new ListStackResourcesCommand({ StackName: env.stack.stackName, NextToken: token }),
    );
    const url = res.StackResourceSummaries?.find((r) => r.LogicalResourceId === logicalId);
    if (url?.PhysicalResourceId) return url.PhysicalResourceId;
    token = res.NextToken;
  } while (token);
  throw new Error(`no deployed ServiceEvents queue (${logicalId}) in ${env.stack.stackName}`);
}

/** An EC2 termination as EventBridge delivers it to a queue: `time` in whole seconds, as EC2's. */
export function terminatedEnvelope(region: string, account: string, instanceId: string, time: Date): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:ec2:${region}:${account}:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, state: 'terminated' },
  });
}

/**
 * Sends bodies 10 per SendMessageBatch (the API's limit), one call after another. Returns when the
 * first call was sent, when the last returned, and per body when the call that carried it returned.
 */
export async function sendAll(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<{ firstPutAt: number; lastPutAt: number; acceptedAt: number[] }> {
  const firstPutAt = Date.now();
  const acceptedAt: number[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const res = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((MessageBody, j) => ({ Id: String(j), MessageBody })),
      }),
    );
    if (res.Failed?.length) throw new Error(`SendMessageBatch refused ${res.Failed.length} entries`);
    const at = Date.now();
    for (const _ of chunk) acceptedAt.push(at);
  }
  return { firstPutAt, lastPutAt: Date.now(), acceptedAt };
}

export type Log = (line: string) => void;

/** Where workload i runs: its account and its role's index in that account. */
export interface Placement {
  /** Per workload: its account. */
  accountOf: string[];
  /** Per workload: the index of its role among its account's roles. */
  roleIndexOf: number[];
}

export function place(instances: number, roles: number, accounts: readonly string[]): Placement {
  const accountOf: string[] = [];
  const roleIndexOf: number[] = [];
  for (let i = 0; i < instances; i++) {
    accountOf.push(accounts[i % accounts.length] as string);
    roleIndexOf.push(Math.floor(i / accounts.length) % roles);
  }
  return { accountOf, roleIndexOf };
}

export type Roles = Map<string, { name: string; arn: string }[]>;

/** R opted-in roles in each account, created with that account's credentials. */
export async function rolesIn(
  clients: Map<string, BenchClients>,
  prefix: string,
  count: number,
): Promise<Roles> {
  const roles: Roles = new Map();
  for (const [account, c] of clients) {
    const created = await createRoles(c, `${prefix}-${account}`, count);
    const stray = created.find((r) => !r.arn.startsWith(`arn:aws:iam::${account}:role/`));
    if (stray) throw new Error(`role ${stray.arn} was created outside account ${account}`);
    roles.set(account, created);
  }
  return roles;
}

export const roleOfWorkload = (roles: Roles, p: Placement, i: number) =>
  (roles.get(p.accountOf[i] as string) ?? [])[p.roleIndexOf[i] as number] as { name: string; arn: string };

/** Launches and terminates each account's instances; returns the IDs in workload order. */
export async function instancesFor(
  p: Placement,
  clients: Map<string, BenchClients>,
  log: Log,
): Promise<{ ids: string[]; launched: boolean }> {
  const perAccount = new Map<string, string[]>();
  let launched = true;
  for (const [account, c] of clients) {
    const count = p.accountOf.filter((a) => a === account).length;
    const res = await launchInstances(c, count);
    if (res.launched) await terminateInstances(c, res.ids);
    else log(`  (RunInstances failed in ${account}, using synthetic instance IDs: ${res.error})`);
    launched &&= res.launched;
    perAccount.set(account, res.ids);
  }
  const next = new Map([...perAccount.keys()].map((a) => [a, 0]));
  const ids = p.accountOf.map((account) => {
    const k = next.get(account) as number;
    next.set(account, k + 1);
    return (perAccount.get(account) as string[])[k] as string;
  });
  return { ids, launched };
}
