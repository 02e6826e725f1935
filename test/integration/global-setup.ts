/**
 * Synthesizes the real CDK app once for all integration test files and deploys it, with the real
 * CDK CLI, into one emulator started `forkable`. Each test file then gets its own fork of that
 * emulator (harness.ts): a separate moto process on its own port, holding the deployed stack and
 * nothing else, exactly as if the file had deployed the same cloud assembly into a fresh emulator
 * itself, without paying for moto's start, `cdk bootstrap` and `cdk deploy` once per file.
 */
import type { TestProject } from 'vitest/node';
import { awsEnvFor, LOCAL_ACCOUNT, LOCAL_REGION, type Target } from '../../local/aws-env.ts';
import { deployStack } from '../../local/deploy.ts';
import { startEmulator } from '../../local/emulator.ts';
import { synthesizeCached } from '../../local/synth-cache.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    assemblyDir: string;
    /** The emulator holding the deployed default stack; test files fork it, never use it directly. */
    deployment: { endpoint: string; stackName: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The assembly `sundown local` deploys (synthesized once per set of sources and shared with it:
  // local/synth-cache.ts; concurrent runs never read half of one).
  const [outDir, emulator] = await Promise.all([
    synthesizeCached({
      target: { endpoint: 'http://localhost:1', region: LOCAL_REGION, accountId: LOCAL_ACCOUNT },
    }),
    startEmulator({ forkable: true }),
  ]);
  try {
    const target = { endpoint: emulator.endpoint, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT };
    const stack = await withAwsEnv(target, () => deployStack({ target, cloudAssemblyDir: outDir }));
    project.provide('assemblyDir', outDir);
    project.provide('deployment', { endpoint: emulator.endpoint, stackName: stack.stackName });
  } catch (err) {
    await emulator.stop();
    throw err;
  }
  return async () => {
    await emulator.stop();
  };
}

/**
 * Runs `fn` with the SDK environment of `target` (the deploy reads it, as in `sundown local`), then
 * restores this process's environment: the unit project's workers must not inherit an endpoint.
 */
async function withAwsEnv<T>(target: Target, fn: () => Promise<T>): Promise<T> {
  const env = { ...awsEnvFor(target), AWS_PROFILE: undefined, AWS_SESSION_TOKEN: undefined };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const assign = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  assign(env);
  try {
    return await fn();
  } finally {
    assign(saved);
  }
}
