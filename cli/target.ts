/**
 * Which deployment a command talks to: `--local` (from .sundown/local.json),
 * `--endpoint`/`--region`, or the standard AWS SDK configuration. Stack
 * outputs come from CloudFormation, so commands need no other configuration.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CliError } from './errors.ts';
import { readLocalState } from './local-state.ts';

export interface TargetOptions {
  local?: boolean;
  endpoint?: string;
  region?: string;
  stack?: string;
}

export interface ResolvedTarget {
  region: string;
  endpoint?: string;
  stackName: string;
  outputs: Record<string, string>;
  accountId?: string;
  /** Local mode: where the local runtime serves Lambda Invoke and the function URLs. */
  lambdaEndpoint?: string;
}

/** Points this process's SDK clients at the target (standard SDK variables only). */
function applyEndpoint(endpoint: string | undefined, region: string, local: boolean): void {
  if (endpoint) process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = region;
  if (local) {
    // The emulator accepts any credentials; never send real ones to it.
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  }
}

export async function resolveTarget(opts: TargetOptions): Promise<ResolvedTarget> {
  if (opts.local) {
    const state = readLocalState();
    applyEndpoint(state.endpoint, state.region, true);
    if (state.lambdaEndpoint) process.env.AWS_ENDPOINT_URL_LAMBDA = state.lambdaEndpoint;
    return {
      region: state.region,
      endpoint: state.endpoint,
      stackName: state.stackName,
      outputs: state.outputs,
      accountId: state.accountId,
      ...(state.lambdaEndpoint ? { lambdaEndpoint: state.lambdaEndpoint } : {}),
    };
  }
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new CliError('no AWS region: pass --region, set AWS_REGION, or use --local');
  applyEndpoint(opts.endpoint, region, false);
  const stackName = opts.stack ?? 'Sundown';
  const cfn = new CloudFormationClient({});
  let outputs: Record<string, string> = {};
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries(
      (res.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (err) {
    throw new CliError(`could not read stack ${stackName} in ${region}: ${(err as Error).message}`);
  }
  return { region, endpoint: opts.endpoint, stackName, outputs };
}

export function requireOutput(target: ResolvedTarget, name: string): string {
  const value = target.outputs[name];
  if (!value)
    throw new CliError(`stack ${target.stackName} has no output ${name}: is it deployed and up to date?`);
  return value;
}

export interface CommonOptions extends TargetOptions {
  json?: boolean;
}

/** Adds the options every command that talks to a deployment shares. */
export function withTargetOptions<T extends import('commander').Command>(command: T): T {
  return command
    .option('--local', 'use the local deployment in .sundown/local.json')
    .option('--endpoint <url>', 'AWS-compatible endpoint (default: the standard AWS SDK configuration)')
    .option('--region <region>', 'AWS region')
    .option('--stack <name>', 'stack name', 'Sundown')
    .option('--json', 'machine-readable JSON output') as T;
}
