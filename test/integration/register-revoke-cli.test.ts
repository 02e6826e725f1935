/**
 * The registration and manual-revocation commands through the real CLI, against the emulator:
 * `sundown register session`, `sundown register certificate`, `sundown register access-key --user <ARN>`
 * and `sundown revoke --credential`, which must revoke exactly the named credential and nothing else of
 * the same workload.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';
import { localWorkdir, runCli } from './cli.ts';
import { deniedOn } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';

let sd: Sundown;
let cwd: string;
let pca: ACMPCAClient;

beforeAll(async () => {
  sd = await deploySundown();
  cwd = localWorkdir(sd);
  pca = new ACMPCAClient({ endpoint: sd.target.endpoint, region: sd.target.region });
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

/** Runs the CLI, expecting success, and parses its --json output. */
async function cliJson<T>(args: string[]): Promise<T> {
  const res = await runCli([...args, '--json', '--local'], cwd);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as T;
}

type Registered = { created: boolean; credential: CredentialRecord };

/** A root CA, ACTIVE, created through the API (CloudFormation has no ACM PCA in moto). */
async function createActiveCa(): Promise<string> {
  const created = await pca.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: 'ROOT',
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'RSA_2048',
        SigningAlgorithm: 'SHA256WITHRSA',
        Subject: { CommonName: 'sundown-cli-test-root' },
      },
    }),
  );
  const caArn = created.CertificateAuthorityArn as string;
  const csr = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }));
  const root = await pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: caArn,
      Csr: Buffer.from(csr.Csr as string),
      SigningAlgorithm: 'SHA256WITHRSA',
      TemplateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
      Validity: { Type: 'DAYS', Value: 365 },
    }),
  );
  const rootPem = await pca.send(
    new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: root.CertificateArn }),
  );
  await pca.send(
    new ImportCertificateAuthorityCertificateCommand({
      CertificateAuthorityArn: caArn,
      Certificate: Buffer.from(rootPem.Certificate as string),
    }),
  );
  return caArn;
}

/**
 * An end-entity certificate and its serial in openssl's colon form (`0A:1B:...`), as an operator would
 * copy it. moto pairs a serial's hex digits from the left without padding, so an odd-length serial
 * would never show as revoked there: such serials are issued again.
 */
async function issueCertificate(caArn: string): Promise<{ certificateArn: string; colonSerial: string }> {
  const csr = execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=job-42'],
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
    const hex = BigInt(`0x${new X509Certificate(got.Certificate as string).serialNumber}`)
      .toString(16)
      .toUpperCase();
    if (hex.length % 2 === 0) return { certificateArn, colonSerial: (hex.match(/../g) ?? []).join(':') };
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

describe('sundown register session, then sundown revoke --credential', () => {
  it('records both sessions of a workload, then revokes only the one named', async () => {
    // Prepare
    const roleArn = await optedInRole('cli-jobs');
    const register = (sessionName: string, extra: string[] = []) =>
      cliJson<Registered>([
        'register',
        'session',
        '--role',
        roleArn,
        '--session-name',
        sessionName,
        '--workload',
        'ci/job-41',
        ...extra,
      ]);
    const first = await register('job-41-build', ['--access-key-id', 'ASIAEXAMPLE000000041']);
    const second = await register('job-41-deploy', ['--purpose', 'deploy step']);
    const again = await register('job-41-build');

    // Assess the registration
    expect(first.created).toBe(true);
    expect(first.credential).toMatchObject({
      kind: 'role-session',
      roleArn,
      roleName: 'cli-jobs',
      sessionName: 'job-41-build',
      accessKeyId: 'ASIAEXAMPLE000000041',
      workloadId: 'ci/job-41',
      issuer: 'cli',
      status: 'active',
    });
    expect(second.credential).toMatchObject({ sessionName: 'job-41-deploy', purpose: 'deploy step' });
    expect(again).toEqual({
      created: false,
      credential: expect.objectContaining({ credentialId: first.credential.credentialId }),
    });
    expect((await sd.registry.forWorkload('ci/job-41')).map((c) => c.status)).toEqual(['active', 'active']);
    expect(await sd.audit.query({ workloadId: 'ci/job-41', type: 'issued' })).toHaveLength(2);

    // Act
    const sent = await cliJson<{ eventId: string; workloadId: string; credentialIds: string[] }>([
      'revoke',
      '--credential',
      first.credential.credentialId,
      '--reason',
      'token leaked in a build log',
    ]);
    await sd.drain();

    // Assess the revocation: only the named session is denied and revoked.
    expect(sent).toMatchObject({ workloadId: 'ci/job-41', credentialIds: [first.credential.credentialId] });
    const after = new Map((await sd.registry.forWorkload('ci/job-41')).map((c) => [c.credentialId, c]));
    expect(after.get(first.credential.credentialId)?.status).toBe('revoked');
    expect(after.get(second.credential.credentialId)?.status).toBe('active');
    expect(await deniedOn(sd.iam, 'cli-jobs')).toEqual(['job-41-build']);
    const [revoked] = await sd.audit.query({ workloadId: 'ci/job-41', type: 'revoked' });
    expect(revoked?.credentialId).toBe(first.credential.credentialId);
    const [requested] = await sd.audit.query({ workloadId: 'ci/job-41', type: 'revocation-requested' });
    expect(requested?.reason).toBe('token leaked in a build log');
  });

  it('refuses an unknown or malformed credential ID with a clear error', async () => {
    const unknown = await runCli(['revoke', '--credential', 'rs-000000000000000000000000', '--local'], cwd);
    const malformed = await runCli(['revoke', '--credential', 'job-41', '--local'], cwd);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^sundown: no credential rs-000000000000000000000000 is recorded/);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^sundown: --credential must be a Sundown credential ID/);
  });
});

describe('sundown register certificate, then sundown revoke --credential', () => {
  it('records the certificate under its normalized serial and revokes it on Private CA', async () => {
    // Prepare
    const caArn = await createActiveCa();
    const { certificateArn, colonSerial } = await issueCertificate(caArn);

    // Act
    const registered = await cliJson<Registered>([
      'register',
      'certificate',
      '--ca',
      caArn,
      '--serial',
      colonSerial,
      '--workload',
      'ci/job-42',
    ]);
    await cliJson(['revoke', '--credential', registered.credential.credentialId]);
    await sd.drain();

    // Assess
    expect(registered).toMatchObject({
      created: true,
      credential: {
        kind: 'certificate',
        caArn,
        serial: colonSerial.replaceAll(':', '').toLowerCase(),
        workloadId: 'ci/job-42',
        issuer: 'cli',
      },
    });
    expect(await revocationOf(caArn, certificateArn)).toMatch(/revoked with reason: CESSATION_OF_OPERATION/);
    expect((await sd.registry.get(registered.credential.credentialId))?.status).toBe('revoked');
  });
});

describe('sundown register access-key --user <ARN>', () => {
  it("keeps the user's IAM path, and refuses a user of another account", async () => {
    const registered = await cliJson<Registered>([
      'register',
      'access-key',
      '--user',
      `arn:aws:iam::${sd.target.accountId}:user/ci/deployer`,
      '--key',
      'AKIAEXAMPLE000000043',
      '--workload',
      'ci/job-43',
    ]);
    const foreign = await runCli(
      [
        'register',
        'access-key',
        '--user',
        'arn:aws:iam::210987654321:user/ci/deployer',
        '--key',
        'AKIAEXAMPLE000000044',
        '--workload',
        'ci/job-44',
        '--local',
      ],
      cwd,
    );

    expect(registered.credential).toMatchObject({ userName: 'deployer', userPath: '/ci/' });
    expect((await sd.registry.get(registered.credential.credentialId))?.userPath).toBe('/ci/');
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^sundown: --user .* belongs to account 210987654321/);
    expect(await sd.registry.forWorkload('ci/job-44')).toEqual([]);
  });
});
