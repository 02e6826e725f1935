/**
 * The broker: serves its Lambda Function URL (AuthType AWS_IAM), so AWS verifies the SigV4 signature
 * and names the calling principal in `requestContext.authorizer.iam`. Workloads and `sundown issue`
 * send a signed POST with the broker request as JSON. A direct Lambda Invoke carries no verified
 * caller identity and is refused (typed error body, audited as `refused`).
 */
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { bindInvocation, buildDeps } from '../shared/bootstrap.ts';
import { RETRY } from '../shared/clients.ts';
import { readBrokerConfig } from '../shared/runtime-config.ts';
import type { BrokerResponse } from '../shared/schemas/broker.ts';
import type { BrokerDeps } from './broker.ts';
import { type FunctionUrlResponse, handleBrokerEvent } from './request.ts';

const base = buildDeps('broker');
const brokerConfig = readBrokerConfig();
const deps: BrokerDeps = {
  ...base,
  sts: new STSClient(RETRY),
  acmPca: new ACMPCAClient(RETRY),
  maxDurationSeconds: brokerConfig.SUNDOWN_BROKER_MAX_DURATION_SECONDS,
  certificateAuthorityArns: brokerConfig.SUNDOWN_CA_ARNS,
};

export const handler = async (
  event: unknown,
  context: Context,
): Promise<FunctionUrlResponse | BrokerResponse> => {
  bindInvocation(deps, context);
  return (await handleBrokerEvent(deps, event)).response;
};
