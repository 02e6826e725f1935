/**
 * Calls the broker the way a workload does: a SigV4-signed POST to its Lambda Function URL (AuthType
 * AWS_IAM), so AWS authenticates the caller and hands the broker the verified principal. The
 * credentials are the standard SDK chain's; only the signature leaves this process.
 */
import { GetFunctionUrlConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { postRequest, signLambdaUrlRequest } from '../lambdas/shared/adapters/function-url-client.ts';
import type { BrokerRequest, BrokerResponse } from '../lambdas/shared/schemas/broker.ts';
import { CliError } from './errors.ts';
import { type ResolvedTarget, requireOutput } from './target.ts';

/** The broker's function URL: the local runtime's in local mode, else the deployed function's. */
export async function brokerUrl(target: ResolvedTarget): Promise<URL> {
  const functionName = requireOutput(target, 'BrokerFunctionName');
  if (target.lambdaEndpoint)
    return new URL(`/lambda-url/${encodeURIComponent(functionName)}/`, target.lambdaEndpoint);
  try {
    const config = await new LambdaClient({}).send(
      new GetFunctionUrlConfigCommand({ FunctionName: functionName }),
    );
    if (config.FunctionUrl) return new URL(config.FunctionUrl);
  } catch (err) {
    throw new CliError(
      `could not read the broker's function URL (${functionName}): ${(err as Error).message}`,
    );
  }
  throw new CliError(`the broker ${functionName} has no function URL: redeploy the stack`);
}

export async function callBroker(target: ResolvedTarget, request: BrokerRequest): Promise<BrokerResponse> {
  const url = await brokerUrl(target);
  const credentials = await new LambdaClient({}).config.credentials();
  const body = JSON.stringify(request);
  const headers = await signLambdaUrlRequest(
    { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
    credentials,
    target.region,
  );
  let res: { status: number; text: string };
  try {
    res = await postRequest(url, headers, body);
  } catch (err) {
    throw new CliError(`could not reach the broker at ${url.origin}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    throw new CliError(`the broker answered HTTP ${res.status} without a JSON body`);
  }
  const response = parsed as Partial<BrokerResponse> & { Message?: string };
  if (typeof response.ok !== 'boolean') {
    // Lambda itself refused: the request was not signed by a principal allowed to call the URL.
    throw new CliError(
      `the broker URL refused the request (HTTP ${res.status}${response.Message ? `: ${response.Message}` : ''}): these credentials may not invoke it`,
    );
  }
  if (!response.ok) throw new CliError(`${(response as { error: string }).error} (HTTP ${res.status})`);
  return response as BrokerResponse;
}
