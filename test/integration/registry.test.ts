/**
 * Every way a credential gets into the registry (broker session, broker
 * certificate, discovery, event, CLI register), duplicates, invalid input,
 * and that no secret ever reaches a log line, a registry item or an audit record.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callBroker } from '../../cli/broker-client.ts';
import { findSecretMaterial } from '../../lambdas/audit/audit-secrets.ts';
import type { BrokerRequest } from '../../lambdas/shared/schemas/broker.ts';
import { localWorkdir, runCli } from './cli.ts';
import { deniedOn } from './fixtures.ts';
import { deploySundown, type Sundown } from './harness.ts';
import { capturedOutput } from './log-scan.setup.ts';

let sd: Sundown;
let cwd: string;

beforeAll(async () => {
  // The log-scan setup captures every line the in-process handlers write; here at the most verbose level.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  sd = await deploySundown();
  cwd = localWorkdir(sd);
});
afterAll(async () => {
  await sd?.stop();
});

async function role(name: string, optedIn = true): Promise<string> {
  const res = await sd.iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      Tags: optedIn ? [{ Key: 'sundown:revoke', Value: 'enabled' }] : [],
    }),
  );
  return res.Role?.Arn as string;
}

const secrets: string[] = [];

describe('the broker', () => {
  it('issues a session, records it before returning it, and the session is revoked when the workload ends', async () => {
    await role('etl-role');

    const issued = await runCli(
      [
        'issue',
        'session',
        '--role',
        'etl-role',
        '--workload',
        'etl/run-17',
        '--duration',
        '99999',
        '--purpose',
        'nightly etl',
        '--reason',
        'run the nightly ETL',
        '--json',
        '--local',
      ],
      cwd,
    );

    expect(issued.stderr).toBe('');
    expect(issued.code).toBe(0);
    const session = JSON.parse(issued.stdout) as Record<string, string>;
    expect(Object.keys(session).sort()).toEqual(
      [
        'accessKeyId',
        'assumedRoleId',
        'credentialId',
        'expiration',
        'secretAccessKey',
        'sessionToken',
      ].sort(),
    );
    secrets.push(session.secretAccessKey as string, session.sessionToken as string);
    expect(session.assumedRoleId).toMatch(/:etl-run-17$|:sd-[0-9a-f]+$/);
    const record = await sd.registry.get(session.credentialId as string);
    expect(record).toMatchObject({
      kind: 'role-session',
      status: 'active',
      issuer: 'broker',
      workloadId: 'etl/run-17',
      accessKeyId: session.accessKeyId,
      purpose: 'nightly etl',
      // Who asked, as the function URL authenticated them (the principal of the signing key, via STS).
      callerArn: expect.stringMatching(/^arn:aws:(iam|sts)::123456789012:/),
      callerAccount: '123456789012',
      callerId: expect.any(String),
      sourceIp: '127.0.0.1',
      requestReason: 'run the nightly ETL',
    });
    // --duration 99999 is clamped to the configured maximum (3600 s by default).
    expect(
      Date.parse(record?.expiresAt as string) - Date.parse(record?.issuedAt as string),
    ).toBeLessThanOrEqual(3_601_000);

    const ended = await runCli(['end', 'etl/run-17', '--reason', 'job done', '--local'], cwd);
    expect(ended.code).toBe(0);
    await sd.drain();

    expect(await deniedOn(sd.iam, 'etl-role')).toEqual([record?.sessionName]);
    expect((await sd.registry.get(session.credentialId as string))?.status).toBe('revoked');
  });

  it('fails with a clear error and writes nothing for a role that is not opted in', async () => {
    await role('private-role', false);

    const res = await runCli(
      ['issue', 'session', '--role', 'private-role', '--workload', 'w-1', '--reason', 'try it', '--local'],
      cwd,
    );

    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/^sundown: role private-role is not opted in/);
    expect(await sd.registry.forWorkload('w-1')).toEqual([]);
  });

  it('refuses a missing or bad reason (CLI and broker, 400) and a direct Invoke (unauthenticated), auditing each refusal', async () => {
    await role('reasoned-role');

    const missing = await runCli(
      ['issue', 'session', '--role', 'reasoned-role', '--workload', 'w-2', '--local'],
      cwd,
    );
    const multiline = await runCli(
      ['issue', 'session', '--role', 'reasoned-role', '--workload', 'w-2', '--reason', 'a\nb', '--local'],
      cwd,
    );

    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^sundown: --reason is required/);
    expect(multiline.code).not.toBe(0);
    expect(multiline.stderr).toMatch(/^sundown: --reason must be one line/);

    // The broker itself refuses what the CLI would have caught: a signed request with a two-line reason.
    const target = {
      region: sd.target.region,
      stackName: sd.stack.stackName,
      outputs: sd.outputs,
      lambdaEndpoint: sd.runtime.lambdaEndpoint,
    };
    const request = {
      action: 'issue-session',
      role: 'reasoned-role',
      workloadId: 'w-2',
      reason: 'a\nforged',
    };
    await expect(callBroker(target, request as BrokerRequest)).rejects.toThrow(
      /reason: must be one line.*HTTP 400/,
    );
    // A direct Invoke names no caller AWS verified, whatever its payload claims.
    const invoked = await new LambdaClient({
      endpoint: sd.runtime.lambdaEndpoint,
      region: sd.target.region,
    }).send(
      new InvokeCommand({
        FunctionName: sd.outputs.BrokerFunctionName,
        Payload: new TextEncoder().encode(
          JSON.stringify({ ...request, reason: 'ok', callerArn: 'arn:aws:iam::1:root' }),
        ),
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(invoked.Payload))).toMatchObject({
      ok: false,
      code: 'unauthenticated',
    });

    expect(await sd.registry.forWorkload('w-2')).toEqual([]);
    const refused = await runCli(['audit', 'query', '--type', 'refused', '--json', '--local'], cwd);
    const records = JSON.parse(refused.stdout) as {
      outcome: string;
      workloadId?: string;
      details?: Record<string, unknown>;
    }[];
    expect(records.map((r) => [r.outcome, r.details?.via])).toEqual(
      expect.arrayContaining([
        ['invalid-request', 'function-url'],
        ['unauthenticated', 'invoke'],
      ]),
    );
    expect(records.find((r) => r.outcome === 'invalid-request')?.details).toMatchObject({
      callerArn: expect.stringMatching(/^arn:aws:/),
      sourceIp: '127.0.0.1',
    });
  });

  it('issues a certificate from ACM Private CA and records CA ARN and serial', async () => {
    const pca = new ACMPCAClient({ endpoint: sd.target.endpoint, region: 'us-east-1' });
    const ca = await pca.send(
      new CreateCertificateAuthorityCommand({
        CertificateAuthorityType: 'ROOT',
        CertificateAuthorityConfiguration: {
          KeyAlgorithm: 'RSA_2048',
          SigningAlgorithm: 'SHA256WITHRSA',
          Subject: { CommonName: 'sundown-test-ca' },
        },
      }),
    );
    const caArn = ca.CertificateAuthorityArn as string;
    const csr = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }));
    const root = await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: caArn,
        Csr: new TextEncoder().encode(csr.Csr),
        SigningAlgorithm: 'SHA256WITHRSA',
        TemplateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
        Validity: { Type: 'YEARS', Value: 1 },
      }),
    );
    const rootPem = await pca.send(
      new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: root.CertificateArn }),
    );
    await pca.send(
      new ImportCertificateAuthorityCertificateCommand({
        CertificateAuthorityArn: caArn,
        Certificate: new TextEncoder().encode(rootPem.Certificate),
      }),
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'sundown-csr-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=worker-7',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'req.csr'),
      ],
      { stdio: 'ignore' },
    );
    secrets.push(readFileSync(path.join(dir, 'key.pem'), 'utf8'));

    const res = await runCli(
      [
        'issue',
        'certificate',
        '--ca',
        caArn,
        '--workload',
        'worker-7',
        '--csr',
        path.join(dir, 'req.csr'),
        '--days',
        '2',
        '--reason',
        'mTLS for worker 7',
        '--json',
        '--local',
      ],
      cwd,
    );

    expect(res.stderr).toBe('');
    const cert = JSON.parse(res.stdout) as { credentialId: string; serial: string; certificateArn: string };
    expect(cert.certificateArn).toContain(`${caArn}/certificate/`);
    // The serial is the certificate's own (moto's certificate ARNs end in a random ID, not the serial).
    const issuedPem = await pca.send(
      new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: cert.certificateArn }),
    );
    const actualSerial = BigInt(`0x${new X509Certificate(issuedPem.Certificate as string).serialNumber}`);
    expect(BigInt(`0x${cert.serial}`)).toBe(actualSerial);
    const record = await sd.registry.get(cert.credentialId);
    expect(record).toMatchObject({
      kind: 'certificate',
      caArn,
      serial: cert.serial,
      workloadId: 'worker-7',
      issuer: 'broker',
    });
  });
});

describe('registration', () => {
  it('records an access key from the CLI once, however often it is registered', async () => {
    const args = [
      'register',
      'access-key',
      '--user',
      'ci-bot',
      '--key',
      'AKIAIOSFODNN7EXAMPLE',
      '--workload',
      'ci/pipeline-9',
      '--local',
    ];

    const first = await runCli(args, cwd);
    const second = await runCli(args, cwd);

    expect(first.stdout).toMatch(/^Recorded access-key ak-[0-9a-f]{24} for ci\/pipeline-9/);
    expect(second.stdout).toMatch(/^Already recorded access-key/);
    expect(await sd.registry.forWorkload('ci/pipeline-9')).toHaveLength(1);
    const listed = await runCli(
      ['credentials', 'list', '--workload', 'ci/pipeline-9', '--json', '--local'],
      cwd,
    );
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ kind: 'access-key', userName: 'ci-bot', status: 'active' }),
    ]);
  });

  it('rejects invalid input with a clear error and writes nothing', async () => {
    const badKey = await runCli(
      ['register', 'access-key', '--user', 'bot', '--key', 'not-a-key', '--workload', 'w-bad', '--local'],
      cwd,
    );
    const badWorkload = await runCli(
      [
        'register',
        'session',
        '--role',
        'arn:aws:iam::123456789012:role/etl-role',
        '--session-name',
        'x1',
        '--workload',
        'job*',
        '--local',
      ],
      cwd,
    );
    const badStatus = await runCli(['credentials', 'list', '--status', 'gone', '--local'], cwd);

    expect(badKey.code).not.toBe(0);
    expect(badKey.stderr).toMatch(/^sundown: invalid access-key: accessKeyId must be an access key id/);
    expect(badWorkload.code).not.toBe(0);
    expect(badWorkload.stderr).toMatch(/^sundown: .*job\*/);
    expect(badStatus.code).not.toBe(0);
    expect(badStatus.stderr).toMatch(/--status must be one of/);
    expect(await sd.registry.forWorkload('w-bad')).toEqual([]);
  });

  it('records a duplicated Credential Issued event once', async () => {
    const arn = await role('dup-role');
    const event = {
      Source: 'sundown',
      DetailType: 'Credential Issued',
      EventBusName: sd.outputs.EventBusName,
      Detail: JSON.stringify({
        kind: 'role-session',
        roleArn: arn,
        sessionName: 'dup-1',
        workloadId: 'dup-1',
      }),
    };

    await sd.putEvents([event, event, event]);
    await sd.drain();

    expect(await sd.registry.forWorkload('dup-1')).toHaveLength(1);
    expect(await sd.audit.query({ workloadId: 'dup-1', type: 'issued' })).toHaveLength(1);
  });
});

describe('secret hygiene', () => {
  it('no log line, registry item or audit record contains a secret key, session token or private key', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    const tables = [
      sd.outputs.CredentialsTableName,
      sd.outputs.AuditTableName,
      sd.outputs.RevocationsTableName,
    ];
    const stored: string[] = [];
    for (const table of tables) {
      const res = await sd.doc.send(new ScanCommand({ TableName: table }));
      stored.push(...(res.Items ?? []).map((i) => JSON.stringify(i)));
    }
    const logLines = capturedOutput();
    const everything = [...logLines, ...stored];
    expect(logLines.some((l) => l.includes('"level":"DEBUG"') || l.includes('"level":"INFO"'))).toBe(true);

    for (const text of everything) {
      for (const secret of secrets) expect(text.includes(secret.trim().split('\n')[1] ?? secret)).toBe(false);
      expect(findSecretMaterial(text)).toEqual([]);
    }
  });
});
