/**
 * The broker: invoked directly (IAM-authorized Lambda Invoke) by workloads
 * and by `sundown issue`. Returns credentials to the caller only.
 */
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { bindInvocation, buildDeps } from '../shared/bootstrap.ts';
import { RETRY } from '../shared/clients.ts';
import { logger } from '../shared/powertools.ts';
import { BrokerRequestSchema, type BrokerResponse } from '../shared/schemas/broker.ts';
import { type BrokerDeps, issueCertificate, issueSession } from '../shared/services/broker.ts';

const base = buildDeps('broker');
const deps: BrokerDeps = {
  ...base,
  sts: new STSClient(RETRY),
  acmPca: new ACMPCAClient(RETRY),
  maxDurationSeconds: Number(process.env.SUNDOWN_BROKER_MAX_DURATION_SECONDS ?? 3600),
  certificateAuthorityArns: JSON.parse(process.env.SUNDOWN_CA_ARNS ?? '[]') as string[],
};

export const handler = async (event: unknown, context: Context): Promise<BrokerResponse> => {
  bindInvocation(deps, context);
  const parsed = BrokerRequestSchema.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'request'}: ${i.message}`)
      .join('; ');
    return { ok: false, code: 'invalid-request', error: `invalid broker request: ${issues}` };
  }
  try {
    const response =
      parsed.data.action === 'issue-session'
        ? await issueSession(deps, parsed.data)
        : await issueCertificate(deps, parsed.data);
    // Log identifiers only; the response object holds secrets and is never logged.
    logger.info('issued', {
      action: parsed.data.action,
      workloadId: parsed.data.workloadId,
      ok: response.ok,
    });
    return response;
  } catch (err) {
    logger.error('issuance failed', { action: parsed.data.action, error: err as Error });
    return {
      ok: false,
      code: 'failed',
      error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 500),
    };
  }
};
