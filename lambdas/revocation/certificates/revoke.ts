/**
 * Revoking X.509 certificates on AWS Private CA (revocation messages with target `certificate`; one
 * FIFO message group per CA).
 *
 * Each recorded certificate still `revoking` is revoked with `RevokeCertificate` on the recorded CA
 * and serial, with the message's reason (`CESSATION_OF_OPERATION` for a normal end, `KEY_COMPROMISE`
 * when the workload was compromised), then moved `revoking -> revoked` and audited. A credential
 * already settled (a duplicated end event, a redelivered message) is not sent again, and a repeat
 * revoke that does reach the CA is success, so each certificate is revoked once.
 *
 * Which CAs Sundown may revoke on is enforced by IAM (the deployment setting
 * `certificateAuthorityArns` grants `acm-pca:RevokeCertificate` on exactly those). An access denial,
 * like any refusal another attempt cannot fix (unknown CA or certificate, a CA state that forbids
 * revocation), leaves the credential `failed` at once with the reason: retrying it for the queue's
 * whole redrive budget would only delay the operator's alarm. Transient errors are thrown after the
 * other certificates of the message were processed, so the queue retries just the rest.
 *
 * API success is not the end of the story: relying parties learn of the revocation from the CRL (about
 * 30 minutes later) or OCSP (up to 60 minutes), which the audit record says.
 */

import { lazyClients } from '../../shared/clients.ts';
import type { CredentialRecord } from '../../shared/schemas/credential.ts';
import { auditCredential } from '../../shared/services/audit-helpers.ts';
import type { RevocationMessage } from '../messages.ts';
import type { ApplyOutcome, RevokerDeps } from '../types.ts';
import { CertificateRevocationRefused, type CertificateRevocationResult, CertificateRevoker } from './pca.ts';

export type CertificateMessage = Extract<RevocationMessage, { target: 'certificate' }>;

export interface CertificateRevokerDeps extends RevokerDeps {
  /** Private CA revocation; built from the shared ACM PCA client when not injected. */
  certificates?: CertificateRevoker;
}

export const CERTIFICATE_PROPAGATION =
  'API success does not mean relying parties see it: the CRL is updated about 30 minutes after revocation and OCSP responses can take up to 60 minutes on AWS';

let defaultRevoker: CertificateRevoker | undefined;
function sharedRevoker(): CertificateRevoker {
  if (!defaultRevoker) defaultRevoker = new CertificateRevoker(lazyClients.acmPca);
  return defaultRevoker;
}

export async function revokeCertificates(
  deps: CertificateRevokerDeps,
  message: CertificateMessage,
): Promise<ApplyOutcome> {
  const revoker = deps.certificates ?? sharedRevoker();
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  let retryable: unknown;

  const fail = async (credential: CredentialRecord, reason: string) => {
    const failed = await deps.registry.transition(credential.credentialId, ['revoking'], 'failed', {
      statusReason: reason.slice(0, 1000),
    });
    if (!failed) return;
    await auditCredential(deps, failed, {
      type: 'failed',
      outcome: 'error',
      reason: reason.slice(0, 1000),
      details: { revocationReason: message.revocationReason },
    });
    deps.metricsSink?.('RevocationsFailed', 1, 'Count');
    deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'failed' });
    outcome.failed.push(credential.credentialId);
  };

  for (const credentialId of message.credentialIds) {
    const credential = await deps.registry.get(credentialId);
    if (credential?.status !== 'revoking') continue; // duplicate or already settled
    if (credential.kind !== 'certificate' || !credential.serial || credential.caArn !== message.caArn) {
      await fail(
        credential,
        `credential ${credentialId} is not a certificate of CA ${message.caArn}; nothing was revoked for it`,
      );
      continue;
    }
    let result: CertificateRevocationResult;
    try {
      result = await revoker.revoke(message.caArn, credential.serial, message.revocationReason);
    } catch (err) {
      if (err instanceof CertificateRevocationRefused) await fail(credential, err.message);
      else retryable ??= err;
      continue;
    }
    const revokedAt = deps.now().toISOString();
    const revoked = await deps.registry.transition(credentialId, ['revoking'], 'revoked', { revokedAt });
    if (!revoked) continue;
    const timeToRevokeMs = Date.parse(revokedAt) - Date.parse(credential.endedAt ?? revokedAt);
    await auditCredential(deps, credential, {
      type: 'revoked',
      outcome: 'success',
      reason: `certificate ${credential.serial} revoked on ${message.caArn} (${message.revocationReason})${
        result === 'already-revoked' ? '; the CA reported it already revoked' : ''
      }`,
      details: {
        revocationReason: message.revocationReason,
        timeToRevokeMs,
        endedAt: credential.endedAt ?? '',
        apiResult: result,
        propagation: CERTIFICATE_PROPAGATION,
      },
    });
    deps.metricsSink?.('TimeToRevoke', timeToRevokeMs, 'Milliseconds', { kind: credential.kind });
    deps.metricsSink?.('RevocationsSucceeded', 1, 'Count');
    deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'revoked' });
    outcome.revoked.push(credentialId);
  }
  if (retryable) throw retryable;
  return outcome;
}
