/**
 * The broker (dynamic-secrets path): issues a role session or a certificate
 * for a named workload, records it in the registry BEFORE returning it, and
 * audits the issuance. The secret parts go to the caller only: they are never
 * logged, stored or audited.
 */
import { randomUUID } from 'node:crypto';
import {
  type ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  RequestInProgressException,
  waitUntilCertificateIssued,
} from '@aws-sdk/client-acm-pca';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { z } from 'zod';
import { normalizeWorkloadId } from '../domain/workload-id.ts';
import type {
  BrokerResponse,
  IssueCertificateRequestSchema,
  IssueSessionRequestSchema,
} from '../schemas/broker.ts';
import type { ServiceDeps } from './deps.ts';
import { recordRegistration } from './record-credential.ts';

export interface BrokerDeps extends ServiceDeps {
  sts: STSClient;
  acmPca: ACMPCAClient;
  maxDurationSeconds: number;
  certificateAuthorityArns: readonly string[];
}

export const MIN_SESSION_SECONDS = 900;

export function clampDuration(requested: number | undefined, max: number): number {
  return Math.min(Math.max(requested ?? max, MIN_SESSION_SECONDS), max);
}

export async function issueSession(
  deps: BrokerDeps,
  request: z.infer<typeof IssueSessionRequestSchema>,
): Promise<BrokerResponse> {
  const workload = normalizeWorkloadId(request.workloadId, { account: deps.account, region: deps.region });
  const roleArn = request.role.startsWith('arn:')
    ? request.role
    : `arn:aws:iam::${deps.account}:role/${request.role}`;
  const decision = await deps.optIn.check(roleArn);
  if (!decision.optedIn) return { ok: false, code: 'not-opted-in', error: decision.reason };
  const { sessionName } = workload;
  if (!sessionName)
    return { ok: false, code: 'invalid-request', error: `no session name can be derived for ${workload.id}` };
  const durationSeconds = clampDuration(request.durationSeconds, deps.maxDurationSeconds);

  const assumed = await deps.sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      SourceIdentity: sessionName,
      DurationSeconds: durationSeconds,
      Tags: [{ Key: 'sundown:workload', Value: workload.id.slice(0, 256) }],
    }),
  );
  const creds = assumed.Credentials;
  if (!creds?.AccessKeyId || !creds.SecretAccessKey || !creds.SessionToken || !creds.Expiration) {
    throw new Error('AssumeRole returned no credentials');
  }
  const expiration = new Date(creds.Expiration).toISOString();
  // Record first: a credential the registry does not know could never be revoked.
  const { record } = await recordRegistration(
    deps,
    {
      kind: 'role-session',
      roleArn,
      sessionName,
      workloadId: workload.id,
      accessKeyId: creds.AccessKeyId,
      issuedAt: deps.now().toISOString(),
      expiresAt: expiration,
      ...(request.purpose ? { purpose: request.purpose } : {}),
    },
    'broker',
    { source: 'sundown.broker', detailType: 'issue-session' },
    workload,
  );
  return {
    ok: true,
    session: {
      credentialId: record.credentialId,
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretAccessKey,
      sessionToken: creds.SessionToken,
      expiration,
      assumedRoleId: assumed.AssumedRoleUser?.AssumedRoleId ?? `${roleArn}:${sessionName}`,
    },
  };
}

export async function issueCertificate(
  deps: BrokerDeps,
  request: z.infer<typeof IssueCertificateRequestSchema>,
): Promise<BrokerResponse> {
  if (deps.certificateAuthorityArns.length > 0 && !deps.certificateAuthorityArns.includes(request.caArn)) {
    return {
      ok: false,
      code: 'not-opted-in',
      error: `CA ${request.caArn} is not in the deployment's certificateAuthorityArns`,
    };
  }
  const workload = normalizeWorkloadId(request.workloadId, { account: deps.account, region: deps.region });
  const issued = await deps.acmPca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: request.caArn,
      Csr: new TextEncoder().encode(request.csr),
      SigningAlgorithm: 'SHA256WITHRSA',
      Validity: { Type: 'DAYS', Value: request.days },
      IdempotencyToken: randomUUID().replace(/-/g, '').slice(0, 36),
    }),
  );
  const certificateArn = issued.CertificateArn;
  const serial = certificateArn?.split('/certificate/')[1];
  if (!certificateArn || !serial) throw new Error('IssueCertificate returned no certificate ARN');
  const expiresAt = new Date(deps.now().getTime() + request.days * 86_400_000).toISOString();
  const { record } = await recordRegistration(
    deps,
    {
      kind: 'certificate',
      caArn: request.caArn,
      serial,
      workloadId: workload.id,
      issuedAt: deps.now().toISOString(),
      expiresAt,
      ...(request.purpose ? { purpose: request.purpose } : {}),
    },
    'broker',
    { source: 'sundown.broker', detailType: 'issue-certificate' },
    workload,
  );
  let certificate: string | undefined;
  let certificateChain: string | undefined;
  try {
    await waitUntilCertificateIssued(
      { client: deps.acmPca, maxWaitTime: 30, minDelay: 1, maxDelay: 3 },
      { CertificateAuthorityArn: request.caArn, CertificateArn: certificateArn },
    );
    const got = await deps.acmPca.send(
      new GetCertificateCommand({ CertificateAuthorityArn: request.caArn, CertificateArn: certificateArn }),
    );
    certificate = got.Certificate;
    certificateChain = got.CertificateChain;
  } catch (err) {
    if (!(err instanceof RequestInProgressException)) throw err;
  }
  return {
    ok: true,
    certificate: {
      credentialId: record.credentialId,
      certificateArn,
      serial: record.serial ?? serial,
      caArn: request.caArn,
      ...(certificate ? { certificate } : {}),
      ...(certificateChain ? { certificateChain } : {}),
    },
  };
}
