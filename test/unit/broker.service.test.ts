/**
 * The broker service with fake AWS clients and an in-memory registry. A strict semantics adapter stands in
 * for ACM Private CA: unlike moto (which ignores the signing algorithm and puts a random ID, not the
 * serial, at the end of certificate ARNs), it refuses a signing algorithm whose family does not match the
 * CA's key, as AWS documents, and hands out real certificates made by openssl with a known serial.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  type ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  GetCertificateCommand,
  InvalidArgsException,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import {
  type BrokerDeps,
  CaSigningAlgorithms,
  certificateNotAfter,
  certificateSerial,
  issueCertificate,
  issueSession,
  signingAlgorithmFor,
} from '../../lambdas/broker/index.ts';
import { OptInChecker } from '../../lambdas/opt-in/index.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';

const ACCOUNT = '123456789012';
const CA_ARN = `arn:aws:acm-pca:us-east-1:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`;
const NOW = new Date('2024-05-01T12:00:00.000Z');

/** A self-signed P-256 certificate with the given serial (openssl; the private key is discarded). */
function pemWithSerial(serialHex: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sundown-broker-'));
  const out = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      '/CN=workload',
      '-days',
      '2',
      '-set_serial',
      `0x${serialHex}`,
      '-out',
      out,
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(out, 'utf8');
}

const SIGNATURE_FAMILY: Record<string, RegExp> = {
  RSA: /WITHRSA$/,
  EC: /WITHECDSA$/,
  SM2: /^SM3WITHSM2$/,
  ML: /^ML_DSA_/,
};

/**
 * Strict ACM PCA semantics adapter: a CA with the given key algorithm; IssueCertificate refuses a signing
 * algorithm of another family (AWS: "the specified signing algorithm family must match the algorithm
 * family of the CA's private key"); the ARN ends in a random ID as in moto.
 */
function strictPca(keyAlgorithm: string, pem: string) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      calls.push({ name: command.constructor.name, input: command.input });
      if (command instanceof DescribeCertificateAuthorityCommand) {
        return {
          CertificateAuthority: {
            Arn: CA_ARN,
            Status: 'ACTIVE',
            CertificateAuthorityConfiguration: { KeyAlgorithm: keyAlgorithm, SigningAlgorithm: 'x' },
          },
        };
      }
      if (command instanceof IssueCertificateCommand) {
        const family = keyAlgorithm.split('_')[0] as string;
        const requested = String(command.input.SigningAlgorithm);
        if (!SIGNATURE_FAMILY[family]?.test(requested)) {
          throw new InvalidArgsException({
            $metadata: {},
            message: `signing algorithm ${requested} does not match the CA key algorithm ${keyAlgorithm}`,
          });
        }
        return { CertificateArn: `${CA_ARN}/certificate/6f1e0b2c9a8d4e7f8a9b0c1d2e3f4a5b` };
      }
      if (command instanceof GetCertificateCommand) return { Certificate: pem, CertificateChain: pem };
      throw new Error(`unexpected command ${command.constructor.name}`);
    },
  } as unknown as ACMPCAClient;
  return { client, calls };
}

function brokerDeps(overrides: Partial<BrokerDeps> = {}) {
  const records: CredentialRecord[] = [];
  const deps = {
    registry: {
      record: async (record: CredentialRecord) => {
        records.push(record);
        return { created: true, record };
      },
    },
    audit: { append: async () => ({}) },
    config: {
      SUNDOWN_MAX_SESSION_HOURS: {
        ec2: 6,
        ecs: 6,
        batch: 6,
        codebuild: 8,
        lambda: 12,
        custom: 12,
        accessKeySessions: 36,
      },
      SUNDOWN_RETENTION_DAYS: 90,
    },
    actor: { type: 'function', name: 'broker' },
    account: ACCOUNT,
    region: 'us-east-1',
    now: () => NOW,
    maxDurationSeconds: 3600,
    certificateAuthorityArns: [CA_ARN],
    ...overrides,
  } as unknown as BrokerDeps;
  return { deps, records };
}

const REQUESTER = {
  caller: {
    principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run-9`,
    accountId: ACCOUNT,
    callerId: 'AROAEXAMPLE000000009:ci-run-9',
    sourceIp: '203.0.113.7',
    via: 'function-url' as const,
  },
  reason: 'nightly certificate rotation',
};

const CSR = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(120)}\n-----END CERTIFICATE REQUEST-----`;

describe('signingAlgorithmFor', () => {
  it.each([
    ['RSA_2048', 'SHA256WITHRSA'],
    ['RSA_3072', 'SHA256WITHRSA'],
    ['RSA_4096', 'SHA256WITHRSA'],
    ['EC_prime256v1', 'SHA256WITHECDSA'],
    ['EC_secp384r1', 'SHA384WITHECDSA'],
    ['EC_secp521r1', 'SHA512WITHECDSA'],
    ['SM2', 'SM3WITHSM2'],
    ['ML_DSA_44', 'ML_DSA_44'],
    ['ML_DSA_65', 'ML_DSA_65'],
    ['ML_DSA_87', 'ML_DSA_87'],
  ])('signs for a %s CA with %s', (keyAlgorithm, expected) => {
    expect(signingAlgorithmFor(keyAlgorithm)).toBe(expected);
  });

  it.each([undefined, 'ED25519', 'toString', '__proto__'])('refuses the key algorithm %s', (keyAlgorithm) => {
    expect(() => signingAlgorithmFor(keyAlgorithm)).toThrow(
      /CA key algorithm .* is not supported: expected RSA_\*/,
    );
  });
});

describe('certificateSerial', () => {
  it('reads the serial from the certificate as lowercase hex without leading zero bytes', () => {
    expect(certificateSerial(pemWithSerial('0a1b2c3d4e5f'))).toBe('0a1b2c3d4e5f');
    expect(certificateSerial(pemWithSerial('7fffffffffffffffffffffffffffffffffffffff'))).toBe(
      '7fffffffffffffffffffffffffffffffffffffff',
    );
    expect(certificateSerial(pemWithSerial('abc'))).toBe('0abc');
  });

  it('reads when the certificate stops being valid', () => {
    const pem = pemWithSerial('01');
    const notAfter = Date.parse(certificateNotAfter(pem));
    expect(notAfter - Date.now()).toBeGreaterThan(86_400_000);
    expect(notAfter - Date.now()).toBeLessThanOrEqual(2 * 86_400_000);
  });
});

describe('CaSigningAlgorithms', () => {
  it('describes each CA once and keeps the answer', async () => {
    // Prepare
    const pca = strictPca('EC_secp384r1', '');
    const source = new CaSigningAlgorithms(pca.client);

    // Act
    const answers = [await source.forCa(CA_ARN), await source.forCa(CA_ARN)];

    // Assess
    expect(answers).toEqual(['SHA384WITHECDSA', 'SHA384WITHECDSA']);
    expect(pca.calls.map((c) => c.name)).toEqual(['DescribeCertificateAuthorityCommand']);
  });

  it('does not keep a failed lookup', async () => {
    let attempts = 0;
    const client = {
      send: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('ThrottlingException');
        return { CertificateAuthority: { CertificateAuthorityConfiguration: { KeyAlgorithm: 'RSA_2048' } } };
      },
    } as unknown as ACMPCAClient;
    const source = new CaSigningAlgorithms(client);

    await expect(source.forCa(CA_ARN)).rejects.toThrow(/Throttling/);
    expect(await source.forCa(CA_ARN)).toBe('SHA256WITHRSA');
  });
});

describe('issueCertificate', () => {
  it.each([
    ['EC_prime256v1', 'SHA256WITHECDSA'],
    ['RSA_2048', 'SHA256WITHRSA'],
  ])(
    'asks a %s CA for %s and records the serial read from the certificate',
    async (keyAlgorithm, algorithm) => {
      // Prepare: the certificate ARN ends in an ID that is not the serial (as moto's do).
      const pem = pemWithSerial('5e7d9c0b1a2f3e4d');
      const pca = strictPca(keyAlgorithm, pem);
      const { deps, records } = brokerDeps({ acmPca: pca.client });

      // Act
      const response = await issueCertificate(
        deps,
        {
          action: 'issue-certificate',
          caArn: CA_ARN,
          workloadId: 'ci/job-7',
          csr: CSR,
          days: 2,
          reason: REQUESTER.reason,
        },
        REQUESTER,
      );

      // Assess
      expect(response).toMatchObject({
        ok: true,
        certificate: { serial: '5e7d9c0b1a2f3e4d', certificate: pem },
      });
      const issue = pca.calls.find((c) => c.name === 'IssueCertificateCommand');
      expect(issue?.input.SigningAlgorithm).toBe(algorithm);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        kind: 'certificate',
        caArn: CA_ARN,
        serial: '5e7d9c0b1a2f3e4d',
        expiresAt: certificateNotAfter(pem),
        callerArn: REQUESTER.caller.principalArn,
        callerAccount: ACCOUNT,
        callerId: REQUESTER.caller.callerId,
        sourceIp: '203.0.113.7',
        requestReason: 'nightly certificate rotation',
      });
    },
  );

  it('fails before issuing anything when the CA key algorithm is unknown, recording nothing', async () => {
    // Prepare: the CA's key algorithm is one Sundown does not know how to sign for.
    const pca = strictPca('ED25519', pemWithSerial('01'));
    const { deps, records } = brokerDeps({ acmPca: pca.client });

    // Act / Assess
    await expect(
      issueCertificate(
        deps,
        {
          action: 'issue-certificate',
          caArn: CA_ARN,
          workloadId: 'w',
          csr: CSR,
          days: 1,
          reason: REQUESTER.reason,
        },
        REQUESTER,
      ),
    ).rejects.toThrow(/CA key algorithm "ED25519" is not supported/);
    expect(pca.calls.map((c) => c.name)).toEqual(['DescribeCertificateAuthorityCommand']);
    expect(records).toEqual([]);
  });
});

describe('issueSession', () => {
  it('assumes the role by its real ARN, with its path and the deployment partition', async () => {
    // Prepare: a role under /etl/ in a China region; the request names it by its bare name.
    const canonical = `arn:aws-cn:iam::${ACCOUNT}:role/etl/loader`;
    const iam = {
      send: async (command: unknown) => {
        if (!(command instanceof GetRoleCommand)) throw new Error('unexpected IAM call');
        return {
          Role: {
            Arn: canonical,
            RoleId: 'AROAEXAMPLE000000001',
            Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }],
          },
        };
      },
    } as unknown as IAMClient;
    const assumed: Record<string, unknown>[] = [];
    const sts = {
      send: async (command: AssumeRoleCommand) => {
        assumed.push(command.input as unknown as Record<string, unknown>);
        return {
          Credentials: {
            AccessKeyId: 'ASIAEXAMPLE000000001',
            SecretAccessKey: 'not-a-real-secret',
            SessionToken: 'not-a-real-token',
            Expiration: new Date('2024-05-01T13:00:00Z'),
          },
          AssumedRoleUser: { AssumedRoleId: 'AROAEXAMPLE000000001:job-7', Arn: 'x' },
        };
      },
    } as unknown as STSClient;
    const { deps, records } = brokerDeps({ optIn: new OptInChecker(iam, []), sts, region: 'cn-north-1' });

    // Act
    const response = await issueSession(
      deps,
      {
        action: 'issue-session',
        role: 'loader',
        workloadId: 'job-7',
        reason: 'load the nightly batch',
      },
      REQUESTER,
    );

    // Assess
    expect(response.ok).toBe(true);
    expect(assumed.map((input) => input.RoleArn)).toEqual([canonical]);
    expect(records.map((r) => r.roleArn)).toEqual([canonical]);
  });
});
