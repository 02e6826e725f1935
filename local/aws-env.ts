/**
 * The environment that points the AWS SDK, the CDK CLI and the in-process
 * handlers at an AWS-compatible endpoint. Only the standard SDK variables are
 * used, so the same code runs against AWS, moto or LocalStack.
 */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export interface Target {
  endpoint: string;
  region: string;
  accountId: string;
}

export function awsEnvFor(target: Target): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: target.endpoint,
    AWS_REGION: target.region,
    AWS_DEFAULT_REGION: target.region,
    // Dummy credentials: the emulator accepts any; never real ones in local mode.
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    CDK_DEFAULT_ACCOUNT: target.accountId,
    CDK_DEFAULT_REGION: target.region,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

/** Applies `awsEnvFor` to this process, so SDK clients created afterwards use the endpoint. */
export function applyAwsEnv(target: Target): void {
  for (const [key, value] of Object.entries(awsEnvFor(target))) process.env[key] = value;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}
