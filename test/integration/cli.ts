/** Runs the real `sundown` CLI against a test deployment (asynchronously: the in-process handlers must keep serving). */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sundown } from './harness.ts';

const BIN = fileURLToPath(new URL('../../bin/sundown.mjs', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp working directory whose .sundown/local.json points at the test deployment (for --local). */
export function localWorkdir(sd: Sundown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sundown-cli-'));
  mkdirSync(path.join(dir, '.sundown'));
  writeFileSync(
    path.join(dir, '.sundown', 'local.json'),
    JSON.stringify({
      endpoint: sd.target.endpoint,
      region: sd.target.region,
      accountId: sd.target.accountId,
      stackName: sd.stack.stackName,
      outputs: sd.outputs,
      lambdaEndpoint: sd.runtime.lambdaEndpoint,
    }),
  );
  return dir;
}

export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
