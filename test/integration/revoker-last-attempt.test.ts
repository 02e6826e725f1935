/**
 * A revocation that keeps failing is not lost: the revoker retries it with the queue's redrive
 * budget, and on its last attempt leaves the credential `failed`, audited with `dlq: true`, before
 * the message moves to the Revocations DLQ. Here the role named by the message does not exist in
 * IAM, so every attempt fails (NoSuchEntity while reading the role's policies).
 */
import { createHash } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevocationStore } from '../../lambdas/revocation/store.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
const ACCOUNT = '123456789012';
const EXPECTED_ERRORS = [/revocation failed/, /SQS record\(s\) failed/];

beforeAll(async () => {
  sd = await deploySundown();
});
afterAll(async () => {
  await sd?.stop({ expectedDlq: { Revocations: 1 }, expectedErrors: EXPECTED_ERRORS });
});

describe('a revocation that fails on every attempt', () => {
  it('is retried, then its credential is left failed and audited before the message goes to the DLQ', async () => {
    // Prepare: a credential being revoked on a role IAM does not know, and its deny entry.
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/vanished-role`;
    const sessionName = 'i-0c0ffee0c0ffee000';
    const workloadId = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${sessionName}`;
    const endedAt = new Date().toISOString();
    const credentialId = 'rs-0000000000000000000fa11d';
    await sd.registry.record({
      credentialId,
      kind: 'role-session',
      workloadId,
      workloadKind: 'ec2',
      status: 'revoking',
      issuedAt: endedAt,
      expiresAt: '9999-12-31T00:00:00.000Z',
      issuer: 'cli',
      account: ACCOUNT,
      region: 'us-east-1',
      roleArn,
      roleName: 'vanished-role',
      sessionName,
      endedAt,
    });
    const store = new RevocationStore(sd.doc, sd.outputs.RevocationsTableName as string);
    const version = await store.addEntries(roleArn, [
      {
        sessionName,
        notAfter: endedAt,
        expiresAt: new Date(Date.now() + 6 * 3_600_000).toISOString(),
        reusableName: false,
        workloadId,
      },
    ]);
    const body = JSON.stringify({ target: 'role', roleArn, version, credentialIds: [credentialId] });

    // Act
    await sd.sqs.send(
      new SendMessageCommand({
        QueueUrl: sd.outputs.RevocationQueueUrl,
        MessageBody: body,
        MessageGroupId: 'vanished-role',
        MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
      }),
    );
    await sd.drain(120_000);

    // Assess: failed (once), audited as the DLQ case, and the message is in the DLQ.
    expect((await sd.registry.get(credentialId))?.status).toBe('failed');
    const failed = await sd.audit.query({ credentialId, type: 'failed' });
    expect(failed).toHaveLength(1);
    expect(failed[0]?.details).toMatchObject({ dlq: true });
    expect(failed[0]?.reason).toMatch(/^revocation failed after retries: NoSuchEntity/);
    expect((await sd.dlqDepths()).Revocations).toBe(1);
    // Five attempts (the queue's maxReceiveCount), each reported as a failed record.
    expect(sd.handlerErrors().filter((e) => /revocation failed/.test(e)).length).toBeGreaterThanOrEqual(5);
  });
});
