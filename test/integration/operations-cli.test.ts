/**
 * The operator commands against the emulator, through the real CLI: `sundown sweep` (Lambda Invoke
 * of the deployed Sweeper, answered in local mode by the runtime's invoke server), `sundown status`
 * and `sundown dlq replay`.
 */
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../cli/commands/status.ts';
import type { SweepReport } from '../../lambdas/sweep/index.ts';
import { localWorkdir, runCli } from './cli.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
let cwd: string;

beforeAll(async () => {
  sd = await deploySundown();
  cwd = localWorkdir(sd);
  // One revocation, so status has time-to-revoke samples and a principal with deny entries.
  const role = await sd.iam.send(
    new CreateRoleCommand({
      RoleName: 'status-role',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }],
    }),
  );
  const bus = sd.outputs.EventBusName;
  await sd.putEvents([
    {
      EventBusName: bus,
      Source: 'sundown',
      DetailType: 'Credential Issued',
      Detail: JSON.stringify({
        kind: 'role-session',
        roleArn: role.Role?.Arn,
        sessionName: 'status-1',
        workloadId: 'ci/status-1',
      }),
    },
  ]);
  await sd.drain();
  await sd.putEvents([
    {
      EventBusName: bus,
      Source: 'sundown',
      DetailType: 'Workload Ended',
      Detail: '{"workloadId":"ci/status-1"}',
    },
  ]);
  await sd.drain();
});
afterAll(async () => {
  await sd?.stop();
});

async function status(): Promise<Status> {
  const res = await runCli(['status', '--local', '--json'], cwd);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as Status;
}

describe('sundown sweep', () => {
  it('runs the deployed sweeper and prints its report; --dry-run changes nothing', async () => {
    const preview = await runCli(['sweep', '--local', '--dry-run', '--json'], cwd);
    expect(preview.code).toBe(0);
    expect((JSON.parse(preview.stdout) as SweepReport).dryRun).toBe(true);

    const res = await runCli(['sweep', '--local', '--json'], cwd);

    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as SweepReport;
    expect(report).toMatchObject({ dryRun: false, errors: [] });
    expect(report.checked.principals).toBe(1);
    const text = await runCli(['sweep', '--local'], cwd);
    expect(text.stdout).toMatch(/^Sweep at .*No findings\./s);
  });
});

describe('sundown status', () => {
  it('reflects a message put in a DLQ, with its age, next to registry, revocation and sweep figures', async () => {
    // Prepare
    await sd.sqs.send(
      new SendMessageCommand({ QueueUrl: sd.outputs.ServiceEventsDlqUrl, MessageBody: '{"poison":1}' }),
    );
    await sd.sqs.send(
      new SendMessageCommand({
        QueueUrl: sd.outputs.RevocationsDlqUrl,
        MessageBody: '{"target":"role","bad":true}',
        MessageGroupId: 'arn:aws:iam::123456789012:role/status-role',
      }),
    );

    // Act
    const s = await status();

    // Assess
    const byName = Object.fromEntries(s.queues.map((q) => [q.name, q]));
    expect(Object.keys(byName).sort()).toEqual([
      'AuditSealTicks',
      'BusEvents',
      'DiscoveryEvents',
      'EventDelivery',
      'Revocations',
      'ServiceEvents',
      'SweepTicks',
      'UseAfterRevoke',
    ]);
    expect(byName.ServiceEvents?.dlq).toMatchObject({ messages: 1, ageSource: 'peek' });
    expect(byName.ServiceEvents?.dlq.oldestMessageAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(byName.ServiceEvents?.queue).toMatchObject({ messages: 0 });
    expect(byName.Revocations?.dlq).toMatchObject({ messages: 1, ageSource: 'peek' });
    expect(byName.BusEvents?.dlq).toMatchObject({
      messages: 0,
      oldestMessageAgeSeconds: null,
      ageSource: 'none',
    });
    expect(byName.EventDelivery?.queue).toBeNull();
    expect(s.activeCredentials).toMatchObject({ total: 0, truncated: false });
    expect(s.last24h).toMatchObject({ revoked: 1, failed: 0 });
    expect(s.last24h.timeToRevokeMs.samples).toBe(1);
    expect(s.last24h.timeToRevokeMs.p99).toBe(s.last24h.timeToRevokeMs.p50);
    expect(s.policyCapacity.nearest[0]).toMatchObject({
      principalArn: 'arn:aws:iam::123456789012:role/status-role',
    });
    expect(s.policyCapacity.nearest[0]?.usedPercent).toBeGreaterThan(0);
    expect(s.lastSweep).toMatchObject({ dryRun: false, errors: [] });

    const text = await runCli(['status', '--local'], cwd);
    expect(text.stdout).toMatch(/ServiceEvents\s+0\s+0\s+1\s+\d+ \(peek\)/);
    // The harness's quiet check sees both messages: undeclared they fail it, declared they pass.
    await expect(sd.assertQuiet()).rejects.toThrow(
      /DLQ ServiceEvents holds 1 message\(s\), expected 0:\n\s+\{"poison":1\}/,
    );
    await sd.assertQuiet({ expectedDlq: { ServiceEvents: 1, Revocations: 1 } });
  });
});

describe('sundown dlq replay', () => {
  it('refuses without a terminal and without --yes, and names the DLQs on a wrong --queue', async () => {
    const refused = await runCli(['dlq', 'replay', '--local'], cwd);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'sundown: refusing to replay 2 message(s) without confirmation: stdin is not a terminal; pass --yes\n',
    );
    const wrong = await runCli(['dlq', 'replay', '--local', '--queue', 'Nope', '--yes'], cwd);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /--queue must be one of AuditSealTicks, BusEvents, DiscoveryEvents, EventDelivery, Revocations, ServiceEvents, SweepTicks, UseAfterRevoke, got "Nope"/,
    );
    expect((await status()).queues.find((q) => q.name === 'ServiceEvents')?.dlq.messages).toBe(1);
  });

  it('moves the messages back to their source queues (FIFO keeps its group) with --yes', async () => {
    const res = await runCli(['dlq', 'replay', '--local', '--yes', '--json'], cwd);

    expect(res.code).toBe(0);
    const { replayed } = JSON.parse(res.stdout) as {
      replayed: { queue: string; moved: number; left: number }[];
    };
    expect(replayed.map((r) => [r.queue, r.moved, r.left])).toEqual([
      ['Revocations', 1, 0],
      ['ServiceEvents', 1, 0],
    ]);
    await sd.drain();
    // Both were bad input: the handlers reject them (audited) instead of failing them again.
    const rejected = await sd.audit.query({ type: 'rejected' });
    expect(rejected.length).toBe(2);
    const after = await status();
    expect(after.queues.every((q) => q.dlq.messages === 0)).toBe(true);
    // Rejected, not failed: no handler error, and every DLQ stays empty.
    await sd.assertQuiet();
  });
});
