/**
 * Sundown's own `Credential Issued`: a broker or an integration registers a credential it issued to
 * a workload, by identifiers only. Secret material in the detail is refused before it is parsed.
 */

import { SUNDOWN_EVENT_SOURCE } from '../shared/contract.ts';
import { CredentialIssuedDetailSchema, findSecretLikeKeys } from '../shared/schemas/credential.ts';
import { type Classification, detail, type Env, quote, Reject, sundownWorkload } from './shared.ts';
import type { TriggerModule } from './trigger.ts';

function classify(env: Env): Classification {
  const secrets = findSecretLikeKeys(env.envelope.detail);
  if (secrets.length > 0) {
    throw new Reject(
      `credential registration must not carry secret material; remove ${quote(secrets.join(', '))}`,
    );
  }
  const d = detail(env, CredentialIssuedDetailSchema);
  const workload = sundownWorkload(env, d.workloadId);
  return { kind: 'credential-issued', registration: { ...d, workloadId: workload.id }, trigger: env.trigger };
}

export const sundownCredentialIssued: TriggerModule = {
  name: 'sundown-credential-issued',
  source: SUNDOWN_EVENT_SOURCE,
  detailType: 'Credential Issued',
  bus: 'sundown',
  detailSchema: CredentialIssuedDetailSchema,
  classify,
};
