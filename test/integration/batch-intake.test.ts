/**
 * WorkloadEnded takes its SQS batch as a whole: good ends of the batch are revoked together (one
 * revocation message per role), while bad input in the same batch (a body that is not JSON, an
 * event from another account) is audited as rejected and never retried, and costs the good ones
 * nothing. Also: an end that arrives right after its credential was recorded is revoked (the
 * registry is read strongly consistently, not through a GSI that may lag).
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoRole } from '../../local/demo.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
const ACCOUNT = '123456789012';
const instanceId = (i: number) => `i-${(0x0b000000000000000n + BigInt(i)).toString(16).padStart(17, '0')}`;
const instanceArn = (id: string) => `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${id}`;

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop();
});

/** An EC2 state-change event as EventBridge delivers it to the queue. */
function deliveredEc2Event(id: string, state: string, account = ACCOUNT) {
  return JSON.stringify({
    version: '0',
    id: `evt-${id}-${state}-${account}`,
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [instanceArn(id)],
    detail: { 'instance-id': id, state },
  });
}

describe('a batch of workload ends with bad input in it', () => {
  it('revokes every good end, audits each bad message as rejected, retries nothing', async () => {
    // Prepare: five sessions on one role, recorded directly before the ends (no index lag allowed).
    const roleArn = await ensureDemoRole(sd.iam, 'batch-intake');
    const ids = [1, 2, 3, 4, 5].map(instanceId);
    for (const id of ids) {
      await sd.registry.record({
        credentialId: `rs-${id.slice(2, 26).padEnd(24, '0')}`,
        kind: 'role-session',
        workloadId: instanceArn(id),
        workloadKind: 'ec2',
        status: 'active',
        issuedAt: new Date().toISOString(),
        expiresAt: '9999-12-31T00:00:00.000Z',
        issuer: 'event',
        account: ACCOUNT,
        region: 'us-east-1',
        roleArn,
        roleName: 'batch-intake',
        sessionName: id,
      });
    }
    const queueUrl = sd.runtime.model.eventSources.find((s) => s.queueUrl.includes('ServiceEvents'))
      ?.queueUrl as string;
    expect(queueUrl).toBeTruthy();
    const rejectedBefore = (await sd.audit.query({ type: 'rejected', limit: Number.POSITIVE_INFINITY }))
      .length;

    // Act: one SQS batch: five ends, a body that is not JSON, an event from another account.
    const bodies = [
      ...ids.map((id) => deliveredEc2Event(id, 'terminated')),
      'not json {',
      deliveredEc2Event(instanceId(9), 'terminated', '210987654321'),
    ];
    await sd.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
      }),
    );
    await sd.drain(120_000);

    // Assess: all five revoked, by one revocation request per role per batch at most.
    for (const id of ids) {
      const [credential] = await sd.registry.forWorkload(instanceArn(id));
      expect(credential?.status).toBe('revoked');
    }
    const rejected = await sd.audit.query({ type: 'rejected', limit: Number.POSITIVE_INFINITY });
    const reasons = rejected.slice(rejectedBefore).map((r) => r.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'message body is not valid JSON',
        expect.stringMatching(/unexpected account "210987654321"/),
      ]),
    );
    expect(reasons).toHaveLength(2);
    await sd.assertQuiet();
  });
});
