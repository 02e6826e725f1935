/**
 * Deploys the real synthesized CDK app into an endpoint with the real CDK CLI:
 * `cdk synth`, `cdk bootstrap`, `cdk deploy --method=direct` (the emulator's
 * CloudFormation loses Outputs on change sets). No second copy of the
 * infrastructure exists anywhere: what runs locally is what `cdk deploy` ships.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsEnvFor, type Target } from './aws-env.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CDK_BIN = path.join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

export class DeployError extends Error {}

export interface DeployOptions {
  target: Target;
  stackName?: string;
  /** A cloud assembly already synthesized by `synthesize`; synthesized when omitted. */
  cloudAssemblyDir?: string;
  /** Extra CDK context, e.g. `{ sundown: JSON.stringify({ dryRun: true }) }`. */
  context?: Record<string, string>;
  log?: (line: string) => void;
}

export interface DeployedStack {
  stackName: string;
  outputs: Record<string, string>;
  cloudAssemblyDir: string;
  template: CfnTemplate;
}

export interface CfnTemplate {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs?: Record<string, unknown>;
}

function runCdk(args: string[], env: Record<string, string>, log?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CDK_BIN, ...args, '--no-notices', '--no-version-reporting'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env, CI: 'true', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (log) for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else {
        const tail = output.trim().split('\n').slice(-8).join('\n');
        reject(new DeployError(`cdk ${args[0]} failed with exit code ${code}:\n${tail}`));
      }
    });
  });
}

function contextArgs(context: Record<string, string> | undefined): string[] {
  return Object.entries(context ?? {}).flatMap(([k, v]) => ['--context', `${k}=${v}`]);
}

/** `cdk synth` into `outDir` (default `cdk.out`); returns the assembly folder. */
export async function synthesize(options: {
  target: Target;
  outDir?: string;
  context?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<string> {
  const outDir = options.outDir ?? path.join(PROJECT_ROOT, 'cdk.out');
  await runCdk(
    ['synth', '--quiet', '--output', outDir, ...contextArgs(options.context)],
    awsEnvFor(options.target),
    options.log,
  );
  return outDir;
}

export async function deployStack(options: DeployOptions): Promise<DeployedStack> {
  const { target } = options;
  const env = awsEnvFor(target);
  const assembly =
    options.cloudAssemblyDir ?? (await synthesize({ target, context: options.context, log: options.log }));
  const manifest = JSON.parse(await readFile(path.join(assembly, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; displayName?: string }>;
  };
  const stackName =
    options.stackName ??
    Object.entries(manifest.artifacts).find(([, a]) => a.type === 'aws:cloudformation:stack')?.[0];
  if (!stackName) throw new DeployError(`no stack found in the cloud assembly ${assembly}`);
  const templateFile = path.join(assembly, `${stackName}.template.json`);
  if (!existsSync(templateFile)) throw new DeployError(`no template for stack ${stackName} in ${assembly}`);

  await runCdk(
    ['bootstrap', `aws://${target.accountId}/${target.region}`, '--app', assembly],
    env,
    options.log,
  );
  await runCdk(
    [
      'deploy',
      stackName,
      '--app',
      assembly,
      '--require-approval',
      'never',
      '--method=direct',
      '--progress',
      'events',
    ],
    env,
    options.log,
  );
  return describeDeployment(target, assembly, stackName);
}

/** A stack already deployed from `assembly` into `target`: its outputs (read from the target) and template. */
export async function describeDeployment(
  target: Target,
  assembly: string,
  stackName: string,
): Promise<DeployedStack> {
  const cfn = new CloudFormationClient({ endpoint: target.endpoint, region: target.region });
  const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: Record<string, string> = {};
  for (const o of described.Stacks?.[0]?.Outputs ?? []) {
    if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  }
  const templateFile = path.join(assembly, `${stackName}.template.json`);
  const template = JSON.parse(await readFile(templateFile, 'utf8')) as CfnTemplate;
  return { stackName, outputs, cloudAssemblyDir: assembly, template };
}
