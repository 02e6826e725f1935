/**
 * The access-key revocation service with in-memory registry, store and audit, and a fake IAM client
 * behind the real UserPolicyWriter (so IAM's error mapping is exercised too). The emulator test
 * (test/integration/keys-and-certificates.test.ts) covers the same path against real API calls; this
 * one covers what moto cannot show: IAM refusals and transient failures.
 */
import {
  DeleteUserPolicyCommand,
  type IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { UserPolicyWriter } from '../../lambdas/revocation/access-keys/policy-writer.ts';
import {
  keyEntryName,
  revokeUser,
  type UserRevokerDeps,
} from '../../lambdas/revocation/access-keys/revoke.ts';
import type { StoredDenyEntry } from '../../lambdas/revocation/store.ts';
import { entryKey } from '../../lambdas/revocation/store.ts';
import type { AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';

const USER = 'ci-bot';
const USER_ARN = `arn:aws:iam::123456789012:user/${USER}`;
const KEY_ENDED = 'AKIAENDEDKEY00000001';
const KEY_LIVE = 'AKIALIVEKEY000000002';
const ENDED_AT = '2024-05-01T12:00:00.000Z';
const NOW = new Date('2024-05-01T12:00:05.000Z');

function credential(overrides: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    credentialId: 'ak-000000000000000000000001',
    kind: 'access-key',
    workloadId: 'ci/job-1',
    workloadKind: 'custom',
    status: 'revoking',
    issuedAt: '2024-05-01T11:00:00.000Z',
    expiresAt: '2024-05-02T11:00:00.000Z',
    issuer: 'event',
    account: '123456789012',
    region: 'us-east-1',
    userName: USER,
    accessKeyId: KEY_ENDED,
    endedAt: ENDED_AT,
    ...overrides,
  };
}

type Send = (command: unknown) => Promise<unknown>;

/** In-memory stand-ins for what revokeUser uses of the registry, store and audit log. */
function fakeDeps(credentials: CredentialRecord[], send: Send) {
  const registry = new Map(credentials.map((c) => [c.credentialId, { ...c }]));
  const entries = new Map<string, StoredDenyEntry>();
  const meta = { version: 0, renderedVersion: 0 };
  const audit: AuditRecordInput[] = [];
  const calls: unknown[] = [];
  const iam = {
    send: (command: unknown) => {
      calls.push(command);
      return send(command);
    },
  } as unknown as IAMClient;
  const deps = {
    registry: {
      get: async (id: string) => registry.get(id),
      transition: async (id: string, from: string[], to: string, fields: Partial<CredentialRecord>) => {
        const c = registry.get(id);
        if (!c || !from.includes(c.status)) return undefined;
        Object.assign(c, fields, { status: to });
        return { ...c };
      },
    },
    store: {
      addEntries: async (_arn: string, added: StoredDenyEntry[]) => {
        for (const e of added) entries.set(entryKey(e), e);
        meta.version += 1;
        return meta.version;
      },
      load: async () => ({ entries: [...entries.values()], ...meta }),
      markRendered: async (_arn: string, version: number) => {
        if (version > meta.renderedVersion) meta.renderedVersion = version;
      },
      deleteEntries: async (_arn: string, removed: StoredDenyEntry[]) => {
        for (const e of removed) entries.delete(entryKey(e));
      },
    },
    audit: { append: async (record: AuditRecordInput) => audit.push(record) },
    config: { SUNDOWN_MAX_SESSION_HOURS: { accessKeySessions: 36 } },
    actor: { type: 'function', name: 'revoker' },
    now: () => NOW,
    userPolicies: new UserPolicyWriter(iam),
  } as unknown as UserRevokerDeps;
  return { deps, registry, entries, meta, audit, calls };
}

/** What end-workload leaves in the store for one ended key, and the version it returns. */
async function endWorkloadEntry(deps: UserRevokerDeps, accessKeyId = KEY_ENDED): Promise<number> {
  return deps.store.addEntries(USER_ARN, [
    {
      sessionName: keyEntryName(accessKeyId),
      notAfter: ENDED_AT,
      expiresAt: '2024-05-03T00:00:00.000Z',
      reusableName: false,
      workloadId: 'ci/job-1',
    },
  ]);
}

const ok: Send = async () => ({});

function iamError(name: string): IAMServiceException {
  return new IAMServiceException({ name, $fault: 'client', $metadata: {}, message: `${name} for test` });
}

describe('revokeUser', () => {
  it('deactivates exactly the recorded key, denies sessions up to the deactivation, and settles it', async () => {
    // Prepare: the user has a second key, recorded for a workload that is still running, and IAM would
    // list both; only the ended workload's key may be touched.
    const live = credential({
      credentialId: 'ak-000000000000000000000002',
      accessKeyId: KEY_LIVE,
      workloadId: 'ci/job-2',
      status: 'active',
      endedAt: undefined,
    });
    const fake = fakeDeps([credential(), live], async (command) =>
      command instanceof ListAccessKeysCommand
        ? {
            AccessKeyMetadata: [KEY_ENDED, KEY_LIVE].map((AccessKeyId) => ({
              UserName: USER,
              AccessKeyId,
              Status: 'Active',
            })),
          }
        : {},
    );
    const version = await endWorkloadEntry(fake.deps);

    // Act
    const outcome = await revokeUser(fake.deps, {
      target: 'user',
      userArn: USER_ARN,
      version,
      credentialIds: ['ak-000000000000000000000001'],
    });

    // Assess
    const updates = fake.calls.filter((c) => c instanceof UpdateAccessKeyCommand);
    expect(updates.map((c) => (c as UpdateAccessKeyCommand).input)).toEqual([
      { UserName: USER, AccessKeyId: KEY_ENDED, Status: 'Inactive' },
    ]);
    // The live key is known to the registry and to IAM, yet no call names it and it stays active.
    expect(JSON.stringify(fake.calls.map((c) => (c as { input?: unknown }).input))).not.toContain(KEY_LIVE);
    expect(fake.registry.get('ak-000000000000000000000002')?.status).toBe('active');
    const put = fake.calls.find((c) => c instanceof PutUserPolicyCommand) as PutUserPolicyCommand;
    expect(put.input.PolicyName).toBe('SundownRevokedSessions');
    const doc = JSON.parse(put.input.PolicyDocument as string);
    // Bound = deactivation time (12:00:05), later than the end: sessions minted in between are denied too.
    expect(doc.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': '2024-05-01T12:00:05Z' } },
      }),
    ]);
    expect(outcome).toEqual({ iamWrites: 2, revoked: ['ak-000000000000000000000001'], failed: [] });
    expect(fake.registry.get('ak-000000000000000000000001')?.status).toBe('revoked');
    expect(fake.meta.renderedVersion).toBe(fake.meta.version);
    const revoked = fake.audit.filter((r) => r.type === 'revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.details).toMatchObject({
      accessKeyId: KEY_ENDED,
      userName: USER,
      timeToRevokeMs: 5000,
      keyState: 'deactivated',
      sessionsDeniedBefore: '2024-05-01T12:00:05Z',
    });
  });

  it('does nothing in IAM for a message whose credentials are already settled', async () => {
    // Prepare: the first delivery revoked it.
    const fake = fakeDeps([credential()], ok);
    const message = {
      target: 'user' as const,
      userArn: USER_ARN,
      version: await endWorkloadEntry(fake.deps),
      credentialIds: ['ak-000000000000000000000001'],
    };
    await revokeUser(fake.deps, message);
    fake.calls.length = 0;

    // Act
    const outcome = await revokeUser(fake.deps, message);

    // Assess
    expect(fake.calls).toEqual([]);
    expect(outcome).toEqual({ iamWrites: 0, revoked: [], failed: [] });
    expect(fake.audit.filter((r) => r.type === 'revoked')).toHaveLength(1);
  });

  it('counts a key IAM no longer knows as revoked, saying so', async () => {
    const fake = fakeDeps([credential()], async (command) => {
      if (command instanceof UpdateAccessKeyCommand)
        throw new NoSuchEntityException({ $metadata: {}, message: 'The Access Key cannot be found' });
      return {};
    });
    const version = await endWorkloadEntry(fake.deps);

    const outcome = await revokeUser(fake.deps, {
      target: 'user',
      userArn: USER_ARN,
      version,
      credentialIds: ['ak-000000000000000000000001'],
    });

    expect(outcome.revoked).toEqual(['ak-000000000000000000000001']);
    expect(fake.audit.find((r) => r.type === 'revoked')?.details).toMatchObject({ keyState: 'not-found' });
  });

  it('fails the credential at once, without retrying, when IAM denies access', async () => {
    // Prepare: the user lost its opt-in tag after the end was processed.
    const fake = fakeDeps([credential()], async (command) => {
      if (command instanceof UpdateAccessKeyCommand || command instanceof PutUserPolicyCommand)
        throw iamError('AccessDenied');
      return {};
    });
    const version = await endWorkloadEntry(fake.deps);

    // Act
    const outcome = await revokeUser(fake.deps, {
      target: 'user',
      userArn: USER_ARN,
      version,
      credentialIds: ['ak-000000000000000000000001'],
    });

    // Assess
    expect(outcome.failed).toEqual(['ak-000000000000000000000001']);
    const record = fake.registry.get('ak-000000000000000000000001');
    expect(record?.status).toBe('failed');
    expect(record?.statusReason).toMatch(/access denied deactivating access key AKIAENDEDKEY00000001/);
    expect(fake.audit.filter((r) => r.type === 'failed')).toHaveLength(1);
  });

  it('fails a deactivated key whose sessions could not be denied, naming both facts', async () => {
    // Prepare: the key can be deactivated, but the user's inline policy quota is full.
    const fake = fakeDeps([credential()], async (command) => {
      if (command instanceof PutUserPolicyCommand) throw iamError('LimitExceeded');
      return {};
    });
    const version = await endWorkloadEntry(fake.deps);

    // Act
    const outcome = await revokeUser(fake.deps, {
      target: 'user',
      userArn: USER_ARN,
      version,
      credentialIds: ['ak-000000000000000000000001'],
    });

    // Assess: the key really was deactivated (the first fact), the deny really failed (the second),
    // and the credential is failed, not revoked, with both facts in its reason and its audit record.
    const updates = fake.calls.filter((c) => c instanceof UpdateAccessKeyCommand) as UpdateAccessKeyCommand[];
    expect(updates.map((c) => c.input)).toEqual([
      { UserName: USER, AccessKeyId: KEY_ENDED, Status: 'Inactive' },
    ]);
    expect(fake.calls.filter((c) => c instanceof PutUserPolicyCommand)).toHaveLength(1);
    expect(outcome).toEqual({ iamWrites: 1, revoked: [], failed: ['ak-000000000000000000000001'] });
    const record = fake.registry.get('ak-000000000000000000000001');
    expect(record?.status).toBe('failed');
    expect(record?.statusReason).toMatch(
      /^access key AKIAENDEDKEY00000001 was deactivated, but sessions minted from it are not denied: .*2048 characters/,
    );
    const failed = fake.audit.filter((r) => r.type === 'failed');
    expect(failed.map((r) => r.reason)).toEqual([record?.statusReason]);
    expect(fake.audit.filter((r) => r.type === 'revoked')).toEqual([]);
  });

  it('throws a transient failure so the queue retries, leaving the credential revoking', async () => {
    const fake = fakeDeps([credential()], async (command) => {
      if (command instanceof UpdateAccessKeyCommand) throw iamError('ServiceFailure');
      return {};
    });
    const version = await endWorkloadEntry(fake.deps);

    await expect(
      revokeUser(fake.deps, {
        target: 'user',
        userArn: USER_ARN,
        version,
        credentialIds: ['ak-000000000000000000000001'],
      }),
    ).rejects.toThrow(/ServiceFailure/);
    expect(fake.registry.get('ak-000000000000000000000001')?.status).toBe('revoking');
  });

  it('refuses a credential recorded for another user without touching IAM for it', async () => {
    const fake = fakeDeps([credential({ userName: 'someone-else' })], ok);
    const version = await endWorkloadEntry(fake.deps);

    const outcome = await revokeUser(fake.deps, {
      target: 'user',
      userArn: USER_ARN,
      version,
      credentialIds: ['ak-000000000000000000000001'],
    });

    expect(outcome.failed).toEqual(['ak-000000000000000000000001']);
    expect(fake.calls.some((c) => c instanceof UpdateAccessKeyCommand)).toBe(false);
  });

  it('deletes the policy once every entry has expired, and prunes them', async () => {
    // Prepare: an old, settled revocation whose sessions have all expired; the policy still exists.
    const fake = fakeDeps([credential({ status: 'revoked' })], ok);
    const version = await fake.deps.store.addEntries(USER_ARN, [
      {
        sessionName: keyEntryName(KEY_ENDED),
        notAfter: '2024-04-01T00:00:00.000Z',
        expiresAt: '2024-04-02T12:00:00.000Z',
        reusableName: false,
        workloadId: 'ci/job-1',
      },
    ]);

    // Act
    await revokeUser(fake.deps, {
      target: 'user',
      userArn: USER_ARN,
      version,
      credentialIds: ['ak-000000000000000000000001'],
    });

    // Assess
    expect(fake.calls.filter((c) => c instanceof DeleteUserPolicyCommand)).toHaveLength(1);
    expect(fake.entries.size).toBe(0);
    expect(fake.audit.filter((r) => r.type === 'pruned')).toHaveLength(1);
  });
});
