/**
 * Synthesizes the real CDK app once for all integration test files; each file
 * then deploys that cloud assembly into its own fresh emulator.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/aws-env.ts';
import { PROJECT_ROOT, synthesize } from '../../local/deploy.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    assemblyDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // One folder per run: several test runs may synthesize at the same time.
  const outDir = path.join(PROJECT_ROOT, 'cdk.out', `test-assembly-${process.pid}`);
  await synthesize({
    target: { endpoint: 'http://localhost:1', region: LOCAL_REGION, accountId: LOCAL_ACCOUNT },
    outDir,
  });
  project.provide('assemblyDir', outDir);
  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
