/**
 * Access keys and Private CA certificates of a custom workload, end to end against the emulator:
 * registered with `Credential Issued` events, revoked when a `Workload Ended` event arrives.
 *
 * The deployment config does not list the test CA in `certificateAuthorityArns`: its ARN exists only
 * after the stack is deployed, and moto does not enforce IAM, so the revoker's permission to revoke on
 * it is not exercised here (test/unit/revoke-certificates.test.ts covers the access-denied path).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
let pca: ACMPCAClient;

beforeAll(async () => {
  sd = await deploySundown();
  pca = new ACMPCAClient({ endpoint: sd.target.endpoint, region: sd.target.region });
});
afterAll(async () => {
  await sd?.stop();
});

function busEvent(detailType: 'Credential Issued' | 'Workload Ended', detail: object): PutEventsRequestEntry {
  return {
    EventBusName: sd.outputs.EventBusName,
    Source: 'sundown',
    DetailType: detailType,
    Detail: JSON.stringify(detail),
  };
}

async function createUser(userName: string, optedIn: boolean): Promise<[string, string]> {
  await sd.iam.send(new CreateUserCommand({ UserName: userName }));
  if (optedIn) {
    await sd.iam.send(
      new TagUserCommand({ UserName: userName, Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }] }),
    );
  }
  const keys: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await sd.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    keys.push(res.AccessKey?.AccessKeyId as string); // the secret is dropped right here
  }
  return keys as [string, string];
}

async function keyStatuses(userName: string): Promise<Record<string, string>> {
  const res = await sd.iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((res.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));
}

async function userPolicy(userName: string) {
  const res = await sd.iam.send(
    new GetUserPolicyCommand({ UserName: userName, PolicyName: 'SundownRevokedSessions' }),
  );
  return JSON.parse(decodeURIComponent(res.PolicyDocument ?? '')) as {
    Statement: { Effect: string; Action: string; Resource: string; Condition: Record<string, unknown> }[];
  };
}

describe('access keys', () => {
  it('deactivates only the ended workload key and denies the user sessions issued before', async () => {
    // Prepare: two keys on one opted-in user, only the first recorded for the workload.
    const [ended, live] = await createUser('ci-bot', true);
    const workloadId = 'ci/pipeline-7/job-1';
    await sd.putEvents([
      busEvent('Credential Issued', {
        kind: 'access-key',
        userName: 'ci-bot',
        accessKeyId: ended,
        workloadId,
      }),
    ]);
    await sd.drain();
    const startedAt = Date.now();

    // Act
    await sd.putEvents([busEvent('Workload Ended', { workloadId, reason: 'job finished' })]);
    await sd.drain();

    // Assess
    expect(await keyStatuses('ci-bot')).toEqual({ [ended]: 'Inactive', [live]: 'Active' });
    const policy = await userPolicy('ci-bot');
    expect(policy.Statement).toHaveLength(1);
    const [statement] = policy.Statement;
    expect(statement).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*' });
    const conditions = statement?.Condition ?? {};
    expect(Object.keys(conditions)).toEqual(['DateLessThan']);
    const bound =
      (conditions.DateLessThan as Record<string, string> | undefined)?.['aws:TokenIssueTime'] ?? '';
    expect(Date.parse(bound)).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000);
    const [credential] = await sd.registry.forWorkload(workloadId);
    expect(credential?.status).toBe('revoked');
    const revoked = await sd.audit.query({ workloadId, type: 'revoked' });
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.details).toMatchObject({
      accessKeyId: ended,
      userName: 'ci-bot',
      keyState: 'deactivated',
    });
    expect(revoked[0]?.details?.timeToRevokeMs).toEqual(expect.any(Number));
  });

  it('counts a key deleted before the end as revoked', async () => {
    const [gone, other] = await createUser('deploy-bot', true);
    const workloadId = 'deploys/42';
    await sd.putEvents([
      busEvent('Credential Issued', {
        kind: 'access-key',
        userName: 'deploy-bot',
        accessKeyId: gone,
        workloadId,
      }),
    ]);
    await sd.drain();
    await sd.iam.send(new DeleteAccessKeyCommand({ UserName: 'deploy-bot', AccessKeyId: gone }));

    await sd.putEvents([busEvent('Workload Ended', { workloadId })]);
    await sd.drain();

    expect(await keyStatuses('deploy-bot')).toEqual({ [other]: 'Active' });
    expect((await sd.registry.forWorkload(workloadId)).map((c) => c.status)).toEqual(['revoked']);
    const [revoked] = await sd.audit.query({ workloadId, type: 'revoked' });
    expect(revoked?.details).toMatchObject({ keyState: 'not-found' });
  });

  it('leaves a user that is not opted in untouched', async () => {
    const [key, other] = await createUser('legacy-bot', false);
    const workloadId = 'legacy/1';
    await sd.putEvents([
      busEvent('Credential Issued', {
        kind: 'access-key',
        userName: 'legacy-bot',
        accessKeyId: key,
        workloadId,
      }),
    ]);
    await sd.drain();

    await sd.putEvents([busEvent('Workload Ended', { workloadId })]);
    await sd.drain();

    expect(await keyStatuses('legacy-bot')).toEqual({ [key]: 'Active', [other]: 'Active' });
    await expect(userPolicy('legacy-bot')).rejects.toThrow();
    expect((await sd.registry.forWorkload(workloadId)).map((c) => c.status)).toEqual(['skipped']);
  });
});

/** A root CA, ACTIVE, created through the API (CloudFormation has no ACM PCA in moto). */
async function createActiveCa(): Promise<string> {
  const created = await pca.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: 'ROOT',
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'RSA_2048',
        SigningAlgorithm: 'SHA256WITHRSA',
        Subject: { CommonName: 'sundown-test-root' },
      },
    }),
  );
  const caArn = created.CertificateAuthorityArn as string;
  const csr = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }));
  const rootArn = (
    await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: caArn,
        Csr: Buffer.from(csr.Csr as string),
        SigningAlgorithm: 'SHA256WITHRSA',
        TemplateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
        Validity: { Type: 'DAYS', Value: 365 },
      }),
    )
  ).CertificateArn;
  const root = await pca.send(
    new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: rootArn }),
  );
  await pca.send(
    new ImportCertificateAuthorityCertificateCommand({
      CertificateAuthorityArn: caArn,
      Certificate: Buffer.from(root.Certificate as string),
    }),
  );
  const described = await pca.send(
    new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }),
  );
  expect(described.CertificateAuthority?.Status).toBe('ACTIVE');
  return caArn;
}

/**
 * Issues an end-entity certificate from a CSR made by openssl (Node has no CSR builder; the private
 * key goes to /dev/null). moto pairs a serial's hex digits from the left without padding, so an
 * odd-length serial would never match the padded form real AWS and Sundown use: such serials are
 * issued again (about one in eight).
 */
async function issueCertificate(caArn: string): Promise<{ certificateArn: string; serial: string }> {
  const csr = execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=workload'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  for (let attempt = 0; attempt < 20; attempt++) {
    const issued = await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: caArn,
        Csr: csr,
        SigningAlgorithm: 'SHA256WITHRSA',
        Validity: { Type: 'DAYS', Value: 1 },
      }),
    );
    const certificateArn = issued.CertificateArn as string;
    const got = await pca.send(
      new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certificateArn }),
    );
    const serial = BigInt(`0x${new X509Certificate(got.Certificate as string).serialNumber}`).toString(16);
    if (serial.length % 2 === 0) return { certificateArn, serial };
  }
  throw new Error('the emulator issued no even-length serial in 20 attempts');
}

/** moto's evidence of revocation: GetCertificate fails with RequestInProgressException naming the reason. */
async function revocationOf(caArn: string, certificateArn: string): Promise<string | undefined> {
  try {
    await pca.send(
      new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certificateArn }),
    );
    return undefined;
  } catch (err) {
    expect((err as Error).name).toBe('RequestInProgressException');
    return (err as Error).message;
  }
}

describe('certificates', () => {
  it('revokes a certificate once although the end event arrives three times', async () => {
    // Prepare
    const caArn = await createActiveCa();
    const { certificateArn, serial } = await issueCertificate(caArn);
    const workloadId = 'ci/pipeline-8/job-3';
    await sd.putEvents([busEvent('Credential Issued', { kind: 'certificate', caArn, serial, workloadId })]);
    await sd.drain();
    expect(await revocationOf(caArn, certificateArn)).toBeUndefined();

    // Act
    const end = busEvent('Workload Ended', { workloadId, reason: 'job finished' });
    await sd.putEvents([end, end, end]);
    await sd.drain();

    // Assess
    expect(await revocationOf(caArn, certificateArn)).toMatch(/revoked with reason: CESSATION_OF_OPERATION/);
    expect((await sd.registry.forWorkload(workloadId)).map((c) => c.status)).toEqual(['revoked']);
    const audit = await sd.audit.query({ workloadId });
    expect(audit.filter((r) => r.type === 'revocation-requested')).toHaveLength(1);
    const revoked = audit.filter((r) => r.type === 'revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.details).toMatchObject({
      caArn,
      serial,
      revocationReason: 'CESSATION_OF_OPERATION',
      apiResult: 'revoked',
    });
    expect(String(revoked[0]?.details?.propagation)).toMatch(/CRL .*30 minutes.*OCSP.*60 minutes/);
  });

  it('revokes with KEY_COMPROMISE when the workload was compromised', async () => {
    const caArn = await createActiveCa();
    const { certificateArn, serial } = await issueCertificate(caArn);
    const workloadId = 'ci/pipeline-9/job-1';
    await sd.putEvents([busEvent('Credential Issued', { kind: 'certificate', caArn, serial, workloadId })]);
    await sd.drain();

    await sd.putEvents([busEvent('Workload Ended', { workloadId, reason: 'key leaked', compromised: true })]);
    await sd.drain();

    expect(await revocationOf(caArn, certificateArn)).toMatch(/revoked with reason: KEY_COMPROMISE/);
    const [revoked] = await sd.audit.query({ workloadId, type: 'revoked' });
    expect(revoked?.details).toMatchObject({ revocationReason: 'KEY_COMPROMISE' });
  });
});
