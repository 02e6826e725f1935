/**
 * Issue 18: `sundown drill` end to end against the local stack (time-to-deny, the live session
 * spared, the audit chain; and exit 1 when the revoker is stopped), use-after-revoke (CloudTrail
 * access-denied events replayed on the default bus for a revoked and a never-revoked session, and a
 * malformed one), and the scheduled revocation canary (`canary.enabled`: run as its schedule runs it
 * and by Invoke, with the IAM simulator the local runtime hands it). One deployment for every case:
 * the stack is deployed with the canary on, which the other cases do not notice.
 */
import { readFileSync } from 'node:fs';
import { CreateRoleCommand, GetRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localWorkdir, runCli } from './cli.ts';
import { deploySundown, type Sundown } from './harness.ts';
import { capturedOutput } from './log-scan.setup.ts';

/** A short drill timeout, so the failing canary run below stays cheap. */
const CANARY_CONFIG = { canary: { enabled: true, schedule: 'rate(5 minutes)', timeoutSeconds: 10 } };

let sd: Sundown;
let cwd: string;

beforeAll(async () => {
  // Metrics on (embedded metric format lines in the captured output): the alert's datapoint is checked.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  sd = await deploySundown({ config: CANARY_CONFIG });
  cwd = localWorkdir(sd);
}, 300_000);
afterAll(async () => {
  await sd?.stop();
});

interface DrillJson {
  ok: boolean;
  failure?: string;
  timeToDenyMs?: number;
  liveSessionAllowed?: boolean;
  audit: { types: string[]; complete: boolean };
  endedWorkload: { workloadId: string; credentialId: string; sessionName: string };
  liveWorkload: { workloadId: string; credentialId: string; sessionName: string };
  evaluation: string;
  note?: string;
  roleCreated: boolean;
  roleDeleted: boolean;
  roleArn: string;
}

const SECRET_KEYS = /secretAccessKey|sessionToken|SessionToken|SecretAccessKey/;

describe('sundown drill', () => {
  it('ends a throwaway role session, reports its time-to-deny, spares the live one, audits the chain', async () => {
    const res = await runCli(['drill', '--local', '--json', '--timeout', '60', '--interval', '0.2'], cwd);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).not.toMatch(SECRET_KEYS);
    const report = JSON.parse(res.stdout) as DrillJson;
    expect(report.ok).toBe(true);
    expect(report.timeToDenyMs).toBeGreaterThan(0);
    expect(report.timeToDenyMs).toBeLessThan(60_000);
    expect(report.liveSessionAllowed).toBe(true);
    expect(report.audit.complete).toBe(true);
    expect(report.audit.types).toEqual(expect.arrayContaining(['issued', 'revocation-requested', 'revoked']));
    expect(report.evaluation).toBe('simulator');
    expect(report.note).toBe('evaluated locally with an IAM policy simulator; moto does not enforce IAM');
    expect([report.roleCreated, report.roleDeleted]).toEqual([true, true]);
    await expect(
      sd.iam.send(new GetRoleCommand({ RoleName: report.roleArn.split('/').pop() })),
    ).rejects.toThrow();
    const live = await sd.registry.get(report.liveWorkload.credentialId);
    expect(live?.status).toBe('active');
  }, 180_000);
});

describe('a drill with the revoker stopped, then use-after-revoke on its session', () => {
  const canary = 'sundown-canary-role';
  let roleArn: string;
  let roleId: string;
  let report: DrillJson;

  beforeAll(async () => {
    const created = await sd.iam.send(
      new CreateRoleCommand({
        RoleName: canary,
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
        Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }],
      }),
    );
    roleArn = created.Role?.Arn as string;
    roleId = created.Role?.RoleId as string;
    await sd.iam.send(
      new PutRolePolicyCommand({
        RoleName: canary,
        PolicyName: 'probe',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: roleArn }],
        }),
      }),
    );
  });

  it('fails with exit code 1 when the deny does not arrive in time (revoker consumer stopped)', async () => {
    sd.runtime.setConsumerEnabled('Revoker', false);
    try {
      const res = await runCli(
        ['drill', '--local', '--json', '--role', canary, '--timeout', '3', '--interval', '0.5'],
        cwd,
      );
      expect(res.code).toBe(1);
      report = JSON.parse(res.stdout) as DrillJson;
      expect(report.ok).toBe(false);
      expect(report.failure).toMatch(/was not denied within 3 s/);
      expect(report.roleCreated).toBe(false);
      expect(report.timeToDenyMs).toBeUndefined();
    } finally {
      sd.runtime.setConsumerEnabled('Revoker', true);
    }
    await sd.drain();
    expect((await sd.registry.get(report.endedWorkload.credentialId))?.status).toBe('revoked');
  }, 180_000);

  it('alerts once per revoked session and window; never-revoked sessions and bad input raise nothing', async () => {
    const sns = new SNSClient({ endpoint: sd.target.endpoint, region: sd.target.region });
    const inbox = await sd.sqs.send(new CreateQueueCommand({ QueueName: 'uar-inbox' }));
    const inboxArn = (
      await sd.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: inbox.QueueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.QueueArn;
    await sns.send(
      new SubscribeCommand({
        TopicArn: sd.outputs.UseAfterRevokeTopicArn,
        Protocol: 'sqs',
        Endpoint: inboxArn,
      }),
    );
    const ended = await sd.registry.get(report.endedWorkload.credentialId);
    const live = await sd.registry.get(report.liveWorkload.credentialId);
    const denied = (session: string, issuedAt: string, ip: string) => ({
      Source: 'aws.iam',
      DetailType: 'AWS API Call via CloudTrail',
      Time: new Date(),
      Detail: JSON.stringify({
        eventVersion: '1.08',
        eventSource: 'iam.amazonaws.com',
        eventName: 'GetRole',
        eventTime: '2026-12-02T07:00:30Z',
        awsRegion: 'us-east-1',
        errorCode: 'AccessDenied',
        errorMessage: 'with an explicit deny in an identity-based policy',
        sourceIPAddress: ip,
        userAgent: 'aws-cli/2.15.0',
        userIdentity: {
          type: 'AssumedRole',
          principalId: `${roleId}:${session}`,
          arn: `arn:aws:sts::123456789012:assumed-role/${canary}/${session}`,
          accountId: '123456789012',
          accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
          sessionContext: {
            sessionIssuer: { type: 'Role', arn: roleArn, principalId: roleId },
            attributes: { creationDate: issuedAt, mfaAuthenticated: 'false' },
          },
        },
      }),
    });
    const sessionOf = (c: typeof ended) => c?.sessionName as string;
    await sd.putEvents([
      denied(sessionOf(ended), ended?.issuedAt as string, '203.0.113.7'),
      denied(sessionOf(ended), ended?.issuedAt as string, '203.0.113.8'),
      denied(sessionOf(ended), ended?.issuedAt as string, '203.0.113.9'),
      denied(sessionOf(live), live?.issuedAt as string, '203.0.113.10'),
      {
        Source: 'aws.iam',
        DetailType: 'AWS API Call via CloudTrail',
        Detail: JSON.stringify({ errorCode: 'AccessDenied', eventName: 'GetRole' }),
      },
    ]);
    await sd.drain();

    const alerts = await sd.audit.query({ type: 'use-after-revoke' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      workloadId: report.endedWorkload.workloadId,
      outcome: 'alerted',
      details: {
        api: 'iam.amazonaws.com:GetRole',
        sourceIPAddress: '203.0.113.7',
        userAgent: 'aws-cli/2.15.0',
      },
    });
    const rejected = await sd.audit.query({ type: 'rejected' });
    expect(
      rejected.filter((r) => /use-after-revoke: invalid CloudTrail detail/.test(r.reason ?? '')),
    ).toHaveLength(1);

    const messages = await sd.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: inbox.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(messages.Messages ?? []).toHaveLength(1);
    expect(messages.Messages?.[0]?.Body).toContain(sessionOf(ended));

    const emf =
      capturedOutput()
        .join('\n')
        .match(/"UseAfterRevoke":\s*\[?1/g) ?? [];
    expect(emf).toHaveLength(1);
    const counter = await sd.doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).QueryCommand({
        TableName: sd.outputs.RevocationsTableName,
        KeyConditionExpression: 'principalArn = :p',
        ExpressionAttributeValues: { ':p': `use-after-revoke#${roleArn}` },
      }),
    );
    expect(counter.Items?.map((i) => [i.entryKey, i.attempts])).toEqual([
      [`${sessionOf(ended)}#2026-12-02T07:00:00.000Z`, 3],
    ]);

    const timeline = await runCli(
      ['audit', 'timeline', report.endedWorkload.workloadId, '--local', '--json'],
      cwd,
    );
    expect(timeline.code).toBe(0);
    const t = JSON.parse(timeline.stdout) as { events: { type: string }[] };
    expect(t.events.map((e) => e.type)).toContain('use-after-revoke');
  }, 180_000);
});

interface CanaryJson extends Omit<DrillJson, 'roleCreated' | 'roleDeleted' | 'roleArn'> {
  evaluation: string;
}

describe('the scheduled revocation canary', () => {
  const emf = (metric: string, value: number) =>
    capturedOutput().filter(
      (line) =>
        line.includes('"source":"canary"') && new RegExp(`"${metric}":\\s*\\[?${value}\\b`).test(line),
    );
  const invokeCanary = async (): Promise<CanaryJson> => {
    const lambda = new LambdaClient({ endpoint: sd.runtime.lambdaEndpoint, region: sd.target.region });
    const res = await lambda.send(
      new InvokeCommand({ FunctionName: sd.outputs.CanaryFunctionName, Payload: Buffer.from('{}') }),
    );
    expect(res.FunctionError).toBeUndefined();
    const text = Buffer.from(res.Payload ?? new Uint8Array()).toString('utf8');
    expect(text).not.toMatch(SECRET_KEYS);
    return JSON.parse(text) as CanaryJson;
  };

  it('is bundled without the IAM simulator (the local runtime injects it)', () => {
    const code = readFileSync(sd.runtime.functionFor('Canary').codeFile, 'utf8');
    expect(code).toContain('withEmulatorProbe');
    expect(code).not.toMatch(/cloud-copilot|iam-simulate|runSimulation/);
  });

  it('runs a drill on a schedule tick: broker URL, end, simulated probe; TimeToRevoke and DrillFailed 0', async () => {
    const fn = sd.runtime.functionFor('Canary');
    const source = sd.runtime.model.eventSources.find((e) => e.functionLogicalId === fn.logicalId);
    const before = { ok: emf('DrillFailed', 0).length, time: emf('TimeToRevoke', 0).length };
    await sd.sqs.send(
      new SendMessageCommand({
        QueueUrl: source?.queueUrl,
        MessageBody: JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }),
      }),
    );
    await sd.drain(120_000);
    expect(emf('DrillFailed', 0).length).toBe(before.ok + 1);
    const times = capturedOutput().filter(
      (l) => l.includes('"source":"canary"') && l.includes('"TimeToRevoke"'),
    );
    expect(times.length).toBeGreaterThan(0);
    expect(times.at(-1)).toMatch(/"Unit":"Milliseconds"/);
    expect(capturedOutput().join('\n')).not.toMatch(SECRET_KEYS);
    await sd.assertQuiet();
  }, 180_000);

  it('answers an Invoke with its report: the simulator said, the broker recorded the canary and its reason', async () => {
    const report = await invokeCanary();
    expect(report.ok).toBe(true);
    expect(report.evaluation).toBe('simulator');
    expect(report.note).toBe('evaluated locally with an IAM policy simulator; moto does not enforce IAM');
    expect(report.timeToDenyMs).toBeGreaterThan(0);
    expect(report.liveSessionAllowed).toBe(true);
    expect(report.audit.complete).toBe(true);
    const issued = await sd.registry.get(report.endedWorkload.credentialId);
    expect(issued?.roleArn).toBe(sd.outputs.CanaryRoleArn);
    expect(issued?.requestReason).toMatch(/^sundown canary: /);
    expect(issued?.status).toBe('revoked');
    await sd.assertQuiet();
  }, 180_000);

  it('publishes DrillFailed 1 when the deny does not arrive in time (revoker stopped)', async () => {
    const failedBefore = emf('DrillFailed', 1).length;
    sd.runtime.setConsumerEnabled('Revoker', false);
    let report: CanaryJson;
    try {
      report = await invokeCanary();
    } finally {
      sd.runtime.setConsumerEnabled('Revoker', true);
    }
    expect(report.ok).toBe(false);
    expect(report.failure).toMatch(/was not denied within 10 s/);
    expect(emf('DrillFailed', 1).length).toBe(failedBefore + 1);
    await sd.assertQuiet({ expectedErrors: [/revocation canary: drill FAILED/] });
  }, 180_000);
});
