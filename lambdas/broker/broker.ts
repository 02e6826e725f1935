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
  type SigningAlgorithm,
  waitUntilCertificateIssued,
} from '@aws-sdk/client-acm-pca';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { z } from 'zod';
import { recordRegistration } from '../registration/index.ts';
import { roleArn as buildRoleArn, partitionOf } from '../shared/domain/iam-arn.ts';
import { normalizeWorkloadId } from '../shared/domain/workload-id.ts';
import type {
  BrokerRequester,
  BrokerResponse,
  IssueCertificateRequestSchema,
  IssueSessionRequestSchema,
} from '../shared/schemas/broker.ts';
import type { ServiceDeps } from '../shared/services/deps.ts';
import { CaSigningAlgorithms, type SigningAlgorithmSource } from './ca-signing-algorithms.ts';
import { certificateNotAfter, certificateSerial } from './certificate-signing.ts';

export interface BrokerDeps extends ServiceDeps {
  sts: STSClient;
  acmPca: ACMPCAClient;
  maxDurationSeconds: number;
  certificateAuthorityArns: readonly string[];
  /** Signing algorithm per CA (cached); built on the ACM PCA client when not given. */
  signingAlgorithms?: SigningAlgorithmSource;
}

export const MIN_SESSION_SECONDS = 900;

export function clampDuration(requested: number | undefined, max: number): number {
  return Math.min(Math.max(requested ?? max, MIN_SESSION_SECONDS), max);
}

export async function issueSession(
  deps: BrokerDeps,
  request: z.infer<typeof IssueSessionRequestSchema>,
  requester: BrokerRequester,
): Promise<BrokerResponse> {
  const workload = normalizeWorkloadId(request.workloadId, { account: deps.account, region: deps.region });
  // A bare name becomes an ARN in the deployment's partition; its path is not known yet.
  const asked = request.role.startsWith('arn:')
    ? request.role
    : buildRoleArn(partitionOf(deps.region), deps.account, '/', request.role);
  const decision = await deps.optIn.check(asked);
  if (!decision.optedIn) return { ok: false, code: 'not-opted-in', error: decision.reason };
  // IAM's own ARN carries the role's path: AssumeRole needs it, and the record must name the real role.
  const roleArn = decision.arn ?? asked;
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
    requester,
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
  requester: BrokerRequester,
): Promise<BrokerResponse> {
  if (deps.certificateAuthorityArns.length > 0 && !deps.certificateAuthorityArns.includes(request.caArn)) {
    return {
      ok: false,
      code: 'not-opted-in',
      error: `CA ${request.caArn} is not in the deployment's certificateAuthorityArns`,
    };
  }
  const workload = normalizeWorkloadId(request.workloadId, { account: deps.account, region: deps.region });
  // The algorithm must match the CA's key family: an EC CA refuses SHA256WITHRSA.
  const signingAlgorithm = await signingAlgorithmsOf(deps).forCa(request.caArn);
  const issued = await deps.acmPca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: request.caArn,
      Csr: new TextEncoder().encode(request.csr),
      // The installed SDK's union may predate SM3WITHSM2 and ML-DSA; the API accepts them.
      SigningAlgorithm: signingAlgorithm as SigningAlgorithm,
      Validity: { Type: 'DAYS', Value: request.days },
      IdempotencyToken: randomUUID().replace(/-/g, '').slice(0, 36),
    }),
  );
  const certificateArn = issued.CertificateArn;
  if (!certificateArn) throw new Error('IssueCertificate returned no certificate ARN');

  // The serial comes from the certificate itself. Only when the certificate is not ready in time does
  // the broker fall back to the ARN's last part, which AWS documents as the serial
  // (`.../certificate/<serial>`); emulators may put something else there.
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
    if (!notReadyYet(err)) throw err;
  }
  const serial = certificate ? certificateSerial(certificate) : serialFromArn(certificateArn);
  if (!serial) {
    throw new Error(
      `certificate ${certificateArn} was issued but is not ready, and its ARN names no hex serial; it was not recorded`,
    );
  }
  const expiresAt = certificate
    ? certificateNotAfter(certificate)
    : new Date(deps.now().getTime() + request.days * 86_400_000).toISOString();
  // Recorded before it is returned: a credential the registry does not know could never be revoked.
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
    requester,
  );
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

/** The ACM PCA waiter gave up, or GetCertificate says the certificate is still being issued. */
function notReadyYet(err: unknown): boolean {
  return err instanceof RequestInProgressException || (err as { name?: string })?.name === 'TimeoutError';
}

/** The last part of a certificate ARN, when it is a hex serial. */
function serialFromArn(certificateArn: string): string | undefined {
  const tail = certificateArn.split('/certificate/')[1];
  return tail && /^[0-9a-fA-F]{1,128}$/.test(tail) ? tail.toLowerCase() : undefined;
}

const sharedSources = new WeakMap<ACMPCAClient, SigningAlgorithmSource>();

/** The injected source, else one per ACM PCA client (so the cache lives as long as the client). */
function signingAlgorithmsOf(deps: BrokerDeps): SigningAlgorithmSource {
  if (deps.signingAlgorithms) return deps.signingAlgorithms;
  let source = sharedSources.get(deps.acmPca);
  if (!source) {
    source = new CaSigningAlgorithms(deps.acmPca);
    sharedSources.set(deps.acmPca, source);
  }
  return source;
}
