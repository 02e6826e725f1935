/**
 * What moto never does to Sundown, done by a strict semantics adapter between Sundown's runtime and
 * the emulator (fault-proxy.ts): IAM throttling its writes, and a handler dying between two of its
 * durable steps. Either way no revocation is lost: every ended session ends up denied on its own
 * role, every credential `revoked`, no DLQ holds anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2StateEvent, ensureDemoRole } from '../../local/demo.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { deniedOn, sundownEvent } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
let proxy: FaultProxy;

beforeAll(async () => {
  sd = await deploySundown({
    interpose: async (endpoint) => {
      proxy = await startFaultProxy(endpoint);
      return proxy.endpoint;
    },
  });
});
afterAll(async () => {
  await sd?.stop();
  await proxy?.stop();
});

let nextInstance = 0;
const newInstanceId = () =>
  `i-${(0x0f000000000000000n + BigInt(nextInstance++)).toString(16).padStart(17, '0')}`;
const instanceArn = (id: string) => `arn:aws:ec2:${sd.target.region}:${sd.target.accountId}:instance/${id}`;

/** `perRole` instance sessions recorded on each of the roles, created opted in. */
async function sessionsOn(roles: string[], perRole: number): Promise<Map<string, string[]>> {
  const bus = sd.outputs.EventBusName as string;
  const byRole = new Map<string, string[]>();
  const issued = [];
  for (const role of roles) {
    const roleArn = await ensureDemoRole(sd.iam, role);
    const ids = Array.from({ length: perRole }, newInstanceId);
    byRole.set(role, ids);
    for (const id of ids) {
      issued.push(
        sundownEvent(bus, 'Credential Issued', {
          kind: 'role-session',
          roleArn,
          sessionName: id,
          workloadId: instanceArn(id),
        }),
      );
    }
  }
  await sd.putEvents(issued);
  await sd.drain(60_000);
  return byRole;
}

async function endAll(byRole: Map<string, string[]>): Promise<void> {
  const endedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const ids = [...byRole.values()].flat();
  await sd.putEvents(ids.map((id) => ec2StateEvent(id, 'terminated', sd.target, endedAt)));
  await sd.drain(120_000);
}

/** Every session denied on its own role and nothing else; every credential revoked. */
async function expectAllRevoked(byRole: Map<string, string[]>): Promise<void> {
  for (const [role, ids] of byRole) {
    expect((await deniedOn(sd.iam, role)).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await sd.registry.forWorkload(instanceArn(id))).map((c) => c.status)).toEqual(['revoked']);
    }
  }
}

describe('IAM throttling its writes (moto never throttles)', () => {
  it("denies every ended session through IAM's throttling, retrying what IAM refused, and loses none", async () => {
    // Prepare: 4 roles, 5 sessions each; IAM then grants one write per second, one at a time.
    const byRole = await sessionsOn(['throttled-a', 'throttled-b', 'throttled-c', 'throttled-d'], 5);
    proxy.throttleIamWrites(1, 1);
    const before = { ...proxy.stats };

    // Act: all 20 end together (one batch: one write per role, all at once).
    try {
      await endAll(byRole);
    } finally {
      proxy.throttleIamWrites(0);
    }

    // Assess: IAM did refuse writes, and every one was retried until it landed.
    console.info(
      `IAM at 1 write/s: ${proxy.stats.iamWrites - before.iamWrites} writes landed, ${proxy.stats.throttled - before.throttled} refused as Throttling and retried`,
    );
    expect(proxy.stats.throttled - before.throttled).toBeGreaterThan(0);
    expect(proxy.stats.iamWrites - before.iamWrites).toBe(4);
    await expectAllRevoked(byRole);
    await sd.assertQuiet();
  }, 240_000);
});

describe('a WorkloadEnded batch that dies between its durable steps', () => {
  it('is retried whole, and sends the revocations its first attempt had recorded but not sent', async () => {
    // Prepare: the batch's first attempt records every state change, then its revocation
    // messages fail to leave (as a function killed at that moment).
    const byRole = await sessionsOn(['interrupted-a', 'interrupted-b'], 3);
    const queue = (sd.outputs.RevocationQueueUrl as string).split('/').pop() as string;
    proxy.failNext(
      (call) => call.service === 'sqs' && /^SendMessage/.test(call.op) && call.body.includes(queue),
    );
    const before = { ...proxy.stats };

    // Act
    await endAll(byRole);

    // Assess: the fault happened once, the retried batch found its credentials already
    // `revoking` and sent their revocations: all six denied, all revoked.
    expect(proxy.stats.failed - before.failed).toBe(1);
    await expectAllRevoked(byRole);
    await sd.assertQuiet({
      expectedErrors: [/injected fault|AccessDenied/, /SQS record\(s\) failed and went back to their queue/],
    });
  }, 240_000);

  it('still audits its requests when storing the deny entries fails, and the retry revokes them', async () => {
    // Prepare: the batch's first attempt moves its credentials to `revoking`, then its deny
    // entries fail to reach the revocation store. Its audit append waits for that write to settle.
    const byRole = await sessionsOn(['unstored-a', 'unstored-b'], 3);
    const table = sd.outputs.RevocationsTableName as string;
    proxy.failNext(
      (call) => call.service === 'dynamodb' && call.op === 'BatchWriteItem' && call.body.includes(table),
    );
    const before = { ...proxy.stats };

    // Act
    await endAll(byRole);

    // Assess: the retry (the resend path) writes no second request record, so the first attempt's
    // append must have run although its other path failed: one request per credential.
    expect(proxy.stats.failed - before.failed).toBe(1);
    await expectAllRevoked(byRole);
    for (const id of [...byRole.values()].flat()) {
      const requested = await sd.audit.query({ workloadId: instanceArn(id), type: 'revocation-requested' });
      expect(requested).toHaveLength(1);
    }
    await sd.assertQuiet({
      expectedErrors: [/injected fault|AccessDenied/, /SQS record\(s\) failed and went back to their queue/],
    });
  }, 240_000);
});
