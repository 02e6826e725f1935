import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIAL_ID_PATTERN,
  credentialIdFor,
  customSessionName,
  InvalidWorkloadIdError,
  isWorkloadIdSyntax,
  normalizeWorkloadId,
  SESSION_NAME_PATTERN,
  sessionNameForWorkload,
  UNKNOWN_SESSION_NAME,
} from '../../lambdas/shared/domain/workload-id.ts';

const ctx = { account: '123456789012', region: 'us-east-1' };
const CUSTOM_CHAR = /^[A-Za-z0-9+=,.@:/_-]$/;
const customId = fc.stringMatching(/^[A-Za-z0-9+=,.@:/_-]{1,256}$/);

describe('normalizeWorkloadId with ARNs', () => {
  it('keeps an EC2 instance ARN and uses the instance id as session name', () => {
    // Prepare
    const arn = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abcd1234ef567890';
    // Act
    const workload = normalizeWorkloadId(arn, ctx);
    // Assess
    expect(workload).toEqual({
      id: arn,
      kind: 'ec2',
      sessionName: 'i-0abcd1234ef567890',
      reusableSessionName: false,
    });
  });

  it('expands a bare instance id with account, region and the partition the region implies', () => {
    expect(normalizeWorkloadId('i-0abcd1234ef567890', ctx).id).toBe(
      'arn:aws:ec2:us-east-1:123456789012:instance/i-0abcd1234ef567890',
    );
    expect(normalizeWorkloadId('i-0abcd123', { account: '123456789012', region: 'cn-north-1' }).id).toBe(
      'arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0abcd123',
    );
    expect(
      normalizeWorkloadId('i-0abcd123', {
        account: '123456789012',
        region: 'us-gov-west-1',
        partition: 'aws-us-gov',
      }).id,
    ).toBe('arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0abcd123');
  });

  it('rejects a bare instance id without an account', () => {
    expect(() => normalizeWorkloadId('i-0abcd1234ef567890', { region: 'us-east-1' })).toThrow(
      /needs a 12-digit account/,
    );
  });

  it('accepts ECS task ARNs in the new and the old format, session name = task id', () => {
    // Act
    const modern = normalizeWorkloadId(
      'arn:aws:ecs:us-east-1:123456789012:task/payments/8f3c5d2e1a4b4c6d9e7f0a1b2c3d4e5f',
    );
    const old = normalizeWorkloadId(
      'arn:aws:ecs:us-east-1:123456789012:task/4a5b6c7d-1111-2222-3333-444455556666',
    );
    // Assess
    expect(modern).toMatchObject({
      kind: 'ecs',
      sessionName: '8f3c5d2e1a4b4c6d9e7f0a1b2c3d4e5f',
      reusableSessionName: false,
    });
    expect(old).toMatchObject({
      id: 'arn:aws:ecs:us-east-1:123456789012:task/4a5b6c7d-1111-2222-3333-444455556666',
      kind: 'ecs',
      sessionName: '4a5b6c7d-1111-2222-3333-444455556666',
    });
  });

  it.each([
    'arn:aws:lambda:us-east-1:123456789012:function:resize',
    'arn:aws:lambda:us-east-1:123456789012:function:resize:$LATEST',
    'arn:aws:lambda:us-east-1:123456789012:function:resize:7',
    'arn:aws:lambda:us-east-1:123456789012:function:resize:prod',
  ])('strips the Lambda qualifier from %s', (arn) => {
    expect(normalizeWorkloadId(arn)).toEqual({
      id: 'arn:aws:lambda:us-east-1:123456789012:function:resize',
      kind: 'lambda',
      sessionName: 'resize',
      reusableSessionName: true,
    });
  });

  it('recognises Batch jobs, whose session name is unknown until the ECS task is known', () => {
    // Prepare
    const job = normalizeWorkloadId(
      'arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8',
    );
    // Act
    const withTask = sessionNameForWorkload(job, {
      batchTaskArn: 'arn:aws:ecs:us-east-1:123456789012:task/AWSBatch-ce/0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c',
    });
    // Assess
    expect(job).toMatchObject({
      kind: 'batch',
      sessionName: UNKNOWN_SESSION_NAME,
      reusableSessionName: false,
    });
    expect(withTask).toBe('0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c');
  });

  it('derives AWSCodeBuild-<uuid> for a CodeBuild build', () => {
    const build = normalizeWorkloadId(
      'arn:aws-us-gov:codebuild:us-gov-west-1:123456789012:build/site-deploy:0f5d2c3a-4b1e-4f6a-9d8c-7b6a5e4d3c2b',
    );
    expect(build).toMatchObject({
      kind: 'codebuild',
      sessionName: 'AWSCodeBuild-0f5d2c3a-4b1e-4f6a-9d8c-7b6a5e4d3c2b',
      reusableSessionName: false,
    });
  });

  it.each([
    'arn:aws:ec2:us-east-1:123456789012:instance/i-XYZ',
    'arn:aws:ec2:us-east-1:12345:instance/i-0abcd123',
    'arn:aws-iso:ec2:us-iso-east-1:123456789012:instance/i-0abcd123',
    'arn:aws:lambda:us-east-1:123456789012:function:bad name',
    'arn:aws:codebuild:us-east-1:123456789012:build/site:not-a-uuid',
  ])('rejects the malformed workload ARN %s', (arn) => {
    expect(() => normalizeWorkloadId(arn, ctx)).toThrow(InvalidWorkloadIdError);
  });

  it('treats ARNs of other resource types as custom ids', () => {
    expect(normalizeWorkloadId('arn:aws:states:us-east-1:123456789012:execution:sm:run-1').kind).toBe(
      'custom',
    );
  });
});

describe('normalizeWorkloadId with custom ids', () => {
  it('rejects any string with a character outside the charset', () => {
    const badChar = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 1 })
      .filter((c) => !CUSTOM_CHAR.test(c));
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), badChar, fc.string({ maxLength: 40 }), (a, bad, b) => {
        expect(() => normalizeWorkloadId(a + bad + b, ctx)).toThrow(InvalidWorkloadIdError);
      }),
    );
  });

  it('rejects empty and over-long ids', () => {
    expect(() => normalizeWorkloadId('', ctx)).toThrow(InvalidWorkloadIdError);
    expect(() => normalizeWorkloadId('a'.repeat(257), ctx)).toThrow(InvalidWorkloadIdError);
  });

  it('fails with a message naming the truncated value and the charset', () => {
    // Act
    let error: unknown;
    try {
      normalizeWorkloadId(`job*${'x'.repeat(200)}`, ctx);
    } catch (caught) {
      error = caught;
    }
    // Assess
    expect(error).toBeInstanceOf(InvalidWorkloadIdError);
    const message = (error as Error).message;
    expect(message).toMatch(/^workload id "job\*x+…" is invalid/);
    expect(message).toContain('[A-Za-z0-9+=,.@:/_-]');
    expect(message.length).toBeLessThan(400);
    expect((error as InvalidWorkloadIdError).value.length).toBeLessThanOrEqual(81);
  });

  it('yields a valid, deterministic session name for every valid custom id', () => {
    fc.assert(
      fc.property(customId, (id) => {
        const workload = normalizeWorkloadId(id, ctx);
        fc.pre(workload.kind === 'custom');
        expect(workload.sessionName).toMatch(SESSION_NAME_PATTERN);
        expect(workload.reusableSessionName).toBe(true);
        expect(normalizeWorkloadId(id, ctx).sessionName).toBe(workload.sessionName);
      }),
    );
  });

  it('gives distinct ids distinct session names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(customId, { minLength: 2, maxLength: 50 }), (ids) => {
        const names = ids.map((id) => customSessionName(id));
        expect(new Set(names).size).toBe(ids.length);
      }),
    );
  });

  it('uses a valid short id verbatim and hashes the rest with the reserved sd- prefix', () => {
    expect(customSessionName('ci-job-7')).toBe('ci-job-7');
    expect(customSessionName('ci/job/7')).toMatch(/^sd-[0-9a-f]{61}$/);
    expect(customSessionName('x'.repeat(65))).toMatch(/^sd-[0-9a-f]{61}$/);
    expect(customSessionName('sd-claimed')).toMatch(/^sd-[0-9a-f]{61}$/);
    expect(customSessionName('a')).toMatch(/^sd-[0-9a-f]{61}$/);
  });

  it('accepts workload id syntax without a context', () => {
    expect(isWorkloadIdSyntax('i-0abcd1234ef567890')).toBe(true);
    expect(isWorkloadIdSyntax('pipeline/42')).toBe(true);
    expect(isWorkloadIdSyntax('pipe"line')).toBe(false);
  });
});

describe('credentialIdFor', () => {
  const roleArn = 'arn:aws:iam::123456789012:role/ci/deploy-role';

  it('is stable for the same identifiers and matches the pattern', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (sessionName, workloadId) => {
        const input = { kind: 'role-session' as const, roleArn, sessionName, workloadId };
        const id = credentialIdFor(input);
        expect(id).toMatch(CREDENTIAL_ID_PATTERN);
        expect(id.startsWith('rs-')).toBe(true);
        expect(credentialIdFor({ ...input })).toBe(id);
      }),
    );
  });

  it('differs when any identifier differs, including across field boundaries', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string(), fc.string()),
        fc.tuple(fc.string(), fc.string()),
        ([s1, w1], [s2, w2]) => {
          fc.pre(s1 !== s2 || w1 !== w2);
          const a = credentialIdFor({ kind: 'role-session', roleArn, sessionName: s1, workloadId: w1 });
          const b = credentialIdFor({ kind: 'role-session', roleArn, sessionName: s2, workloadId: w2 });
          expect(a).not.toBe(b);
        },
      ),
    );
  });

  it('uses one shape per kind and normalizes certificate serials', () => {
    // Prepare
    const caArn =
      'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11223344-5566-7788-99aa-bbccddeeff00';
    // Act
    const ak = credentialIdFor({
      kind: 'access-key',
      userName: 'ci-bot',
      accessKeyId: 'AKIAEXAMPLE123456789',
    });
    const ct1 = credentialIdFor({ kind: 'certificate', caArn, serial: 'E8:CB:D2:BE' });
    const ct2 = credentialIdFor({ kind: 'certificate', caArn, serial: 'e8cbd2be' });
    // Assess
    expect(ak).toMatch(/^ak-[0-9a-f]{24}$/);
    expect(ct1).toMatch(/^ct-[0-9a-f]{24}$/);
    expect(ct1).toBe(ct2);
  });
});
