import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { credentialIdFor } from '../../lambdas/shared/domain/workload-id.ts';
import {
  CREDENTIAL_KINDS,
  CREDENTIAL_STATUSES,
  CredentialRecordSchema,
  CredentialRegistrationSchema,
  findSecretLikeKeys,
  RoleArnSchema,
} from '../../lambdas/shared/schemas/credential.ts';
import {
  AutoScalingTerminateDetailSchema,
  BatchJobStateChangeDetailSchema,
  CodeBuildStateChangeDetailSchema,
  Ec2StateChangeDetailSchema,
  EcsTaskStateChangeDetailSchema,
  EventEnvelopeSchema,
  GuardDutyFindingDetailSchema,
  LambdaCloudTrailDetailSchema,
  WorkloadEndedDetailSchema,
} from '../../lambdas/triggers/index.ts';

type Json = Record<string, unknown> & { detail: Record<string, unknown> };
const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8')) as Json;

const roleSession = {
  kind: 'role-session',
  roleArn: 'arn:aws:iam::123456789012:role/ci/deploy-role',
  sessionName: 'ci-job-7',
  workloadId: 'ci/job/7',
  accessKeyId: 'ASIAEXAMPLE1A2B3C4D5',
};
const caArn =
  'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11223344-5566-7788-99aa-bbccddeeff00';

describe('EventEnvelopeSchema', () => {
  it('defaults missing resources to [] and accepts a missing account (moto deliveries)', () => {
    // Prepare
    const { account: _account, resources: _resources, ...event } = fixture('ec2-instance-state-change');
    // Act
    const parsed = EventEnvelopeSchema.parse(event);
    // Assess
    expect(parsed.resources).toEqual([]);
    expect(parsed.account).toBeUndefined();
  });

  it.each([
    ['time', 'yesterday'],
    ['account', '1234'],
    ['region', 'US East'],
    ['id', ''],
  ])('rejects an envelope whose %s is %j', (field, value) => {
    expect(
      EventEnvelopeSchema.safeParse({ ...fixture('ec2-instance-state-change'), [field]: value }).success,
    ).toBe(false);
  });
});

describe('detail schemas accept every fixture', () => {
  const cases: [string, z.ZodType][] = [
    ['ec2-instance-state-change', Ec2StateChangeDetailSchema],
    ['autoscaling-instance-terminate', AutoScalingTerminateDetailSchema],
    ['ecs-task-state-change', EcsTaskStateChangeDetailSchema],
    ['batch-job-state-change', BatchJobStateChangeDetailSchema],
    ['lambda-cloudtrail-delete-function', LambdaCloudTrailDetailSchema],
    ['lambda-cloudtrail-create-function', LambdaCloudTrailDetailSchema],
    ['codebuild-build-state-change', CodeBuildStateChangeDetailSchema],
    ['guardduty-instance-credential-exfiltration', GuardDutyFindingDetailSchema],
    ['sundown-workload-ended', WorkloadEndedDetailSchema],
    ['sundown-credential-issued', CredentialRegistrationSchema],
  ];
  it.each(cases)('parses %s', (name, schema) => {
    const event = fixture(name);
    expect(EventEnvelopeSchema.safeParse(event).success).toBe(true);
    expect(schema.safeParse(event.detail).success).toBe(true);
  });

  it('rejects a Workload Ended detail with unknown members', () => {
    expect(WorkloadEndedDetailSchema.safeParse({ workloadId: 'x', force: true }).success).toBe(false);
  });
});

describe('CredentialRegistrationSchema', () => {
  it('accepts each kind', () => {
    expect(CredentialRegistrationSchema.parse(roleSession).kind).toBe('role-session');
    expect(
      CredentialRegistrationSchema.parse({
        kind: 'access-key',
        userName: 'ci-bot',
        accessKeyId: 'AKIAEXAMPLE123456789',
        workloadId: 'ci/job/7',
      }).kind,
    ).toBe('access-key');
    expect(
      CredentialRegistrationSchema.parse({
        kind: 'certificate',
        caArn,
        serial: 'E8:CB:D2:BE:DB:12',
        workloadId: 'arn:aws:ecs:us-east-1:123456789012:task/c/0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c',
        expiresAt: '2024-05-15T00:00:00Z',
      }).kind,
    ).toBe('certificate');
  });

  it.each([
    ['secretAccessKey', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['sessionToken', 'IQoJb3JpZ2luX2VjEXAMPLETOKEN'],
    ['privateKey', '-----BEGIN PRIVATE KEY-----'],
  ])('rejects a registration carrying %s without echoing the value', (key, secret) => {
    // Act
    const result = CredentialRegistrationSchema.safeParse({ ...roleSession, [key]: secret });
    // Assess
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain(secret);
    expect(findSecretLikeKeys({ ...roleSession, [key]: secret })).toEqual([key]);
  });

  it('finds secret-like keys nested in objects', () => {
    expect(findSecretLikeKeys({ credentials: { SecretAccessKey: 'x', SessionToken: 'y' }, ok: 1 })).toEqual([
      'credentials.SecretAccessKey',
      'credentials.SessionToken',
    ]);
  });

  it.each([
    ['roleArn', 'arn:aws:iam::123456789012:role/*'],
    ['roleArn', 'arn:aws:iam::123456789012:role/a"b'],
    ['roleArn', 'arn:aws:iam::123456789012:user/alice'],
    ['sessionName', 'x'],
    ['sessionName', 'has space'],
    ['accessKeyId', 'AKIAEXAMPLE123456789'],
    ['workloadId', 'job*'],
    ['issuedAt', 'now'],
  ])('rejects a role-session whose %s is %j', (field, value) => {
    expect(CredentialRegistrationSchema.safeParse({ ...roleSession, [field]: value }).success).toBe(false);
  });

  it('rejects an unknown kind and a malformed serial', () => {
    expect(CredentialRegistrationSchema.safeParse({ ...roleSession, kind: 'password' }).success).toBe(false);
    expect(
      CredentialRegistrationSchema.safeParse({
        kind: 'certificate',
        caArn,
        serial: 'zz:01',
        workloadId: 'w1',
      }).success,
    ).toBe(false);
  });

  it('accepts role ARNs with paths in every partition', () => {
    for (const arn of [
      'arn:aws:iam::123456789012:role/service-role/a.b@c',
      'arn:aws-cn:iam::123456789012:role/r',
      'arn:aws-us-gov:iam::123456789012:role/p/q/r',
    ]) {
      expect(RoleArnSchema.safeParse(arn).success).toBe(true);
    }
  });
});

describe('CredentialRecordSchema', () => {
  const record = {
    credentialId: credentialIdFor({
      kind: 'role-session',
      roleArn: roleSession.roleArn,
      sessionName: roleSession.sessionName,
      workloadId: roleSession.workloadId,
    }),
    kind: 'role-session',
    workloadId: 'ci/job/7',
    workloadKind: 'custom',
    status: 'active',
    issuedAt: '2024-05-14T17:55:00Z',
    expiresAt: '2024-05-14T18:55:00Z',
    issuer: 'broker',
    account: '123456789012',
    region: 'us-east-1',
    roleArn: roleSession.roleArn,
    roleName: 'deploy-role',
    roleId: 'AROAEXAMPLEROLEID1234',
    sessionName: 'ci-job-7',
    reusableSessionName: true,
    trigger: { eventId: 'e-1', source: 'sundown' },
    ttl: 1715800000,
  };

  it('parses a stored item and strips unlisted attributes', () => {
    // Act
    const parsed = CredentialRecordSchema.parse({ ...record, pk: 'CRED#x', secretAccessKey: 'nope' });
    // Assess
    expect(parsed).toEqual(record);
  });

  it('exports the status and kind lists', () => {
    expect(CREDENTIAL_STATUSES).toEqual(['active', 'revoking', 'revoked', 'failed', 'expired', 'skipped']);
    expect(CREDENTIAL_KINDS).toEqual(['role-session', 'access-key', 'certificate']);
  });

  it('rejects a role-session record without its role or a mismatched id prefix', () => {
    const { roleArn: _roleArn, ...withoutRole } = record;
    expect(CredentialRecordSchema.safeParse(withoutRole).success).toBe(false);
    expect(CredentialRecordSchema.safeParse({ ...record, kind: 'access-key' }).success).toBe(false);
  });

  it.each([
    ['status', 'deleted'],
    ['issuer', 'someone'],
    ['ttl', 1.5],
    ['credentialId', 'rs-XYZ'],
  ])('rejects a record whose %s is %j', (field, value) => {
    expect(CredentialRecordSchema.safeParse({ ...record, [field]: value }).success).toBe(false);
  });
});

describe('access keys with the user path', () => {
  const key = {
    kind: 'access-key',
    userName: 'bot',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    workloadId: 'ci/pipeline-9',
  };

  it('accepts a registration with or without the user path', () => {
    expect(CredentialRegistrationSchema.safeParse(key).success).toBe(true);
    expect(CredentialRegistrationSchema.parse({ ...key, userPath: '/ci/team-a/' })).toMatchObject({
      userPath: '/ci/team-a/',
    });
    expect(CredentialRegistrationSchema.parse({ ...key, userPath: '/' })).toMatchObject({ userPath: '/' });
  });

  it.each(['ci/', '/ci', '/ci//', '/c i/', '/ci/*/', `/${'a'.repeat(512)}/`])(
    'refuses the user path %j',
    (userPath) => {
      const parsed = CredentialRegistrationSchema.safeParse({ ...key, userPath });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['userPath']);
    },
  );

  it('keeps the user path in the record, and still reads records stored without it', () => {
    const record = {
      credentialId: credentialIdFor({ kind: 'access-key', userName: 'bot', accessKeyId: key.accessKeyId }),
      kind: 'access-key',
      workloadId: key.workloadId,
      workloadKind: 'custom',
      status: 'active',
      issuedAt: '2024-05-14T17:55:00Z',
      expiresAt: '2024-05-16T05:55:00Z',
      issuer: 'cli',
      account: '123456789012',
      region: 'us-east-1',
      userName: 'bot',
      accessKeyId: key.accessKeyId,
    };

    expect(CredentialRecordSchema.parse({ ...record, userPath: '/ci/' }).userPath).toBe('/ci/');
    expect(CredentialRecordSchema.parse(record)).toEqual(record);
  });
});
