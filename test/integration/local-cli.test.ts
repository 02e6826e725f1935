/**
 * `sundown local` as a user runs it: `--once` deploys into a fresh emulator,
 * runs the demo and exits 0 leaving no emulator behind; `--no-demo --endpoint`
 * deploys into a running emulator, writes .sundown/local.json, processes
 * events while it runs, and exits 0 on SIGTERM.
 *
 * Quiet: with `--once`, an empty stderr means no handler logged an error (the
 * DLQs go away with its emulator); with `--no-demo --verbose`, stderr holds
 * every handler error and runtime report, and the DLQs are checked before exit.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { CredentialRegistry } from '../../lambdas/registry/credential-registry.ts';
import { ec2StateEvent, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { startEmulator } from '../../local/emulator.ts';
import { runCli } from './cli.ts';
import { dlqProblems } from './harness.ts';

const BIN = fileURLToPath(new URL('../../bin/sundown.mjs', import.meta.url));

/**
 * Lines of a `sundown local --verbose` stderr that report a handler error: Powertools log lines at level
 * ERROR or above, and anything that is not a structured log line (the runtime's error reports).
 */
function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .filter((line) => {
      try {
        const level = String((JSON.parse(line) as { level?: unknown }).level ?? '').toUpperCase();
        return level === 'ERROR' || level === 'CRITICAL' || level === 'FATAL';
      } catch {
        return true;
      }
    });
}

/**
 * Emulator processes whose Sundown parent is gone: orphans. (Other test files
 * may run their own emulators meanwhile; those have a live parent.)
 */
function orphanEmulators(): string[] {
  let pids: string[] = [];
  try {
    pids = execFileSync('pgrep', ['-f', 'moto_launcher.py'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const parent = env.find((e) => e.startsWith('SUNDOWN_PARENT_PID='))?.split('=')[1];
      return parent !== undefined && !existsSync(`/proc/${parent}`);
    } catch {
      return false; // exited while we looked
    }
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${seen}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}:\n${seen}`));
    });
  });
}

describe('sundown local', () => {
  it('--once deploys into a fresh emulator, runs the demo, exits 0 and leaves no emulator running', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'sundown-local-'));

    const res = await runCli(['local', '--once'], cwd);

    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Demo succeeded\./);
    expect(res.stdout).toMatch(/live workloads on the same role keep working/);
    const state = JSON.parse(readFileSync(path.join(cwd, '.sundown', 'local.json'), 'utf8'));
    expect(Object.keys(state)).toEqual(
      expect.arrayContaining(['endpoint', 'region', 'accountId', 'stackName', 'outputs']),
    );
    expect(Object.keys(state.outputs)).toEqual(
      expect.arrayContaining(['EventBusName', 'CredentialsTableName', 'AuditTableName']),
    );
    await new Promise((r) => setTimeout(r, 2_500)); // an orphan notices its parent is gone within a second
    expect(orphanEmulators()).toEqual([]);
  }, 300_000);

  it('--no-demo --endpoint deploys into a running emulator, processes events quietly, and exits 0 on SIGTERM', async () => {
    const emulator = await startEmulator();
    const cwd = mkdtempSync(path.join(tmpdir(), 'sundown-local-'));
    const child = spawn(
      process.execPath,
      [BIN, 'local', '--no-demo', '--verbose', '--endpoint', emulator.endpoint],
      {
        cwd,
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      await waitForLine(child, /Processing events/, 240_000);
      const statePath = path.join(cwd, '.sundown', 'local.json');
      expect(existsSync(statePath)).toBe(true);
      const state = JSON.parse(readFileSync(statePath, 'utf8'));
      expect(state.endpoint).toBe(emulator.endpoint);

      // An instance starts while `sundown local` runs: its session gets recorded.
      const config = {
        endpoint: emulator.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      };
      await ensureDemoRole(new IAMClient(config), 'live-role');
      const id = await launchInstance(new EC2Client(config), 'live-role');
      const target = { endpoint: emulator.endpoint, region: 'us-east-1', accountId: '123456789012' };
      await new EventBridgeClient(config).send(
        new PutEventsCommand({ Entries: [ec2StateEvent(id, 'running', target)] }),
      );
      const registry = new CredentialRegistry(
        DynamoDBDocumentClient.from(new DynamoDBClient(config)),
        state.outputs.CredentialsTableName,
      );
      const workloadId = `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
      const deadline = Date.now() + 60_000;
      while ((await registry.forWorkload(workloadId)).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await registry.forWorkload(workloadId)).map((c) => c.status)).toEqual(['active']);
      // Quiet: every DLQ empty, no handler error reported.
      expect(
        await dlqProblems(new SQSClient({ ...config, useQueueUrlAsEndpoint: false }), state.outputs),
      ).toEqual([]);
      expect(errorLines(stderr)).toEqual([]);

      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await emulator.stop();
    }
  }, 300_000);
});
