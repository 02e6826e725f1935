/**
 * Every workload-end trigger, through the real EventBridge rules of the
 * deployed stack, ends with the workload's session denied on its role.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ec2StateEvent,
  ecsTaskEvent,
  ensureDemoRole,
  launchInstance,
  runFargateTask,
} from '../../local/demo.ts';
import { deniedOn, entryFrom, sundownEvent } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
const ACCOUNT = '123456789012';

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop();
});

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

describe('workload-end triggers', () => {
  it('ECS: a task that stops is denied by task ID; its sibling task is not', async () => {
    const roleArn = await optedInRole('ecs-task-role');
    const ecs = new ECSClient({ endpoint: sd.target.endpoint, region: 'us-east-1' });
    const [stopping, sibling] = [
      await runFargateTask(sd.ec2, ecs, roleArn, 'payments'),
      await runFargateTask(sd.ec2, ecs, roleArn, 'payments'),
    ] as [string, string];
    // The events carry no task role: Sundown resolves it through DescribeTasks and the task definition.
    await sd.putEvents([
      ecsTaskEvent(stopping, 'RUNNING', sd.target),
      ecsTaskEvent(sibling, 'RUNNING', sd.target),
    ]);
    await sd.drain();

    await sd.putEvents([ecsTaskEvent(stopping, 'STOPPED', sd.target)]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'ecs-task-role')).toEqual([stopping.split('/').pop()]);
  });

  it('Batch: a finished job is denied by the ECS task ID of its container', async () => {
    const roleArn = await optedInRole('batch-job-role');
    const jobArn = `arn:aws:batch:us-east-1:${ACCOUNT}:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8`;
    const taskArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:task/batch-ce/0123456789abcdef0123456789abcdef`;
    const batchEvent = (status: string) =>
      entryFrom(
        'batch-job-state-change',
        (d) => {
          d.status = status;
          d.jobArn = jobArn;
          d.container = { ...(d.container as object), taskArn, jobRoleArn: roleArn };
        },
        { resources: [jobArn] },
      );
    await sd.putEvents([batchEvent('RUNNING')]);
    await sd.drain();

    await sd.putEvents([batchEvent('SUCCEEDED')]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'batch-job-role')).toEqual(['0123456789abcdef0123456789abcdef']);
  });

  it('Lambda: a deleted function is denied by function name (DeleteFunction20150331 and plain DeleteFunction)', async () => {
    const roleArn = await optedInRole('fn-role');
    const trail = (eventName: string, functionName: string) =>
      entryFrom('lambda-cloudtrail-create-function', (d) => {
        d.eventName = eventName;
        d.requestParameters = { functionName, role: roleArn };
        delete d.responseElements;
        delete d.errorCode;
      });
    await sd.putEvents([trail('CreateFunction20150331', 'resize'), trail('CreateFunction', 'thumbs')]);
    await sd.drain();

    await sd.putEvents([trail('DeleteFunction20150331', 'resize'), trail('DeleteFunction', 'thumbs')]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'fn-role')).toEqual(['resize', 'thumbs']);
  });

  it('CodeBuild: a finished build is denied by its AWSCodeBuild-<uuid> session', async () => {
    // moto's CodeBuild responses do not deserialize in the AWS SDK v3 (dates as
    // strings), so the build's session is registered rather than discovered.
    const roleArn = await optedInRole('cb-role');
    const buildArn = `arn:aws:codebuild:us-east-1:${ACCOUNT}:build/site-deploy:0f5d2c3a-4b1e-4f6a-9d8c-7b6a5e4d3c2b`;
    const sessionName = 'AWSCodeBuild-0f5d2c3a-4b1e-4f6a-9d8c-7b6a5e4d3c2b';
    await sd.putEvents([
      sundownEvent(sd.outputs.EventBusName as string, 'Credential Issued', {
        kind: 'role-session',
        roleArn,
        sessionName,
        workloadId: buildArn,
      }),
    ]);
    await sd.drain();

    await sd.putEvents([
      entryFrom(
        'codebuild-build-state-change',
        (d) => {
          d['build-status'] = 'SUCCEEDED';
          d['build-id'] = buildArn;
        },
        { resources: [buildArn] },
      ),
    ]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'cb-role')).toEqual([sessionName]);
  });

  it('Auto Scaling: EC2 Instance Terminate Successful denies the instance', async () => {
    await ensureDemoRole(sd.iam, 'asg-role');
    const id = await launchInstance(sd.ec2, 'asg-role');

    await sd.putEvents([
      entryFrom('autoscaling-instance-terminate', (d) => {
        d.EC2InstanceId = id;
      }),
    ]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'asg-role')).toEqual([id]);
  });

  it('GuardDuty exfiltration: the running instance is denied at once, its neighbour is not', async () => {
    await ensureDemoRole(sd.iam, 'gd-role');
    const [suspect, neighbour] = [
      await launchInstance(sd.ec2, 'gd-role'),
      await launchInstance(sd.ec2, 'gd-role'),
    ];
    await sd.putEvents([
      ec2StateEvent(suspect, 'running', sd.target),
      ec2StateEvent(neighbour, 'running', sd.target),
    ]);
    await sd.drain();

    await sd.putEvents([
      entryFrom('guardduty-instance-credential-exfiltration', (d) => {
        const resource = d.resource as {
          instanceDetails: { instanceId: string };
          accessKeyDetails: { principalId: string };
        };
        resource.instanceDetails.instanceId = suspect;
        resource.accessKeyDetails.principalId = `AROAEXAMPLEROLEID5678:${suspect}`;
      }),
    ]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'gd-role')).toEqual([suspect]);
    const audit = await sd.audit.query({
      workloadId: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${suspect}`,
      type: 'revoked',
    });
    expect(audit).toHaveLength(1);
  });

  it("custom Workload Ended on Sundown's bus revokes a session registered with Credential Issued", async () => {
    const roleArn = await optedInRole('ci-role');
    const bus = sd.outputs.EventBusName as string;
    await sd.putEvents([
      sundownEvent(bus, 'Credential Issued', {
        kind: 'role-session',
        roleArn,
        sessionName: 'build-4711',
        workloadId: 'ci/build-4711',
      }),
    ]);
    await sd.drain();

    await sd.putEvents([
      sundownEvent(bus, 'Workload Ended', { workloadId: 'ci/build-4711', reason: 'pipeline finished' }),
    ]);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'ci-role')).toEqual(['build-4711']);
    const [credential] = await sd.registry.forWorkload('ci/build-4711');
    expect(credential?.status).toBe('revoked');
    expect(credential?.statusReason).toBe('pipeline finished');
  });
});

describe('event trust', () => {
  it("rejects and audits a custom source and an AWS-looking event on Sundown's bus", async () => {
    const bus = sd.outputs.EventBusName as string;
    await sd.putEvents([
      {
        Source: 'acme.deployer',
        DetailType: 'Workload Ended',
        EventBusName: bus,
        Detail: JSON.stringify({ workloadId: 'x1' }),
      },
      {
        Source: 'aws.ec2',
        DetailType: 'EC2 Instance State-change Notification',
        EventBusName: bus,
        Detail: JSON.stringify({ 'instance-id': 'i-0123456789abcdef0', state: 'terminated' }),
      },
    ]);
    await sd.drain();

    const rejected = (await sd.audit.query({ type: 'rejected' })).map((r) => [r.trigger?.source, r.reason]);
    expect(rejected).toEqual(
      expect.arrayContaining([
        ['acme.deployer', expect.stringMatching(/not accepted on Sundown's bus/)],
        ['aws.ec2', expect.stringMatching(/not accepted on Sundown's bus/)],
      ]),
    );
    expect(
      await sd.registry.forWorkload('arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0'),
    ).toEqual([]);
    // Rejected once, not failed and retried: no handler error, nothing in a DLQ.
    await sd.assertQuiet();
  });

  it('rejects and audits an event from another account that reached a queue', async () => {
    // EventBridge cannot deliver such an event here (queue policies allow only
    // Sundown's rules); simulate a forged message on the queue itself.
    const queueUrl = sd.runtime.model.eventSources.find((s) => s.queueUrl.includes('ServiceEvents'))
      ?.queueUrl as string;
    const forged = {
      version: '0',
      id: 'forged-1',
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
      account: '999999999999',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { 'instance-id': 'i-0fedcba9876543210', state: 'terminated' },
    };
    await sd.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(forged) }));
    await sd.drain();

    const rejected = await sd.audit.query({ type: 'rejected' });
    expect(rejected.find((r) => r.trigger?.eventId === 'forged-1')?.reason).toMatch(
      /unexpected account "999999999999"/,
    );
    await sd.assertQuiet();
  });
});
