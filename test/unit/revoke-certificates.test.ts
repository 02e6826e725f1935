/**
 * Certificate revocation with in-memory registry and audit and a fake ACM PCA client behind the real
 * CertificateRevoker: the serial format sent, and what moto cannot show (AWS's
 * RequestAlreadyProcessedException, access denied, transient failures, a CA in another region).
 */
import {
  type ACMPCAClient,
  ACMPCAServiceException,
  RequestAlreadyProcessedException,
  type RevokeCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { describe, expect, it } from 'vitest';
import { apiSerial, CertificateRevoker } from '../../lambdas/revocation/certificates/pca.ts';
import {
  type CertificateRevokerDeps,
  revokeCertificates,
} from '../../lambdas/revocation/certificates/revoke.ts';
import type { AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';

const CA =
  'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const CA_ELSEWHERE =
  'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-666666666666';

function certificate(id: string, overrides: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    credentialId: id,
    kind: 'certificate',
    workloadId: 'ci/job-1',
    workloadKind: 'custom',
    status: 'revoking',
    issuedAt: '2024-05-01T11:00:00.000Z',
    expiresAt: '2025-05-01T11:00:00.000Z',
    issuer: 'event',
    account: '123456789012',
    region: 'us-east-1',
    caArn: CA,
    serial: '0a1b2c3d',
    endedAt: '2024-05-01T12:00:00.000Z',
    ...overrides,
  };
}

type Send = (command: RevokeCertificateCommand) => Promise<unknown>;

function fakeClient(region: string, send: Send, calls: { region: string; input: unknown }[]) {
  return {
    config: { region: async () => region },
    send: (command: RevokeCertificateCommand) => {
      calls.push({ region, input: command.input });
      return send(command);
    },
  } as unknown as ACMPCAClient;
}

function fakeDeps(credentials: CredentialRecord[], send: Send) {
  const registry = new Map(credentials.map((c) => [c.credentialId, { ...c }]));
  const audit: AuditRecordInput[] = [];
  const calls: { region: string; input: unknown }[] = [];
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
    audit: { append: async (record: AuditRecordInput) => audit.push(record) },
    actor: { type: 'function', name: 'revoker' },
    now: () => new Date('2024-05-01T12:00:02.000Z'),
    certificates: new CertificateRevoker(fakeClient('us-east-1', send, calls), async (region) =>
      fakeClient(region, send, calls),
    ),
  } as unknown as CertificateRevokerDeps;
  return { deps, registry, audit, calls };
}

function pcaError(name: string): ACMPCAServiceException {
  return new ACMPCAServiceException({ name, $fault: 'client', $metadata: {}, message: `${name} for test` });
}

const message = (
  ids: string[],
  caArn = CA,
  reason: 'CESSATION_OF_OPERATION' | 'KEY_COMPROMISE' = 'CESSATION_OF_OPERATION',
) => ({
  target: 'certificate' as const,
  caArn,
  revocationReason: reason,
  credentialIds: ids,
});

describe('apiSerial', () => {
  it.each([
    ['0a1b2c3d', '0A:1B:2C:3D'],
    ['0A:1B:2C:3D', '0A:1B:2C:3D'],
    ['00:0a:1b', '0A:1B'],
    ['abc', '0A:BC'],
    ['0', '00'],
  ])('sends %s as %s', (serial, expected) => {
    expect(apiSerial(serial)).toBe(expected);
  });

  it('refuses anything but hex', () => {
    expect(() => apiSerial('0a-1b')).toThrow(/expected hexadecimal digits/);
  });
});

describe('revokeCertificates', () => {
  it('revokes the recorded serial on the recorded CA with the message reason, and audits the propagation delay', async () => {
    // Prepare
    const fake = fakeDeps([certificate('ct-000000000000000000000001')], async () => ({}));

    // Act
    const outcome = await revokeCertificates(
      fake.deps,
      message(['ct-000000000000000000000001'], CA, 'KEY_COMPROMISE'),
    );

    // Assess
    expect(fake.calls.map((c) => c.input)).toEqual([
      { CertificateAuthorityArn: CA, CertificateSerial: '0A:1B:2C:3D', RevocationReason: 'KEY_COMPROMISE' },
    ]);
    expect(outcome).toEqual({ iamWrites: 0, revoked: ['ct-000000000000000000000001'], failed: [] });
    expect(fake.registry.get('ct-000000000000000000000001')?.status).toBe('revoked');
    const [revoked] = fake.audit.filter((r) => r.type === 'revoked');
    expect(revoked?.details).toMatchObject({
      caArn: CA,
      serial: '0a1b2c3d',
      revocationReason: 'KEY_COMPROMISE',
      timeToRevokeMs: 2000,
      apiResult: 'revoked',
    });
    expect(String(revoked?.details?.propagation)).toMatch(
      /CRL is updated about 30 minutes.*OCSP.*60 minutes/,
    );
  });

  it('counts RequestAlreadyProcessedException (a repeat on AWS) as revoked', async () => {
    const fake = fakeDeps([certificate('ct-000000000000000000000001')], async () => {
      throw new RequestAlreadyProcessedException({ $metadata: {}, message: 'already been completed' });
    });

    const outcome = await revokeCertificates(fake.deps, message(['ct-000000000000000000000001']));

    expect(outcome.revoked).toEqual(['ct-000000000000000000000001']);
    expect(fake.audit.find((r) => r.type === 'revoked')?.details).toMatchObject({
      apiResult: 'already-revoked',
    });
  });

  it('does not call the CA again for a certificate already settled', async () => {
    const fake = fakeDeps(
      [certificate('ct-000000000000000000000001', { status: 'revoked' })],
      async () => ({}),
    );

    const outcome = await revokeCertificates(fake.deps, message(['ct-000000000000000000000001']));

    expect(fake.calls).toEqual([]);
    expect(outcome.revoked).toEqual([]);
  });

  it('fails a certificate at once when access is denied (CA not configured), with a clear reason', async () => {
    // Prepare
    const fake = fakeDeps([certificate('ct-000000000000000000000001')], async () => {
      throw pcaError('AccessDeniedException');
    });

    // Act
    const outcome = await revokeCertificates(fake.deps, message(['ct-000000000000000000000001']));

    // Assess: settled, not thrown (so not retried into the DLQ).
    expect(outcome.failed).toEqual(['ct-000000000000000000000001']);
    const record = fake.registry.get('ct-000000000000000000000001');
    expect(record?.status).toBe('failed');
    expect(record?.statusReason).toMatch(/AccessDeniedException: .*certificateAuthorityArns/);
    expect(fake.audit.filter((r) => r.type === 'failed')).toHaveLength(1);
  });

  it('revokes the others, then throws a transient failure so the queue retries only what is left', async () => {
    // Prepare
    const fake = fakeDeps(
      [
        certificate('ct-000000000000000000000001'),
        certificate('ct-000000000000000000000002', { serial: 'ff' }),
      ],
      async (command) => {
        if (command.input.CertificateSerial === '0A:1B:2C:3D') throw pcaError('ThrottlingException');
        return {};
      },
    );

    // Act
    const run = revokeCertificates(
      fake.deps,
      message(['ct-000000000000000000000001', 'ct-000000000000000000000002']),
    );

    // Assess
    await expect(run).rejects.toThrow(/ThrottlingException/);
    expect(fake.registry.get('ct-000000000000000000000001')?.status).toBe('revoking');
    expect(fake.registry.get('ct-000000000000000000000002')?.status).toBe('revoked');
  });

  it('calls the CA in its own region', async () => {
    const fake = fakeDeps(
      [certificate('ct-000000000000000000000001', { caArn: CA_ELSEWHERE })],
      async () => ({}),
    );

    await revokeCertificates(fake.deps, message(['ct-000000000000000000000001'], CA_ELSEWHERE));

    expect(fake.calls.map((c) => c.region)).toEqual(['eu-west-1']);
  });

  it('refuses a credential of another CA without calling either CA', async () => {
    const fake = fakeDeps(
      [certificate('ct-000000000000000000000001', { caArn: CA_ELSEWHERE })],
      async () => ({}),
    );

    const outcome = await revokeCertificates(fake.deps, message(['ct-000000000000000000000001']));

    expect(outcome.failed).toEqual(['ct-000000000000000000000001']);
    expect(fake.calls).toEqual([]);
  });
});
