import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The broker's only authenticated entry point: a Lambda Function URL with AuthType AWS_IAM. Lambda
 * verifies each request's SigV4 signature and refuses (403) unsigned requests and principals without
 * `lambda:InvokeFunctionUrl` before the function runs; the event then names the verified principal
 * (`requestContext.authorizer.iam`) and the source IP. Each configured caller gets
 * `lambda:InvokeFunctionUrl` (only for AWS_IAM URLs) and `lambda:InvokeFunction` only when invoked
 * via the URL (`lambda:InvokedViaFunctionUrl`): no caller is granted a direct Invoke.
 */
export function addBrokerUrl(fn: lambda.IFunction, callers: readonly string[]): lambda.FunctionUrl {
  const url = fn.addFunctionUrl({
    authType: lambda.FunctionUrlAuthType.AWS_IAM,
    invokeMode: lambda.InvokeMode.BUFFERED,
  });
  for (const caller of callers) url.grantInvokeUrl(new iam.ArnPrincipal(caller));
  return url;
}
