/**
 * Hub and spoke across accounts (issue 19), against one moto server serving three accounts: the hub
 * stack synthesized with `hub.accounts` and deployed into 123456789012, and the real spoke template
 * (SundownSpokeStack, asset-free) created through CloudFormation in two spoke accounts with each
 * account's own credentials. The handlers run in process as the hub's functions; they enter each
 * spoke only by assuming the spoke's roles (moto: AssumeRole into an account gives that account's
 * credentials).
 *
 * moto's cross-account bus delivery drops the envelope's `account` (../shared/reference/
 * multi-account-and-packaging.md, section 4), so the spoke's forwarded events are put on the hub's
 * queues as EventBridge delivers them on AWS: real-shaped envelopes carrying the spoke's account.
 * That the forwarding rules exist and target the hub bus is asserted on the deployed spoke stack.
 */
import { randomUUID } from 'node:crypto';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spokeTemplateBody } from '../../lib/spoke/stack-set.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/aws-env.ts';
import { deniedSessionNames, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { localWorkdir, runCli } from './cli.ts';
import { deploySundown, type Sundown } from './harness.ts';

const SPOKE_A = '222222222222';
const SPOKE_B = '333333333333';
const OUTSIDER = '444444444444';

interface Spoke {
  account: string;
  iam: IAMClient;
  ec2: EC2Client;
  events: EventBridgeClient;
  cfn: CloudFormationClient;
}

let sd: Sundown;
const spokes: Record<string, Spoke> = {};

/** Clients signed as `account` (moto maps assumed-role credentials to the role's account). */
async function clientsIn(account: string): Promise<Spoke> {
  const config = { endpoint: sd.target.endpoint, region: LOCAL_REGION };
  const sts = new STSClient(config);
  const res = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/admin`, RoleSessionName: 'test-admin' }),
  );
  const c = res.Credentials;
  const credentials = {
    accessKeyId: c?.AccessKeyId as string,
    secretAccessKey: c?.SecretAccessKey as string,
    sessionToken: c?.SessionToken as string,
  };
  const signed = { ...config, credentials };
  return {
    account,
    iam: new IAMClient(signed),
    ec2: new EC2Client(signed),
    events: new EventBridgeClient(signed),
    cfn: new CloudFormationClient(signed),
  };
}

async function deploySpoke(spoke: Spoke): Promise<void> {
  await spoke.cfn.send(
    new CreateStackCommand({
      StackName: 'SundownSpoke',
      TemplateBody: spokeTemplateBody({ hubAccount: LOCAL_ACCOUNT, hubRegion: LOCAL_REGION }),
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }),
  );
  for (let i = 0; i < 100; i++) {
    const res = await spoke.cfn.send(new DescribeStacksCommand({ StackName: 'SundownSpoke' }));
    const status = res.Stacks?.[0]?.StackStatus ?? '';
    if (status === 'CREATE_COMPLETE') return;
    if (/FAILED|ROLLBACK/.test(status)) throw new Error(`spoke stack in ${spoke.account}: ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`spoke stack in ${spoke.account} did not complete`);
}

/** The hub queue a rule delivers into, by the queue's logical ID prefix (ServiceEvents, DiscoveryEvents). */
async function hubQueueUrl(name: 'ServiceEvents' | 'DiscoveryEvents'): Promise<string> {
  const logicalId = Object.keys(sd.stack.template.Resources).find((id) =>
    new RegExp(`^${name}Queue[0-9A-F]{8}$`).test(id),
  );
  const cfn = new CloudFormationClient({ endpoint: sd.target.endpoint, region: LOCAL_REGION });
  const res = await cfn.send(new ListStackResourcesCommand({ StackName: sd.stack.stackName }));
  const url = res.StackResourceSummaries?.find((r) => r.LogicalResourceId === logicalId)?.PhysicalResourceId;
  if (!url) throw new Error(`no deployed queue ${name} (${logicalId})`);
  return url;
}

/** An EC2 state change as EventBridge delivers it to the hub's queue from `account`'s default bus. */
async function deliver(
  queue: 'ServiceEvents' | 'DiscoveryEvents',
  account: string,
  instanceId: string,
  state: string,
  instanceAccount = account,
): Promise<void> {
  const envelope = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:ec2:${LOCAL_REGION}:${instanceAccount}:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, state },
  };
  await sd.sqs.send(
    new SendMessageCommand({ QueueUrl: await hubQueueUrl(queue), MessageBody: JSON.stringify(envelope) }),
  );
}

const instanceArn = (account: string, id: string) => `arn:aws:ec2:${LOCAL_REGION}:${account}:instance/${id}`;

beforeAll(async () => {
  sd = await deploySundown({ config: { hub: { accounts: [SPOKE_A, SPOKE_B] } } });
  for (const account of [SPOKE_A, SPOKE_B]) {
    spokes[account] = await clientsIn(account);
    await deploySpoke(spokes[account] as Spoke);
  }
}, 300_000);

afterAll(async () => {
  await sd?.stop({
    expectedErrors: [],
  });
});

describe('a hub with two spoke accounts', () => {
  it('forwards from each spoke to the hub bus with its own role (the deployed spoke template)', async () => {
    const spoke = spokes[SPOKE_A] as Spoke;
    const rules = (await spoke.events.send(new ListRulesCommand({}))).Rules ?? [];
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const targets =
        (await spoke.events.send(new ListTargetsByRuleCommand({ Rule: rule.Name }))).Targets ?? [];
      for (const t of targets) {
        expect(t.Arn).toBe(
          `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${sd.stack.stackName}-hub`,
        );
        expect(t.RoleArn).toMatch(new RegExp(`^arn:aws:iam::${SPOKE_A}:role/`));
      }
    }
  });

  it("denies exactly the ended spoke workload's sessions, in that spoke's role, and audits it in the hub", async () => {
    // Prepare: the same role name in both spokes and in the hub, one instance each.
    const ids: Record<string, string> = {};
    for (const account of [SPOKE_A, SPOKE_B]) {
      const spoke = spokes[account] as Spoke;
      await ensureDemoRole(spoke.iam, 'app');
      ids[account] = await launchInstance(spoke.ec2, 'app');
      await deliver('DiscoveryEvents', account, ids[account] as string, 'running');
    }
    await ensureDemoRole(sd.iam, 'app');
    await sd.drain();
    // Discovery looked the instances up in their own accounts (through each spoke's reader role).
    for (const account of [SPOKE_A, SPOKE_B]) {
      const records = await sd.registry.forWorkload(instanceArn(account, ids[account] as string));
      expect(records.map((r) => [r.account, r.roleArn, r.status])).toEqual([
        [account, `arn:aws:iam::${account}:role/app`, 'active'],
      ]);
    }

    // Act: spoke A's instance ends.
    await deliver('ServiceEvents', SPOKE_A, ids[SPOKE_A] as string, 'terminated');
    await sd.drain();

    // Assess: A's role denies A's instance; B's role and the hub's role of the same name are untouched.
    expect(await deniedSessionNames((spokes[SPOKE_A] as Spoke).iam, 'app')).toEqual([ids[SPOKE_A]]);
    expect(await deniedSessionNames((spokes[SPOKE_B] as Spoke).iam, 'app')).toEqual([]);
    expect(await deniedSessionNames(sd.iam, 'app')).toEqual([]);
    const [revoked] = await sd.registry.forWorkload(instanceArn(SPOKE_A, ids[SPOKE_A] as string));
    expect(revoked?.status).toBe('revoked');
    const audit = await sd.audit.query({
      workloadId: instanceArn(SPOKE_A, ids[SPOKE_A] as string),
      limit: 50,
    });
    expect(audit.map((r) => r.type)).toEqual(expect.arrayContaining(['revocation-requested', 'revoked']));
    // Each record stores the account it is about: the spoke's, not the hub's that wrote it.
    expect(new Set(audit.map((r) => r.account))).toEqual(new Set([SPOKE_A]));

    // Then spoke B's instance ends: B's role denies it, and A's deny is unchanged.
    await deliver('ServiceEvents', SPOKE_B, ids[SPOKE_B] as string, 'terminated');
    await sd.drain();
    expect(await deniedSessionNames((spokes[SPOKE_B] as Spoke).iam, 'app')).toEqual([ids[SPOKE_B]]);
    expect(await deniedSessionNames((spokes[SPOKE_A] as Spoke).iam, 'app')).toEqual([ids[SPOKE_A]]);
    expect(await deniedSessionNames(sd.iam, 'app')).toEqual([]);

    // The CLI filters by account.
    const cwd = localWorkdir(sd);
    const listed = await runCli(['credentials', 'list', '--account', SPOKE_A, '--json', '--local'], cwd);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { account: string; workloadId: string }[];
    expect(rows.map((r) => [r.account, r.workloadId])).toEqual([
      [SPOKE_A, instanceArn(SPOKE_A, ids[SPOKE_A] as string)],
    ]);
    const queried = await runCli(['audit', 'query', '--account', SPOKE_B, '--json', '--local'], cwd);
    expect(queried.code, queried.stderr).toBe(0);
    // --json rows are the stored records: each stores B as its account, and is about B by its
    // workload (or principal) ARN.
    const records = JSON.parse(queried.stdout) as {
      account?: string;
      workloadId?: string;
      details?: Record<string, unknown>;
    }[];
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.account).toBe(SPOKE_B);
      expect(`${r.workloadId} ${JSON.stringify(r.details ?? {})}`).toContain(`:${SPOKE_B}:`);
    }
  });

  it('rejects and audits an event from an account outside the hub, and a spoke naming another account', async () => {
    const stray = 'i-0aaaaaaaaaaaaaaaa';
    await deliver('ServiceEvents', OUTSIDER, stray, 'terminated');
    const foreign = await launchInstance((spokes[SPOKE_B] as Spoke).ec2, 'app');
    await deliver('ServiceEvents', SPOKE_A, foreign, 'terminated', SPOKE_B);
    await sd.drain();

    const rejected = await sd.audit.query({ type: 'rejected', limit: 50 });
    const reasons = rejected.map((r) => r.reason ?? '');
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /account "444444444444", which is neither this hub's \(123456789012\) nor one of its spoke/,
        ),
        expect.stringMatching(
          /belongs to account 333333333333, but the event came from account 222222222222/,
        ),
      ]),
    );
    // Each rejection stores the account the event came from: the outsider, and spoke A (not B).
    const accountOf = (pattern: RegExp) => rejected.find((r) => pattern.test(r.reason ?? ''))?.account;
    expect(accountOf(/account "444444444444", which is neither/)).toBe(OUTSIDER);
    expect(accountOf(/belongs to account 333333333333/)).toBe(SPOKE_A);
    // Nothing was revoked for either: B's role denies only the instance of B that ended earlier.
    const deniedInB = await deniedSessionNames((spokes[SPOKE_B] as Spoke).iam, 'app');
    expect(deniedInB).toHaveLength(1);
    expect(deniedInB).not.toContain(foreign);
  });
});
