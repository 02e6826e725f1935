/**
 * Synthesizes the real CDK app once for all integration test files; each file
 * then deploys that cloud assembly into its own fresh emulator.
 */
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/aws-env.ts';
import { PROJECT_ROOT, synthesize } from '../../local/deploy.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    assemblyDir: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const outDir = path.join(PROJECT_ROOT, 'cdk.out', 'test-assembly');
  await synthesize({
    target: { endpoint: 'http://localhost:1', region: LOCAL_REGION, accountId: LOCAL_ACCOUNT },
    outDir,
  });
  project.provide('assemblyDir', outDir);
}
